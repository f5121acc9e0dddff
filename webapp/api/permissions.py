from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from webapp.listings.models import Listing
from webapp.partners.models import PartnerToken


class CanUpload(BasePermission):
    """Staff, and partner accounts given `listings.add_listing` (the `partners` group)."""

    message = "this account may not upload listings"

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if request.method in SAFE_METHODS:
            return bool(user and user.is_authenticated)
        return bool(
            user
            and user.is_authenticated
            and (user.is_staff or user.has_perm("listings.add_listing"))
        )

    def has_object_permission(self, request: Request, view: APIView, obj: Listing) -> bool:
        return bool(request.user.is_staff or obj.owner_id == request.user.pk)


def token_scopes(request: Request) -> frozenset[str] | None:
    """The scopes of the token the request came with; None for a logged-in session (all)."""
    if isinstance(request.auth, PartnerToken):
        return frozenset(request.auth.scopes)
    return None


# Managing the token itself (list, rotate, revoke) needs a valid token, whatever its scopes.
ANY_SCOPE = "any"


class HasScope(BasePermission):
    """The view names the scope per method (`scopes = {"GET": "read", "POST": "write"}`), or
    one scope for all (`scopes = {"*": "webhooks"}`); a token without it gets 403."""

    message = "this token lacks the scope this request needs"
    code = "missing_scope"

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if not hasattr(view, request.method.lower()):
            return True  # the view answers 405 for a method it does not have
        wanted = getattr(view, "scopes", {})
        method = "GET" if request.method in ("HEAD", "OPTIONS") else request.method
        scope = wanted.get(method) or wanted.get("*")
        have = token_scopes(request)
        if scope is None:
            return have is None  # a view that names no scope is for sessions only
        return have is None or scope == ANY_SCOPE or scope in have
