"""Listing filters (django-filter), ordering and cursor pagination for the partner API."""

from __future__ import annotations

import re
from datetime import UTC

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django_filters.fields import IsoDateTimeField
from rest_framework.filters import OrderingFilter
from rest_framework.pagination import CursorPagination

from recognition.pipeline.regions import normalise_plate
from recognition.pipeline.regions.text import CYRILLIC_TO_LATIN
from webapp.checks.models import Flag
from webapp.checks.verdicts import ListingState, state_q, verified_q
from webapp.listings.models import Listing, Photo


class ApiCursorPagination(CursorPagination):
    """Stable pages while rows are added; `page_size` up to MAX."""

    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class StableOrderingFilter(OrderingFilter):
    """`ordering=` with the primary key after it: rows that tie on the asked-for field (one
    `UPDATE` gives many rows the same `updated_at`) come in one order on every page, so cursor
    pages, which step over ties by counting, neither skip nor repeat a row."""

    def get_ordering(self, request, queryset, view):
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if ordering and not {"id", "-id", "pk", "-pk"} & set(ordering):
            ordering.append("-id" if ordering[0].startswith("-") else "id")
        return ordering


# A plate as a seller may have typed it (the listing keeps it so): any case, Cyrillic
# look-alikes, separators anywhere. Matched as a pattern built from the plate's key, since
# PostgreSQL's upper() of Cyrillic depends on the database's locale and the demo's SQLite has
# no translate().
_TYPED_SEPARATORS = r"[\s\-_.·|]*"
_SPELLINGS: dict[str, set[str]] = {}
for _cyrillic, _latin in CYRILLIC_TO_LATIN.items():
    _SPELLINGS.setdefault(_latin, {_latin, _latin.lower()}).update({_cyrillic, _cyrillic.lower()})


def _typed_plate_regex(plate: str) -> str:
    """A regular expression (PostgreSQL's and Python's alike) for every way of typing the
    plate whose `normalise_plate` key is `plate`."""
    chars = (sorted(_SPELLINGS.get(ch, {ch, ch.lower()})) for ch in plate)
    spelled = ("(?:" + "|".join(re.escape(c) for c in options) + ")" for options in chars)
    return "^" + _TYPED_SEPARATORS + _TYPED_SEPARATORS.join(spelled) + _TYPED_SEPARATORS + "$"


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
        choices=ListingState.choices,
        method="filter_status",
        help_text="the listing's state: processing (a photo waits for recognition, or the "
        "register check has not run since), flagged (an open flag), confirmed (a confirmed "
        "flag), clear (none of these)",
    )
    verified = django_filters.ChoiceFilter(
        choices=(("true", "true"), ("false", "false")),
        method="filter_verified",
        help_text="true: clear, and the register vouches for the car (a plate read surely on "
        "its photos whose current record is the declared car); false: every other listing",
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
        fields = ["marketplace_id", "status", "verified", "flag_kind", "plate", "updated_since"]

    def filter_status(self, queryset: QuerySet[Listing], name: str, value: str):
        return queryset.filter(state_q(value))

    def filter_verified(self, queryset: QuerySet[Listing], name: str, value: str):
        return queryset.filter(verified_q()) if value == "true" else queryset.exclude(verified_q())

    def filter_flag_kind(self, queryset: QuerySet[Listing], name: str, value: str):
        return queryset.filter(Exists(Flag.objects.filter(listing=OuterRef("pk"), kind=value)))

    def filter_plate(self, queryset: QuerySet[Listing], name: str, value: str):
        plate = normalise_plate(value)
        # Longer than any stored plate (declared, read or flagged: 16 characters each).
        if not plate or len(plate) > Listing._meta.get_field("declared_plate").max_length:
            return queryset.none()
        return queryset.filter(
            Q(declared_plate__regex=_typed_plate_regex(plate))
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
