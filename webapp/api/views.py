"""Partner API, listings: thin adapters over webapp.listings services and selectors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.api import selectors
from webapp.api.errors import ApiError
from webapp.api.filters import LISTING_ORDERING_FIELDS, ListingFilter
from webapp.api.permissions import CanUpload, HasScope
from webapp.api.photo_urls import photo_urls_of, photos_download
from webapp.api.preconditions import (
    ETAG,
    IF_MATCH,
    IF_NONE_MATCH,
    LIST_ETAG,
    LIST_IF_NONE_MATCH,
    NOT_MODIFIED,
    PAGE_NOT_MODIFIED,
    PRECONDITION_FAILED,
    NotModified,
    body_etag,
    listing_conditions_check,
    listing_precondition,
    listing_representation,
)
from webapp.api.schema import DATABASE_UNAVAILABLE, ErrorResponseSerializer
from webapp.api.serializers import (
    ListingCreateSerializer,
    ListingDeclaredSerializer,
    ListingSerializer,
    PhotoAddedSerializer,
    PhotosUploadSerializer,
)
from webapp.api.usage import QUOTA_EXCEEDED, charged, quota_headers
from webapp.listings import services
from webapp.listings.models import Listing, Photo
from webapp.listings.services import PhotoAdded
from webapp.partners.models import UsageKind
from webapp.partners.usage import Charge

MAX_PHOTOS_PER_REQUEST = 30
STORAGE_UNAVAILABLE = OpenApiResponse(
    ErrorResponseSerializer,
    description="storage_unavailable: the photos could not be stored now (the photo store "
    "failed: a full disk, an I/O error); nothing was kept. Send them again after Retry-After."
    f"\n\n{DATABASE_UNAVAILABLE}",
)


def uploaded_photos(
    request: Request, *, listing: Listing | None = None, required: bool
) -> tuple[list, list[str]]:
    """The request's photo files (`photos`) and URLs (`photo_urls`), within the limits."""
    files = request.FILES.getlist("photos")
    urls = photo_urls_of(request)
    count = len(files) + len(urls)
    if required and not count:
        raise ValidationError(
            {"photos": ["send one or more files in `photos` or URLs in `photo_urls`"]},
            code="required",
        )
    if count > MAX_PHOTOS_PER_REQUEST:
        raise ApiError(
            status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            code="too_many_files",
            detail=f"at most {MAX_PHOTOS_PER_REQUEST} photos per request",
        )
    stored = Photo.objects.filter(listing=listing).count() if listing is not None else 0
    if stored + count > settings.LISTING_MAX_PHOTOS:
        raise ApiError(
            status_code=status.HTTP_400_BAD_REQUEST,
            code="too_many_photos",
            detail=f"a listing holds at most {settings.LISTING_MAX_PHOTOS} photos "
            f"({stored} stored)",
        )
    return files, urls


@contextmanager
def photos_charged(
    request: Request, *, listing: Listing | None = None, required: bool
) -> Iterator[tuple[list, Charge | None]]:
    """The request's photos, its files and those fetched from its URLs, charged against its
    partner's quota (the charge is None without photos; given back if the block raises). A
    photo refused raises PhotoRejected, which the API's exception handler answers."""
    files, urls = uploaded_photos(request, listing=listing, required=required)
    with charged(request, kind=UsageKind.PHOTO, count=len(files) + len(urls)) as charge:
        yield files + photos_download(urls, field="photo_urls", owner_id=request.user.pk), charge


def listing_exists(request: Request, *, listing_id: int) -> ApiError:
    """409 for a marketplace id taken; the listing's URL in Location if the caller may see it."""
    detail = "a listing with this marketplace_id exists already"
    headers = {}
    if selectors.listing_get_visible(user=request.user, listing_id=listing_id) is not None:
        detail += ": yours, at Location (GET it, or PATCH what changed)"
        headers["Location"] = request.build_absolute_uri(
            reverse("api:listing-detail", kwargs={"pk": listing_id})
        )
    return ApiError(
        status_code=status.HTTP_409_CONFLICT, code="duplicate", detail=detail, headers=headers
    )


LISTING_EXISTS = OpenApiResponse(
    ErrorResponseSerializer,
    description="duplicate: a listing holds this marketplace_id already; nothing was stored or "
    "charged. Location gives its URL when the listing is yours.",
)


