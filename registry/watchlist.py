"""The marketplace's watch list: plates and VINs it watches for (cars reported stolen, or used in
a fraud). Services add, change and delete entries, each in one transaction with the signal that
has the listings showing or declaring them re-checked (``signals.watchlist_changed``); the
selectors give the cross-check the entries for a listing's plates and VIN, and a gate the reason
a passing plate is watched for.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from recognition.pipeline.regions import normalise_plate
from registry.crosscheck_facts import WatchFacts
from registry.models import WatchEntry
from registry.normalise import vin_key
from registry.signals import watchlist_changed

logger = logging.getLogger(__name__)


class WatchEntryInvalid(ValueError):
    """The entry names neither a plate nor a VIN, or a value is not one it takes."""


def watch_entry_add(
    *,
    plate: str = "",
    vin: str = "",
    reason: str = WatchEntry.Reason.STOLEN,
    source: str = "",
    note: str = "",
    user: AbstractBaseUser | None = None,
) -> WatchEntry:
    entry = WatchEntry(reason=reason, source=source, note=note, added_by=user)
    return watch_entry_save(entry=entry, plate=plate, vin=vin)


def watch_entry_save(*, entry: WatchEntry, plate: str, vin: str) -> WatchEntry:
    """Save a new or changed entry with its plate and VIN as keys (any spelling in), and have
    the listings of its keys, before and after, re-checked."""
    plate_key, vin_key_ = normalise_plate(plate), vin_key(vin)
    if not plate_key and not vin_key_:
        raise WatchEntryInvalid("a watch-list entry needs a plate or a VIN")
    with transaction.atomic():
        before = (
            WatchEntry.objects.filter(pk=entry.pk).values_list("plate", "vin").first()
            if entry.pk
            else None
        )
        entry.plate, entry.vin = plate_key, vin_key_
        try:
            entry.full_clean(exclude=["added_by"])
        except ValidationError as exc:
            raise WatchEntryInvalid("; ".join(exc.messages)) from exc
        entry.save()
        _changed(keys=[before or ("", ""), (entry.plate, entry.vin)])
    logger.info("watch list: %s saved", entry)
    return entry


def watch_entries_delete(*, entry_ids: Iterable[int]) -> int:
    """Delete entries; the listings they flagged are re-checked (their open flags go)."""
    with transaction.atomic():
        doomed = WatchEntry.objects.select_for_update().filter(pk__in=list(entry_ids))
        keys = list(doomed.values_list("plate", "vin"))
        doomed.delete()
        _changed(keys=keys)
    logger.info("watch list: %d entries deleted", len(keys))
    return len(keys)


def _changed(*, keys: Iterable[tuple[str, str]]) -> None:
    plates = sorted({plate for plate, _ in keys if plate})
    vins = sorted({vin for _, vin in keys if vin})
    if plates or vins:
        watchlist_changed.send(sender=WatchEntry, plates=plates, vins=vins)


# A plate on the list for several reasons is shown with the gravest.
GRAVEST_FIRST = (WatchEntry.Reason.STOLEN, WatchEntry.Reason.FRAUD, WatchEntry.Reason.OTHER)


def watch_reason_for_plate(*, plate: str) -> str:
    """Why the list watches for this plate key (`WatchEntry.Reason`; the gravest of several
    entries), or "" when it does not."""
    if not plate:
        return ""
    reasons = set(WatchEntry.objects.filter(plate=plate).values_list("reason", flat=True))
    return next((r.value for r in GRAVEST_FIRST if r in reasons), "")


def watch_facts_for(*, plates: Iterable[str], vin: str) -> tuple[WatchFacts, ...]:
    """The entries for these plate keys or this (declared, as typed) VIN."""
    plates, key = set(plates) - {""}, vin_key(vin)
    if not plates and not key:
        return ()
    entries = WatchEntry.objects.none()
    if plates:
        entries |= WatchEntry.objects.filter(plate__in=plates)
    if key:
        entries |= WatchEntry.objects.filter(vin=key)
    return tuple(
        WatchFacts(
            entry_id=e.pk,
            plate=e.plate,
            vin=e.vin,
            reason=e.reason,
            source=e.source,
            note=e.note,
            added_on=e.added_at.date(),
        )  # fmt: skip
        for e in entries.order_by("pk")
    )
