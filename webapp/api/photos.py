"""Photos are private: served only to staff and the listing's owner, through Django's check.

In production nginx sends the bytes: the view answers with X-Accel-Redirect to an `internal`
location (PHOTO_ACCEL_REDIRECT_PREFIX), so nothing under MEDIA_ROOT is reachable directly.
"""

from __future__ import annotations

import mimetypes

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from webapp.api.permissions import HasScope
from webapp.listings.models import Photo


def photo_get_visible(
    *, user: AbstractBaseUser | AnonymousUser, photo_id: int | None = None, name: str = ""
) -> Photo | None:
    if not user.is_authenticated:
        return None
    photos = Photo.objects.select_related("listing")
    if not user.is_staff:
        photos = photos.filter(listing__owner=user)
    photos = photos.filter(pk=photo_id) if photo_id is not None else photos.filter(image=name)
    return photos.first()


def photo_response(photo: Photo) -> HttpResponse:
    name = photo.image.name
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    prefix = settings.PHOTO_ACCEL_REDIRECT_PREFIX
    if prefix:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = f"{prefix.rstrip('/')}/{name}"
    else:
        response = FileResponse(photo.image.open("rb"), content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response


class PhotoFile(APIView):
    """The photo's bytes, for its listing's owner (and staff)."""

    permission_classes = [HasScope]
    scopes = {"GET": "read"}

    @extend_schema(
        responses={
            (200, "image/*"): OpenApiResponse(OpenApiTypes.BINARY, description="the photo"),
        }
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        photo = photo_get_visible(user=request.user, photo_id=pk)
        if photo is None:
            raise Http404
        return photo_response(photo)


def media_serve(request: HttpRequest, path: str) -> HttpResponse:
    """/media/<path> for the review pages and the admin: the same check as the API."""
    photo = photo_get_visible(user=request.user, name=path)
    if photo is None:
        raise Http404
    return photo_response(photo)