def listing_visible(view: APIView, request: Request, pk: int) -> Listing:
    """The listing `pk` if the caller may see it and act on it (404 or 403 otherwise): its row
    alone, for a change (the answer, where there is one, reads the listing afresh)."""
    listing = selectors.listing_row_visible(user=request.user, listing_id=pk)
    if listing is None:
        raise Http404
    view.check_object_permissions(request, listing)
    return listing


def new_ones_kept(charge: Charge | None, added: list[PhotoAdded]) -> None:
    """Keep the charge for the photos stored now only: a duplicate is not read again."""
    if charge is not None:
        charge.keep(sum(item.created for item in added))


class ListingListCreate(generics.ListAPIView):
    """Your listings, newest first, with their photos, readings and flags."""

    permission_classes = [CanUpload, HasScope]
    scopes = {"GET": "read", "POST": "write"}
    serializer_class = ListingSerializer
    parser_classes = [MultiPartParser, FormParser]
    filterset_class = ListingFilter
    ordering_fields = LISTING_ORDERING_FIELDS
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return selectors.listing_list_visible(user=self.request.user)

    def get_serializer_class(self):
        # OPTIONS describes POST with this too, so its fields show as writable.
        if self.request is not None and self.request.method == "POST":
            return ListingCreateSerializer
        return ListingSerializer

    @extend_schema(
        parameters=[LIST_IF_NONE_MATCH, LIST_ETAG],
        responses={200: ListingSerializer(many=True), 304: PAGE_NOT_MODIFIED},
    )
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        """A page carries its ETag: a partner polling its listings (`updated_since`, a cursor)
        sends it back in If-None-Match and gets a 304 with no body until something changed."""
        response = self.list(request, *args, **kwargs)
        etag = body_etag(response.data, request=request)
        try:
            listing_conditions_check(request, etag=etag)
        except NotModified:
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        response["ETag"] = etag
        return response

    @extend_schema(
        request=ListingCreateSerializer,
        responses={
            201: ListingSerializer,
            409: LISTING_EXISTS,
            429: QUOTA_EXCEEDED,
            503: STORAGE_UNAVAILABLE,
        },
        description="Create a listing with its photos in one multipart request, as files "
        "(`photos`) or URLs the server fetches (`photo_urls`); one bad photo or URL rejects the "
        "whole request and nothing is stored. A `marketplace_id` taken already is a 409, with "
        "the listing's URL in Location when it is yours: a create retried after its answer was "
        "lost finds the listing it made.",
    )
    def post(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        declared = services.ListingDeclared(
            make=data["declared_make"],
            model=data["declared_model"],
            colour=data["declared_colour"],
            year=data["declared_year"],
            plate=data["declared_plate"],
            vin=data["declared_vin"],
        )
        taken = selectors.listing_id_taken(marketplace_id=data["marketplace_id"])
        if taken is not None:  # before any photo is fetched or charged
            raise listing_exists(request, listing_id=taken)
        try:
            with photos_charged(request, required=False) as (photos, charge):
                listing, added = services.listing_create(
                    marketplace_id=data["marketplace_id"],
                    owner=request.user,
                    declared=declared,
                    photos=photos,
                )
                new_ones_kept(charge, added)  # the same bytes twice in one request are one photo
        except services.ListingExists as exc:  # a create racing this one won
            raise listing_exists(request, listing_id=exc.listing.pk) from exc
        listing = selectors.listing_get_visible(user=request.user, listing_id=listing.pk)
        body = ListingSerializer(listing, context={"request": request}).data
        response = Response(body, status=status.HTTP_201_CREATED)
        return quota_headers(response, charge.quota if charge else None)


class ListingDetail(generics.RetrieveAPIView):
    """One of your listings; PATCH changes what the seller declares, DELETE removes it. Each
    answer carries the listing's ETag; If-None-Match and If-Match make a request conditional
    (webapp/api/preconditions.py)."""

    permission_classes = [CanUpload, HasScope]
    scopes = {"GET": "read", "PATCH": "write", "DELETE": "write"}
    serializer_class = ListingSerializer
    filter_backends: list = []  # one listing: nothing to filter or order
    parser_classes = [JSONParser, FormParser, MultiPartParser]
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.listing_list_visible(user=self.request.user)

    @extend_schema(
        parameters=[IF_NONE_MATCH, ETAG],
        responses={200: ListingSerializer, 304: NOT_MODIFIED, 412: PRECONDITION_FAILED},
    )
    def get(self, request: Request, pk: int) -> Response:
        return self._shown(request, self.get_object())

    @extend_schema(
        request=ListingDeclaredSerializer,
        parameters=[IF_MATCH, ETAG],
        responses={200: ListingSerializer, 412: PRECONDITION_FAILED},
        description="Change what the seller declares (the declared_* fields sent; the others "
        "stay). A change checks the listing against the register again: its `status`, flags "
        "and `check` follow within seconds (and so its ETag), and the usual webhooks tell. The "
        "same values again change nothing. With If-Match, only if the listing is still as "
        "read.",
    )
    def patch(self, request: Request, pk: int) -> Response:
        listing = listing_visible(self, request, pk)
        serializer = ListingDeclaredSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            services.listing_declared_update(
                listing_id=listing.pk,
                changes=serializer.validated_data,
                by=request.user,
                precondition=listing_precondition(request),
            )
        except Listing.DoesNotExist as exc:  # deleted meanwhile
            raise Http404 from exc
        body, etag = listing_representation(self.get_object(), request=request)
        return Response(body, headers={"ETag": etag})

    @extend_schema(
        parameters=[IF_MATCH],
        responses={204: OpenApiResponse(description="deleted"), 412: PRECONDITION_FAILED},
        description="Delete the listing (gone from the marketplace): its photos, their "
        "readings and its flags go with it; the photo files within a day (the orphaned-media "
        "sweep). Moderators' decisions stay in their audit log. With If-Match, only if the "
        "listing is still as read.",
    )
    def delete(self, request: Request, pk: int) -> Response:
        listing = listing_visible(self, request, pk)
        try:
            services.listing_delete(
                listing_id=listing.pk, precondition=listing_precondition(request)
            )
        except Listing.DoesNotExist as exc:
            raise Http404 from exc
        return Response(status=status.HTTP_204_NO_CONTENT)

    @staticmethod
    def _shown(request: Request, listing: Listing) -> Response:
        body, etag = listing_representation(listing, request=request)
        try:
            listing_conditions_check(request, etag=etag)
        except NotModified:
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        return Response(body, headers={"ETag": etag})


class ListingPhotos(APIView):
    permission_classes = [CanUpload, HasScope]
    scopes = {"POST": "write"}
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request=PhotosUploadSerializer,
        responses={
            200: OpenApiResponse(PhotoAddedSerializer(many=True), description="all duplicates"),
            201: PhotoAddedSerializer(many=True),
            429: QUOTA_EXCEEDED,
            503: STORAGE_UNAVAILABLE,
        },
        description="Add photos to a listing, as files (`photos`) or URLs the server fetches "
        "(`photo_urls`); the same bytes twice are stored once.",
    )
    def post(self, request: Request, pk: int) -> Response:
        listing = listing_visible(self, request, pk)
        with photos_charged(request, listing=listing, required=True) as (photos, charge):
            added = services.photos_add(listing=listing, uploads=photos, by=request.user)
            new_ones_kept(charge, added)  # a photo the listing holds already is not read again
        for item in added:
            item.photo.duplicate = not item.created  # type: ignore[attr-defined]
        body = PhotoAddedSerializer(
            [i.photo for i in added], many=True, context={"request": request}
        ).data
        created = any(item.created for item in added)
        response = Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
        return quota_headers(response, charge.quota if charge else None)


class ListingPhoto(APIView):
    permission_classes = [CanUpload, HasScope]
    scopes = {"DELETE": "write"}
    http_method_names = ["delete", "options"]

    @extend_schema(
        parameters=[IF_MATCH],
        responses={204: OpenApiResponse(description="removed"), 412: PRECONDITION_FAILED},
        description="Take one photo off the listing (the seller removed it), with its readings. "
        "The listing is checked against the register again: a flag only that photo gave goes, "
        "and the usual webhooks tell. Moderators see the removal among the seller's changes. "
        "With If-Match (the listing's ETag), only if the listing is still as read.",
    )
    def delete(self, request: Request, pk: int, photo_id: int) -> Response:
        listing = listing_visible(self, request, pk)
        try:
            services.photo_remove(
                listing_id=listing.pk,
                photo_id=photo_id,
                by=request.user,
                precondition=listing_precondition(request),
            )
        except (Listing.DoesNotExist, Photo.DoesNotExist) as exc:
            raise Http404 from exc
        return Response(status=status.HTTP_204_NO_CONTENT)
