"""Photos are private: served only to staff and the listing's owner, through Django's check.

In production nginx sends the bytes: the view answers with X-Accel-Redirect to an `internal`
location (PHOTO_ACCEL_REDIRECT_PREFIX), so nothing under MEDIA_ROOT is reachable directly.
"""

from __future__ import annotations

import mimetypes

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.views import APIView

from recognition.pipeline import redact
from recognition.redaction import (
    NotRedactable,
    photo_redactable,
    photo_redacted,
    redacted_etag,
)
from webapp.api.errors import ApiError
from webapp.api.permissions import HasScope
from webapp.api.schema import ErrorResponseSerializer
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


def style_field() -> serializers.ChoiceField:
    """How a copy fit to publish hides its plates (this endpoint's and `redact/`'s)."""
    return serializers.ChoiceField(
        choices=redact.STYLES,
        default="blur",
        help_text="blur: each plate coarsened past reading, then smoothed; fill: painted over in "
        "its own mean colour",
    )


class RedactedQuerySerializer(serializers.Serializer):
    style = style_field()


class PhotoRedacted(APIView):
    """The photo fit to publish: every place a plate may be hidden, the read plates and every
    detection scored 0.3 or more whatever it read (a plate from outside the deployment's regions
    is a plate all the same), each outline grown by a quarter of the plate's height. Same format
    as the photo, no metadata. Only for a photo that has been read: until then where its plates
    are is not known (409). The ETag changes when the photo is read again."""

    permission_classes = [HasScope]
    scopes = {"GET": "read"}

    @extend_schema(
        parameters=[RedactedQuerySerializer],
        responses={
            (200, "image/*"): OpenApiResponse(
                OpenApiTypes.BINARY, description="the photo with its plates hidden"
            ),
            304: OpenApiResponse(description="If-None-Match holds the current ETag"),
            (409, "application/json"): OpenApiResponse(
                ErrorResponseSerializer,
                description="not_read_yet (pending or being read: try again after "
                "Retry-After), recognition_failed or read_again (read before the places to "
                "hide were kept): no copy until the photo is read again",
            ),
        },
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        query = RedactedQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        style = query.validated_data["style"]
        photo = photo_get_visible(user=request.user, photo_id=pk)
        if photo is None:
            raise Http404
        try:
            photo_redactable(photo)
        except NotRedactable as exc:
            wait = REDACTED_RETRY_AFTER_S if exc.code == "not_read_yet" else None
            raise ApiError(status_code=409, code=exc.code, detail=exc.detail, wait=wait) from exc
        etag = redacted_etag(photo, style)
        if etag in request.headers.get("If-None-Match", ""):
            response = HttpResponseNotModified()
        else:
            try:
                copy = photo_redacted(photo, style=style)
            except OSError as exc:  # the file is gone from the store, or unreadable there
                raise Http404("the photo file is missing") from exc
            response = HttpResponse(copy.data, content_type=copy.content_type)
            response["Content-Disposition"] = f'inline; filename="{copy.filename}"'
        response["ETag"] = etag
        response["Cache-Control"] = "private, max-age=3600"
        return response


# A photo waiting to be read usually is within a minute (the queue's worst case is longer).
REDACTED_RETRY_AFTER_S = 30


def media_serve(request: HttpRequest, path: str) -> HttpResponse:
    """/media/<path> for the review pages and the admin: the same check as the API."""
    photo = photo_get_visible(user=request.user, name=path)
    if photo is None:
        raise Http404
    return photo_response(photo)
