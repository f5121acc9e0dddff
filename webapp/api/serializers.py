"""Listing, photo, reading and flag shapes for partners: their own data, nothing of others'."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from recognition.models import Reading
from webapp.api.photo_urls import photo_urls_field
from webapp.checks.models import Flag
from webapp.checks.verdicts import ListingState, listing_check
from webapp.listings.models import Listing, Photo

ANOTHER_LISTING = "another listing"

# Engine and worker error text stays with the team; a partner gets one of these codes.
_ERROR_CODES = (
    ("engine unavailable", "engine_unavailable"),
    ("gave up after", "gave_up"),
    ("retrying", "retrying"),
    ("time limit", "timeout"),
    ("cannot read the stored photo", "unreadable_photo"),
)


def photo_error_code(last_error: str) -> str:
    if not last_error:
        return ""
    text = last_error.lower()
    return next((code for marker, code in _ERROR_CODES if marker in text), "recognition_failed")


class ReadingSerializer(serializers.ModelSerializer):
    class Meta:
        model = Reading
        fields = [
            "id", "model_version", "source", "plate_text", "plate_format", "confidence",
            "char_confidences", "alternatives", "corners", "box", "detection_score", "timings",
            "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class PlateAreaSerializer(serializers.Serializer):
    corners = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2),
        help_text="top left, top right, bottom right, bottom left, in photo pixels",
    )
    score = serializers.FloatField(help_text="the detector's score")
    read = serializers.BooleanField(help_text="a plate of the regions was read here")


class PhotoSerializer(serializers.ModelSerializer):
    readings = ReadingSerializer(many=True, read_only=True)
    plate_areas = PlateAreaSerializer(
        many=True,
        read_only=True,
        allow_null=True,
        help_text="where a plate may be (read or not): what the redacted copy hides; null until "
        "the photo is read",
    )
    image = serializers.SerializerMethodField(help_text="the photo, for its listing's owner only")
    redacted = serializers.SerializerMethodField(
        help_text="the photo with its plates hidden, fit to publish; empty until it is read"
    )
    error_code = serializers.SerializerMethodField(
        help_text="why recognition failed: engine_unavailable, gave_up, retrying, timeout, "
        "unreadable_photo, recognition_failed; empty when it did not"
    )

    class Meta:
        model = Photo
        fields = [
            "id", "image", "redacted", "sha256", "width", "height", "status", "attempts",
            "error_code", "model_version", "created_at", "processed_at", "plate_areas",
            "readings",
        ]  # fmt: skip
        read_only_fields = fields

    def get_image(self, photo: Photo) -> str:
        url = reverse("api:photo-file", kwargs={"pk": photo.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url

    def get_redacted(self, photo: Photo) -> str:
        if photo.status != Photo.Status.DONE or photo.plate_areas is None:
            return ""
        url = reverse("api:photo-redacted", kwargs={"pk": photo.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url

    def get_error_code(self, photo: Photo) -> str:
        return photo_error_code(photo.last_error)


# A watch-list entry's fields a partner never sees: who reported it, the staff's note, its id.
WATCH_INTERNAL = frozenset({"source", "note", "watch_entry"})


def evidence_for(*, flag: Flag, user: Any, owners: dict[int, int | None]) -> dict[str, Any]:
    """Staff see the evidence as stored; a partner sees other partners' listings as
    "another listing", without their ids, and of a watch-list entry only why and since when
    (who reported it and the staff's note stay inside)."""
    evidence = flag.evidence or {}
    if getattr(user, "is_staff", False):
        return evidence
    if flag.kind in (Flag.Kind.PLATE_WATCHED, Flag.Kind.VIN_WATCHED):
        return {k: v for k, v in evidence.items() if k not in WATCH_INTERNAL}
    if flag.kind != Flag.Kind.PLATE_ON_OTHER_LISTING:
        return evidence
    listings = []
    for item in evidence.get("listings", []):
        if owners.get(item.get("listing_id")) == user.pk:
            listings.append(item)
        else:
            listings.append({"listing": ANOTHER_LISTING, "via": item.get("via", "")})
    return {**evidence, "listings": listings}


def _evidence_listing_ids(flag: Flag) -> list[int]:
    items = (flag.evidence or {}).get("listings", [])
    return [i["listing_id"] for i in items if isinstance(i, dict) and i.get("listing_id")]


def evidence_owners(*, flags: Iterable[Flag], user: Any) -> dict[int, int | None]:
    """The owners of the listings the flags' evidence names, in one query: what
    `evidence_for` needs to tell a partner's own listings from others'. Staff see the evidence
    as stored, and only flags about other listings name any, so most pages need no query."""
    if getattr(user, "is_staff", False):
        return {}
    ids = {
        listing_id
        for flag in flags
        if flag.kind == Flag.Kind.PLATE_ON_OTHER_LISTING
        for listing_id in _evidence_listing_ids(flag)
    }
    if not ids:
        return {}
    return dict(Listing.objects.filter(pk__in=ids).values_list("pk", "owner_id"))


# Serializer context key: the owners of every listing the serialized flags' evidence names.
EVIDENCE_OWNERS = "evidence_owners"


class FlagSerializer(serializers.ModelSerializer):
    evidence = serializers.SerializerMethodField()

    class Meta:
        model = Flag
        fields = [
            "id", "kind", "key", "severity", "evidence", "status", "plate_text", "plate_format",
            "reviewed_at", "created_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.DictField())
    def get_evidence(self, flag: Flag) -> dict[str, Any]:
        request = self.context.get("request")
        user = getattr(request, "user", None)
        owners = self.context.get(EVIDENCE_OWNERS)
        if owners is None:  # a flag serialized on its own
            owners = evidence_owners(flags=[flag], user=user)
        return evidence_for(flag=flag, user=user, owners=owners)


def _with_evidence_owners(serializer: serializers.BaseSerializer, listings: list[Listing]) -> None:
    """Looks up, once for all `listings`, the owners their flags' evidence needs (see
    `evidence_owners`), unless the serializer's context already holds them."""
    context = serializer.context
    if EVIDENCE_OWNERS in context or not listings:
        return
    user = getattr(context.get("request"), "user", None)
    flags = [flag for listing in listings for flag in listing.flags.all()]
    context[EVIDENCE_OWNERS] = evidence_owners(flags=flags, user=user)


class ListingListSerializer(serializers.ListSerializer):
    def to_representation(self, data: Any) -> list[Any]:
        listings = list(data.all() if hasattr(data, "all") else data)
        _with_evidence_owners(self, listings)
        return super().to_representation(listings)


class VerdictSerializer(serializers.Serializer):
    """`registry.crosscheck_verdict.Verdict`: whether the register vouches for the declared car,
    and what that rests on."""

    verified = serializers.BooleanField(
        help_text="a plate read surely on the photos has the declared car as its current "
        "register record (for a listing: and it is clear)"
    )
    reason = serializers.CharField(
        help_text="why not verified: no_plate, plate_unsure, not_in_register, "
        "plate_deregistered, car_differs or car_not_compared (a listing's also: the state when "
        "not clear, not_checked, plate_not_on_photos); empty when verified"
    )
    plate = serializers.CharField(help_text="the plate the check went by")
    plate_confidence = serializers.FloatField()
    register = serializers.DictField(
        allow_null=True, help_text="the register record compared with the declared car"
    )
    fields = serializers.DictField(
        child=serializers.CharField(),
        allow_null=True,
        help_text="make, model, colour, year: match, soft, mismatch or unknown",
    )


class ListingCheckSerializer(VerdictSerializer):
    """`webapp.checks.verdicts.ListingCheck`: where the listing's check stands, and whether the
    register vouches for the car."""

    state = serializers.ChoiceField(
        choices=ListingState.choices, help_text="as the listings' `status` filter"
    )
    plate_source = serializers.CharField(help_text="photos, declared or vin")
    checked_at = serializers.DateTimeField(allow_null=True)


class ListingSerializer(serializers.ModelSerializer):
    photos = PhotoSerializer(many=True, read_only=True)
    flags = FlagSerializer(many=True, read_only=True)
    owner = serializers.CharField(source="owner.username", read_only=True, default=None)
    check = serializers.SerializerMethodField()

    class Meta:
        model = Listing
        fields = [
            "id", "marketplace_id", "owner", "declared_make", "declared_model",
            "declared_colour", "declared_year", "declared_plate", "declared_vin", "created_at",
            "updated_at", "check", "photos", "flags",
        ]  # fmt: skip
        read_only_fields = fields
        list_serializer_class = ListingListSerializer

    @extend_schema_field(ListingCheckSerializer)
    def get_check(self, listing: Listing) -> dict[str, Any]:
        return ListingCheckSerializer(listing_check(listing)).data

    def to_representation(self, instance: Listing) -> dict[str, Any]:
        _with_evidence_owners(self, [instance])
        return super().to_representation(instance)


class ListingDeclaredSerializer(serializers.Serializer):
    """What the seller declares; in a PATCH, only the fields sent change."""

    declared_make = serializers.CharField(
        max_length=64, required=False, default="", allow_blank=True
    )
    declared_model = serializers.CharField(
        max_length=64, required=False, default="", allow_blank=True
    )
    declared_colour = serializers.CharField(
        max_length=64, required=False, default="", allow_blank=True
    )
    declared_year = serializers.IntegerField(
        min_value=1900, max_value=2100, required=False, allow_null=True, default=None
    )
    declared_plate = serializers.CharField(
        max_length=16, required=False, default="", allow_blank=True
    )
    declared_vin = serializers.CharField(
        max_length=17, required=False, default="", allow_blank=True
    )


class ListingCreateSerializer(ListingDeclaredSerializer):
    """A multipart create: the listing's fields, and its photos as files in `photos`."""

    marketplace_id = serializers.CharField(max_length=64)
    photos = serializers.ListField(
        child=serializers.FileField(), required=False, write_only=True,
        help_text="JPEG, PNG or WebP files; see the photo limits in the description",
    )  # fmt: skip
    photo_urls = photo_urls_field()


class PhotosUploadSerializer(serializers.Serializer):
    """Files in `photos`, URLs in `photo_urls`, or both: at least one photo."""

    photos = serializers.ListField(child=serializers.FileField(), required=False)
    photo_urls = photo_urls_field()


class PhotoAddedSerializer(PhotoSerializer):
    duplicate = serializers.BooleanField(help_text="the same bytes were already on the listing")

    class Meta(PhotoSerializer.Meta):
        fields = [*PhotoSerializer.Meta.fields, "duplicate"]
        read_only_fields = fields
