"""Who may use the review pages: members of the Moderators group."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext

from webapp.review.models import MODERATORS_GROUP

View = Callable[..., HttpResponse]


def is_moderator(user: Any) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    # Cached on the user object: a page asks once per request, not once per template check.
    cached = getattr(user, "_review_is_moderator", None)
    if cached is None:
        cached = user.groups.filter(name=MODERATORS_GROUP).exists()
        user._review_is_moderator = cached
    return cached


def moderator_required(view: View) -> View:
    """Anonymous users go to the login page; signed-in non-moderators get a 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_moderator(request.user):
            raise PermissionDenied(gettext("The review pages are for moderators."))
        return view(request, *args, **kwargs)

    return wrapper
