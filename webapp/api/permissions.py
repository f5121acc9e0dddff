from __future__ import annotations

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from webapp.listings.models import Listing


class CanUpload(BasePermission):
    """Staff, and partner accounts given `listings.add_listing` (the `partners` group)."""

    message = "this account may not upload listings"

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return bool(user and user.is_authenticated)
        return bool(
            user
            and user.is_authenticated
            and (user.is_staff or user.has_perm("listings.add_listing"))
        )

    def has_object_permission(self, request: Request, view: APIView, obj: Listing) -> bool:
        return bool(request.user.is_staff or obj.owner_id == request.user.pk)
