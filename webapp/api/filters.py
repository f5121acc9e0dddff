"""Listing filters (django-filter), ordering and cursor pagination for the partner API."""

from __future__ import annotations

from datetime import UTC

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django_filters.fields import IsoDateTimeField
from rest_framework.pagination import CursorPagination

from recognition.pipeline.regions import normalise_plate
from webapp.checks.models import Flag
from webapp.listings.models import Listing, Photo


class ApiCursorPagination(CursorPagination):
    """Stable pages while rows are added; `page_size` up to MAX."""

    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class ListingStatus:
    PROCESSING = "processing"  # a photo is still waiting for or in recognition
    FLAGGED = "flagged"  # an open flag waits for a moderator
    CONFIRMED = "confirmed"  # a moderator confirmed a flag
    CLEAR = "clear"  # recognised, no open or confirmed flag

    choices = (
        (PROCESSING, "processing"),
        (FLAGGED, "flagged"),
        (CONFIRMED, "confirmed"),
        (CLEAR, "clear"),
    )


def _has_flag(status: str) -> Exists:
    return Exists(Flag.objects.filter(listing=OuterRef("pk"), status=status))


def _has_unread_photo() -> Exists:
    return Exists(
        Photo.objects.filter(
            listing=OuterRef("pk"), status__in=[Photo.Status.PENDING, Photo.Status.PROCESSING]
        )
    )


class UtcIsoDateTimeField(IsoDateTimeField):
    """ISO 8601 in any offset, turned into UTC: PostgreSQL refuses offsets beyond 15:59."""

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None or parsed.tzinfo is None:
            return parsed
        try:
            return parsed.astimezone(UTC)
        except OverflowError as exc:
            raise ValidationError("the time is out of range", code="invalid") from exc


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class ListingFilter(django_filters.FilterSet):
    marketplace_id = django_filters.CharFilter(help_text="exact marketplace id")
    status = django_filters.ChoiceFilter(
        choices=ListingStatus.choices, method="filter_status", help_text="the listing's state"
    )
    flag_kind = django_filters.ChoiceFilter(
        choices=Flag.Kind.choices, method="filter_flag_kind", help_text="has a flag of this kind"
    )
    plate = django_filters.CharFilter(
        method="filter_plate", help_text="declared, read or flagged plate (spaces ignored)"
    )
    updated_since = UtcIsoDateTimeFilter(
        method="filter_updated_since",
        help_text="the listing, one of its photos or flags changed at or after this time",
    )

    class Meta:
        model = Listing
        fields = ["marketplace_id", "status", "flag_kind", "plate", "updated_since"]

    def filter_status(self, queryset: QuerySet[Listing], name: str, value: str):
        if value == ListingStatus.PROCESSING:
            return queryset.filter(_has_unread_photo())
        if value == ListingStatus.FLAGGED:
            return queryset.filter(_has_flag(Flag.Status.OPEN))
        if value == ListingStatus.CONFIRMED:
            return queryset.filter(_has_flag(Flag.Status.CONFIRMED))
        return queryset.exclude(_has_unread_photo()).exclude(
            _has_flag(Flag.Status.OPEN) | _has_flag(Flag.Status.CONFIRMED)
        )

    def filter_flag_kind(self, queryset: QuerySet[Listing], name: str, value: str):
        return queryset.filter(Exists(Flag.objects.filter(listing=OuterRef("pk"), kind=value)))

    def filter_plate(self, queryset: QuerySet[Listing], name: str, value: str):
        plate = normalise_plate(value)
        if not plate:
            return queryset.none()
        return queryset.filter(
            Q(declared_plate__iexact=plate)
            | Exists(Flag.objects.filter(listing=OuterRef("pk"), plate_text=plate))
            | Exists(Photo.objects.filter(listing=OuterRef("pk"), readings__plate_text=plate))
        )

    def filter_updated_since(self, queryset: QuerySet[Listing], name: str, value):
        return queryset.filter(
            Q(updated_at__gte=value)
            | Exists(Photo.objects.filter(listing=OuterRef("pk"), updated_at__gte=value))
            | Exists(Flag.objects.filter(listing=OuterRef("pk"), updated_at__gte=value))
        )


LISTING_ORDERING_FIELDS = ["created_at", "updated_at", "marketplace_id", "id"]
