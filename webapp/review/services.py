"""Moderator decisions on flags. Every write here leaves an AuditEntry.

Concurrency is optimistic: each form carries the ``Flag.version`` the moderator saw, and the
write is ``UPDATE ... WHERE id = %s AND version = %s``. When another moderator got there first
the update touches no row and :class:`FlagConflict` tells the caller who did what.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from recognition.pipeline.regions import normalise_plate
from recognition.services import reading_create_human
from webapp.checks.models import Flag
from webapp.checks.services import listing_crosscheck
from webapp.listings.models import Listing, Photo
from webapp.partners.webhooks import webhook_event_emit
from webapp.review.holds import Hold, flag_holds_release, holds_of, seconds_held
from webapp.review.models import AuditEntry
from webapp.review.selectors import queue_counts_invalidate

logger = logging.getLogger(__name__)

REASON_MAX_LENGTH = 2000
PLATE_MAX_LENGTH = 16
# A bulk form posts one page of the queue; larger batches are a script's job, not a click's.
BULK_MAX_FLAGS = 200
# "Every flag matching the filter" decides up to this many in one request (about 3 ms each).
BULK_FILTER_MAX_FLAGS = 2000


class FlagConflict(Exception):
    """The flag changed since the moderator loaded it; ``current`` is its state now."""

    def __init__(self, current: Flag | None) -> None:
        self.current = current
        if current is None:
            message = gettext("This flag no longer exists.")
        else:
            who = current.reviewer.get_username() if current.reviewer else gettext("someone else")
            message = gettext(
                "Flag #%(id)s was changed by %(who)s while you were looking at it (now %(status)s)."
                " Nothing was saved; check the new state and decide again."
            ) % {"id": current.pk, "who": who, "status": current.get_status_display().lower()}
        super().__init__(message)


def flag_snapshot(flag: Flag) -> dict[str, Any]:
    return {
        "status": flag.status,
        "severity": flag.severity,
        "kind": flag.kind,
        "plate_text": flag.plate_text,
        "note": flag.note,
        "version": flag.version,
        "reviewer_id": flag.reviewer_id,
        "reviewed_at": flag.reviewed_at.isoformat() if flag.reviewed_at else None,
    }


def _claim(*, flag_id: int, version: int, changes: dict[str, Any]) -> Flag:
    """Apply ``changes`` iff the flag is still at ``version``; returns the flag before the write.

    Must run inside a transaction. The row lock makes a second moderator wait for the first
    one's commit, after which PostgreSQL re-checks ``version`` and finds no row: a conflict.
    """
    before = (
        Flag.objects.select_for_update(of=("self",))
        .select_related("reviewer")
        .defer("evidence")
        .filter(pk=flag_id, version=version)
        .first()
    )
    if before is None:
        raise FlagConflict(Flag.objects.select_related("reviewer").filter(pk=flag_id).first())
    Flag.objects.filter(pk=flag_id, version=version).update(
        version=F("version") + 1, updated_at=timezone.now(), **changes
    )
    return before


def _decide(
    *,
    flag_id: int,
    version: int,
    user: AbstractBaseUser,
    status: str,
    reason: str,
    bulk: bool = False,
) -> Flag:
    reason = reason.strip()[:REASON_MAX_LENGTH]
    now = timezone.now()
    changes = {"status": status, "reviewer": user, "reviewed_at": now, "note": reason}
    with transaction.atomic():
        before = _claim(flag_id=flag_id, version=version, changes=changes)
        seconds_open = None if bulk else seconds_held(flag_id=flag_id, user=user)
        after = {**flag_snapshot(before), "status": status, "note": reason, "version": version + 1,
                 "reviewer_id": user.pk, "reviewed_at": now.isoformat()}  # fmt: skip
        AuditEntry.objects.create(
            user=user,
            action=AuditEntry.Action.CONFIRM
            if status == Flag.Status.CONFIRMED
            else AuditEntry.Action.DISMISS,
            flag_id=flag_id,
            flag_ref=flag_id,
            listing_id=before.listing_id,
            bulk=bulk,
            reason=reason,
            seconds_open=seconds_open,
            before=flag_snapshot(before),
            after=after,
        )
        flag_holds_release([flag_id])
        transaction.on_commit(queue_counts_invalidate)
        webhook_event_emit(
            event="flag.decided",
            listing_id=before.listing_id,
            data={"flag_id": flag_id, "status": status},
        )
    logger.info("flag %s %s by user %s", flag_id, status, user.pk)
    return Flag.objects.select_related("reviewer").get(pk=flag_id)


def flag_confirm(*, flag_id: int, version: int, user: AbstractBaseUser, note: str = "") -> Flag:
    """The mismatch is real."""
    return _decide(
        flag_id=flag_id, version=version, user=user, status=Flag.Status.CONFIRMED, reason=note
    )


def flag_dismiss(*, flag_id: int, version: int, user: AbstractBaseUser, reason: str) -> Flag:
    """A false alarm; the reason is required so the team can learn from it."""
    if not reason.strip():
        raise ValidationError({"reason": gettext("Give a reason for dismissing the flag.")})
    return _decide(
        flag_id=flag_id, version=version, user=user, status=Flag.Status.DISMISSED, reason=reason
    )


@dataclass(frozen=True)
class BulkResult:
    decided: list[int] = field(default_factory=list)
    conflicts: list[FlagConflict] = field(default_factory=list)
    # Flags left undecided because another moderator has them open (``holds``).
    held: list[Hold] = field(default_factory=list)


def flags_bulk_decide(
    *,
    flags: Sequence[tuple[int, int]],
    user: AbstractBaseUser,
    status: str,
    reason: str = "",
    max_flags: int = BULK_MAX_FLAGS,
) -> BulkResult:
    """Confirm or dismiss several ``(flag_id, version)`` pairs; conflicts are skipped, not
    fatal, and so are the flags another moderator has open (``BulkResult.held``)."""
    if status not in (Flag.Status.CONFIRMED, Flag.Status.DISMISSED):
        raise ValidationError({"status": gettext("Choose confirm or dismiss.")})
    if status == Flag.Status.DISMISSED and not reason.strip():
        raise ValidationError({"reason": gettext("Give a reason for dismissing the flags.")})
    if len(flags) > max_flags:
        raise ValidationError(
            {
                "flags": ngettext(
                    "Select at most %(max)d flag at a time.",
                    "Select at most %(max)d flags at a time.",
                    max_flags,
                )
                % {"max": max_flags}
            }
        )
    held = holds_of([flag_id for flag_id, _ in flags], user=user)
    result = BulkResult(held=list(held.values()))
    for flag_id, version in flags:
        if flag_id in held:
            continue
        try:
            _decide(
                flag_id=flag_id, version=version, user=user, status=status, reason=reason, bulk=True
            )
        except FlagConflict as conflict:
            result.conflicts.append(conflict)
        else:
            result.decided.append(flag_id)
    return result


@dataclass(frozen=True)
class Correction:
    reading_id: int
    plate_text: str
    flags: list[Flag]

    def flag_ids(self) -> set[int]:
        return {f.pk for f in self.flags}


def flag_correct_plate(
    *,
    flag_id: int,
    version: int,
    user: AbstractBaseUser,
    photo_id: int,
    plate_text: str,
    base_reading_id: int | None = None,
) -> Correction:
    """Store what the moderator reads on the photo and re-run the cross-check at once.

    The human reading, the cross-check and the audit entry commit together: if the cross-check
    fails, the moderator sees the error and nothing half-done is left behind.
    """
    text = normalise_plate(plate_text)
    if not text or len(text) > PLATE_MAX_LENGTH or not text.isalnum():
        raise ValidationError(
            {"plate_text": gettext("Type the plate as letters and digits, at most 16.")}
        )
    listing_id = Flag.objects.filter(pk=flag_id).values_list("listing_id", flat=True).first()
    if listing_id is None:
        raise FlagConflict(None)
    with transaction.atomic():
        # Lock order listing -> flag, the same as the cross-check's, so the two cannot deadlock;
        # the same lock too (FOR NO KEY UPDATE, see `listing_crosscheck`).
        listing_row = Listing.objects.select_for_update(no_key=True).filter(pk=listing_id)
        list(listing_row.values_list("pk", flat=True))
        before = _claim(flag_id=flag_id, version=version, changes={})
        photo = Photo.objects.filter(pk=photo_id, listing_id=before.listing_id).first()
        if photo is None:
            raise ValidationError({"photo_id": gettext("That photo is not part of this listing.")})
        if base_reading_id is not None and not photo.readings.filter(pk=base_reading_id).exists():
            base_reading_id = None  # a stale form picked another photo's reading: keep the text
        try:
            reading = reading_create_human(
                photo_id=photo.pk, plate_text=text, user=user, base_reading_id=base_reading_id
            )
        except ValueError as exc:
            raise ValidationError({"plate_text": str(exc)}) from exc
        flags = list(listing_crosscheck(listing_id=before.listing_id))
        _audit_correction(
            user=user,
            before=before,
            photo_id=photo.pk,
            base_reading_id=base_reading_id,
            reading_id=reading.pk,
            text=text,
            flags=flags,
        )
        transaction.on_commit(queue_counts_invalidate)
    logger.info("flag %s: plate corrected to %s by user %s", flag_id, text, user.pk)
    return Correction(reading_id=reading.pk, plate_text=text, flags=flags)


def _audit_correction(
    *,
    user: AbstractBaseUser,
    before: Flag,
    photo_id: int,
    base_reading_id: int | None,
    reading_id: int,
    text: str,
    flags: Sequence[Flag],
) -> None:
    """The correction's audit entry: the flag before, the new reading and the flags after."""
    AuditEntry.objects.create(
        user=user,
        action=AuditEntry.Action.CORRECT_PLATE,
        flag_id=before.pk if Flag.objects.filter(pk=before.pk).exists() else None,
        flag_ref=before.pk,
        listing_id=before.listing_id,
        reason=f"{before.plate_text or '?'} -> {text}",
        before={
            **flag_snapshot(before),
            "photo_id": photo_id,
            "base_reading_id": base_reading_id,
        },
        after={
            "reading_id": reading_id,
            "plate_text": text,
            "photo_id": photo_id,
            "flags": [
                {"id": f.pk, "kind": f.kind, "status": f.status, "plate_text": f.plate_text}
                for f in flags
            ],
        },
    )
