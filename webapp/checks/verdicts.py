"""A listing's check as partners see it: where it stands, and whether the register vouches for
the car (``ListingVerdict``), decided once here for both the API's filters (SQL) and its
listings (Python, over rows already fetched).

    processing   a photo waits for recognition, or the cross-check has not run since the
                 readings (or the register) last changed
    flagged      an open flag waits for a moderator
    confirmed    a moderator confirmed a flag
    clear        recognised and checked, no open or confirmed flag

A clear listing is **verified** when its latest verdict vouches for the car: a plate read surely
on its photos whose current register record is the declared car. Otherwise ``reason`` says why
not (``registry.crosscheck_verdict.Unverified``, or the state when it is not clear).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Exists, OuterRef, Q

from recognition.models import CrosscheckRequest
from webapp.checks.models import Flag, ListingVerdict
from webapp.listings.models import Listing, Photo


class ListingState:
    PROCESSING = "processing"
    FLAGGED = "flagged"
    CONFIRMED = "confirmed"
    CLEAR = "clear"

    choices = (
        (PROCESSING, "processing"),
        (FLAGGED, "flagged"),
        (CONFIRMED, "confirmed"),
        (CLEAR, "clear"),
    )


UNREAD = (Photo.Status.PENDING, Photo.Status.PROCESSING)


# --- SQL: conditions on a Listing queryset --------------------------------------------------


def has_flag(status: str) -> Exists:
    return Exists(Flag.objects.filter(listing=OuterRef("pk"), status=status))


def is_processing() -> Q:
    # Read but not yet compared with the register is not "clear": the flags may still come.
    unread = Exists(Photo.objects.filter(listing=OuterRef("pk"), status__in=UNREAD))
    due = Exists(CrosscheckRequest.objects.due().filter(listing=OuterRef("pk")))
    return Q(unread) | Q(due)


def state_q(state: str) -> Q:
    """The listings in ``state`` (as a condition; ``clear`` is the absence of the others)."""
    if state == ListingState.PROCESSING:
        return is_processing()
    if state == ListingState.FLAGGED:
        return Q(has_flag(Flag.Status.OPEN))
    if state == ListingState.CONFIRMED:
        return Q(has_flag(Flag.Status.CONFIRMED))
    return ~is_processing() & ~Q(has_flag(Flag.Status.OPEN)) & ~Q(has_flag(Flag.Status.CONFIRMED))


def verified_q() -> Q:
    """The clear listings whose verdict vouches for the car."""
    return state_q(ListingState.CLEAR) & Q(verdict__reason="")


# --- Python: one listing, from its prefetched photos and flags ------------------------------


@dataclass(frozen=True)
class ListingCheck:
    state: str
    verified: bool
    reason: str  # why not verified ("" when verified)
    plate: str = ""
    plate_source: str = ""
    plate_confidence: float = 0.0
    register: dict[str, Any] | None = None
    fields: dict[str, str] | None = None
    checked_at: dt.datetime | None = None


def _related(listing: Listing, name: str) -> Any:
    try:
        return getattr(listing, name)
    except ObjectDoesNotExist:
        return None


def listing_state(listing: Listing, *, just_checked: bool = False) -> str:
    """As ``state_q`` decides it in SQL; reads ``photos`` and ``flags`` (prefetch them) and
    ``crosscheck_request`` (select it). ``just_checked``: the cross-check that ran now answers
    its request, which the outbox marks done only after the caller has told the partners."""
    request: CrosscheckRequest | None = (
        None if just_checked else _related(listing, "crosscheck_request")
    )
    due = bool(request and request.is_due)
    if any(p.status in UNREAD for p in listing.photos.all()) or due:
        return ListingState.PROCESSING
    statuses = {flag.status for flag in listing.flags.all()}
    if Flag.Status.OPEN in statuses:
        return ListingState.FLAGGED
    if Flag.Status.CONFIRMED in statuses:
        return ListingState.CONFIRMED
    return ListingState.CLEAR


def listing_check(listing: Listing, *, just_checked: bool = False) -> ListingCheck:
    """The listing's check: its state, and what its latest verdict rests on (``verdict`` and
    ``crosscheck_request`` selected, ``photos`` and ``flags`` prefetched: no query)."""
    state = listing_state(listing, just_checked=just_checked)
    verdict: ListingVerdict | None = _related(listing, "verdict")
    if verdict is None:  # never cross-checked: nothing to go by yet
        reason = "not_checked" if state == ListingState.CLEAR else state
        return ListingCheck(state=state, verified=False, reason=reason)
    verified = state == ListingState.CLEAR and not verdict.reason
    reason = "" if verified else (verdict.reason if state == ListingState.CLEAR else state)
    return ListingCheck(
        state=state,
        verified=verified,
        reason=reason,
        plate=verdict.plate,
        plate_source=verdict.plate_source,
        plate_confidence=verdict.plate_confidence,
        register=verdict.record,
        fields=verdict.fields,
        checked_at=verdict.checked_at,
    )


def listing_check_just_made(listing_id: int) -> ListingCheck | None:
    """The check of a listing whose cross-check has just run (None: the listing is gone)."""
    listing = (
        Listing.objects.select_related("verdict")
        .prefetch_related("photos", "flags")
        .filter(pk=listing_id)
        .first()
    )
    return None if listing is None else listing_check(listing, just_checked=True)


__all__ = [
    "ListingCheck",
    "ListingState",
    "has_flag",
    "is_processing",
    "listing_check",
    "listing_check_just_made",
    "listing_state",
    "state_q",
    "verified_q",
]
