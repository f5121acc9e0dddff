"""Partner API: thin adapters over webapp.listings services and selectors."""

from __future__ import annotations

from django.http import Http404
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.api.permissions import CanUpload
from webapp.api.serializers import ListingCreateSerializer, ListingSerializer, PhotoSerializer
from webapp.listings import selectors, services
from webapp.listings.models import Listing
from webapp.listings.validation import PhotoRejected

# Oversized uploads are 413 and unknown content 415; every other rejection is a plain 400.
_REJECTION_STATUS = {
    "too_large": status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    "unsupported_type": status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
}
MAX_PHOTOS_PER_REQUEST = 30


def rejection_response(exc: PhotoRejected) -> Response:
    return Response(
        {"detail": exc.reason, "code": exc.code},
        status=_REJECTION_STATUS.get(exc.code, status.HTTP_400_BAD_REQUEST),
    )


def uploaded_photos(request: Request, *, required: bool) -> list:
    files = request.FILES.getlist("photos")
    if required and not files:
        raise ValidationError({"photos": ["send one or more files in the `photos` field"]})
    if len(files) > MAX_PHOTOS_PER_REQUEST:
        raise ValidationError({"photos": [f"at most {MAX_PHOTOS_PER_REQUEST} photos per request"]})
    return files


class ListingListCreate(generics.ListAPIView):
    permission_classes = [CanUpload]
    serializer_class = ListingSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get_queryset(self):
        return selectors.listing_list_visible(user=self.request.user)

    def post(self, request: Request) -> Response:
        serializer = ListingCreateSerializer(data=request.data)
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
        try:
            listing, _ = services.listing_create(
                marketplace_id=data["marketplace_id"],
                owner=request.user,
                declared=declared,
                photos=uploaded_photos(request, required=False),
            )
        except PhotoRejected as exc:
            return rejection_response(exc)
        listing = selectors.listing_get_visible(user=request.user, listing_id=listing.pk)
        body = ListingSerializer(listing, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)


class ListingDetail(generics.RetrieveAPIView):
    permission_classes = [CanUpload]
    serializer_class = ListingSerializer

    def get_queryset(self):
        return selectors.listing_list_visible(user=self.request.user)


class ListingPhotos(APIView):
    permission_classes = [CanUpload]
    parser_classes = [MultiPartParser, FormParser]

    def post(self, request: Request, pk: int) -> Response:
        listing = self._listing(request, pk)
        try:
            added = services.photos_add(
                listing=listing, uploads=uploaded_photos(request, required=True)
            )
        except PhotoRejected as exc:
            return rejection_response(exc)
        context = {"request": request}
        body = [
            {**PhotoSerializer(item.photo, context=context).data, "duplicate": not item.created}
            for item in added
        ]
        created = any(item.created for item in added)
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def _listing(self, request: Request, pk: int) -> Listing:
        listing = selectors.listing_get_visible(user=request.user, listing_id=pk)
        if listing is None:
            raise Http404
        self.check_object_permissions(request, listing)
        return listing
