"""Write side of the cross-check: findings -> flags, and which listings a register import touched.

The facts come from ``webapp.checks.facts``, the judgement from ``registry.crosscheck`` (pure).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from tqdm import tqdm

from recognition.dispatch import crosscheck_send
from recognition.models import Reading
from recognition.pipeline.regions import normalise_plate
from recognition.pipeline.regions.text import CYRILLIC_TO_LATIN
from recognition.services import crosscheck_requests_create
from registry import crosscheck as rules
from registry.crosscheck_findings import Finding
from registry.crosscheck_verdict import Verdict
from registry.crosscheck_verdict import verdict as crosscheck_verdict
from registry.models import ImportRun, RegisterRecord
from registry.normalise import normalise_vin, vin_key
from webapp.checks.facts import crosscheck_input_for_listing
from webapp.checks.models import Flag, ListingVerdict
from webapp.checks.selectors import listings_deregistered
from webapp.listings.models import Listing, Photo

logger = logging.getLogger(__name__)

# Plates per IN (...) query when looking for listings a new import touches.
PLATE_QUERY_BATCH = 1_000


def register_import_crosscheck(*, run: ImportRun, enqueue: bool) -> Sequence[int]:
    """Inside a register import's transaction: find the listings whose plates or VINs got new
    records, count them on the run, and (``enqueue``) ask for their cross-check in the same
    transaction (the outbox), sent once it commits.

    Connected to ``registry.signals.register_imported`` by ``webapp.checks.chain``.
    """
    touched = _listings_touched(run=run)
    run.listings_touched = len(touched)
    run.save(update_fields=["listings_touched"])
    if enqueue and touched:
        listings_crosscheck_ask(listing_ids=touched)
    return touched


def watchlist_crosscheck(*, plates: Sequence[str], vins: Sequence[str]) -> list[int]:
    """Inside the transaction that changed the watch list: ask for the cross-check of every
    listing whose photos show one of `plates` (keys) or that declares one, or that declares one
    of `vins` (keys). Connected to ``registry.signals.watchlist_changed``."""
    touched = set(
        Reading.objects.filter(plate_text__in=plates)
        .values_list("photo__listing_id", flat=True)
        .distinct()
    )
    # Declared plates are stored as typed (any script, case or spacing): found by a pattern of
    # every way to type the key, then compared as keys. The pattern scans the listings (no
    # index serves it): the watch list changes a few times a day, not per photo.
    for plate in set(plates):
        maybe = Listing.objects.filter(declared_plate__regex=_typed_plate(plate))
        touched.update(pk for pk, typed in maybe.values_list("pk", "declared_plate")
                       if normalise_plate(typed) == plate)  # fmt: skip
    # Declared VINs are stored as typed: narrowed by their last six characters (the serial
    # number) however typed, then compared as keys.
    keys = set(vins)
    for vin in keys:
        maybe = Listing.objects.filter(declared_vin__iregex=_typed_ending(vin[-6:]))
        touched.update(pk for pk, typed in maybe.values_list("pk", "declared_vin")
                       if vin_key(typed) in keys)  # fmt: skip
    listing_ids = sorted(touched)
    if listing_ids:
        listings_crosscheck_ask(listing_ids=listing_ids)
    return listing_ids


# The Cyrillic letters (both cases) that ``normalise_plate`` reads as each Latin one.
_CYRILLIC_TWINS: dict[str, set[str]] = {
    latin: {
        c
        for cyrillic, to in CYRILLIC_TO_LATIN.items()
        if to == latin
        for c in (cyrillic, cyrillic.lower())
    }
    for latin in set(CYRILLIC_TO_LATIN.values())
}


def _typed_plate(key: str) -> str:
    """A regex for a plate key as a seller may type it: either case, a Cyrillic twin for a
    Latin letter (``normalise_plate`` reads them alike), spaces, dashes or dots between."""
    classes = (
        "[" + "".join(sorted({c, c.lower(), *_CYRILLIC_TWINS.get(c, ())})) + "]"
        if c.isalpha()
        else re.escape(c)
        for c in key
    )
    return r"^[\s._·|-]*" + r"[\s._·|-]*".join(classes) + r"[\s._·|-]*$"


def _typed_ending(key: str) -> str:
    """A regex for the end of a VIN as a seller may type it: any separators between the
    characters, an O or Q for a 0, an I for a 1 (``registry.normalise.vin_key``)."""
    classes = {"0": "[0OQ]", "1": "[1I]"}
    return "[^A-Z0-9]*".join(classes.get(c, re.escape(c)) for c in key) + "[^A-Z0-9]*$"


def listings_crosscheck_ask(*, listing_ids: Sequence[int]) -> None:
    """Inside the caller's transaction: ask for these listings' cross-check (the outbox), sent
    once it commits (the sweeper resends what the broker lost)."""
    crosscheck_requests_create(listing_ids=listing_ids)
    transaction.on_commit(lambda: crosscheck_send(listing_ids=listing_ids), robust=True)


def _listings_touched(*, run: ImportRun) -> list[int]:
    if connection.vendor == "postgresql":
        return register_listings_touched_sql(run=run)
    return register_listings_touched(run=run)


def register_listings_touched_sql(*, run: ImportRun) -> list[int]:
    """Listings whose read or declared plate, or declared VIN, got a new record in this import.

    The new records are the register's rows of the run (its own partition, with the register's
    plate and VIN indexes); declared values are stored as typed, so they are normalised here (in
    Python, once per listing) first.
    """
    photo, reading = Photo._meta.db_table, Reading._meta.db_table
    register = RegisterRecord._meta.db_table
    touched: set[int] = set()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT p.listing_id FROM {reading} r JOIN {photo} p ON p.id = r.photo_id "
            f"WHERE r.plate_text IN (SELECT plate_latin FROM {register} "
            "WHERE import_run_id = %s AND plate_latin <> '')",
            [run.pk],
        )
        touched.update(pk for (pk,) in cursor.fetchall())
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS registry_declared "
            "(listing_id bigint, plate text, vin text) ON COMMIT DROP"
        )
        cursor.execute("TRUNCATE registry_declared")
        declared = Listing.objects.exclude(declared_plate="", declared_vin="").values_list(
            "pk", "declared_plate", "declared_vin"
        )
        # Read first: the connection cannot run the listings query while a COPY is open.
        keys = [(pk, normalise_plate(plate), normalise_vin(vin)) for pk, plate, vin in declared]
        with cursor.cursor.copy("COPY registry_declared FROM STDIN") as copy:
            for key in keys:
                copy.write_row(key)
        cursor.execute("ANALYZE registry_declared")
        # Two semi-joins (a plate, a VIN), each hashed or by the run's index, not one OR.
        cursor.execute(
            "SELECT d.listing_id FROM registry_declared d WHERE d.plate <> '' AND d.plate IN "
            f"(SELECT plate_latin FROM {register} WHERE import_run_id = %s AND plate_latin <> '') "
            "UNION SELECT d.listing_id FROM registry_declared d WHERE d.vin <> '' AND d.vin IN "
            f"(SELECT vin FROM {register} WHERE import_run_id = %s AND vin <> '')",
            [run.pk, run.pk],
        )
        touched.update(pk for (pk,) in cursor.fetchall())
    return sorted(touched)


def register_listings_touched(*, run: ImportRun) -> list[int]:
    """Listings whose read or declared plate, or declared VIN, got a record in this run
    (portable: the SQLite demo)."""
    new_for_reading = RegisterRecord.objects.filter(
        import_run=run, plate_latin=OuterRef("plate_text")
    )
    touched = set(
        Reading.objects.filter(Exists(new_for_reading))
        .values_list("photo__listing_id", flat=True)
        .distinct()
    )
    declared = Listing.objects.exclude(declared_plate="", declared_vin="").values_list(
        "pk", "declared_plate", "declared_vin"
    )
    by_plate: dict[str, list[int]] = {}
    by_vin: dict[str, list[int]] = {}
    for listing_id, plate, vin in declared.iterator(chunk_size=PLATE_QUERY_BATCH):
        if plate:
            by_plate.setdefault(normalise_plate(plate), []).append(listing_id)
        if vin:
            by_vin.setdefault(normalise_vin(vin), []).append(listing_id)
        if len(by_plate) >= PLATE_QUERY_BATCH or len(by_vin) >= PLATE_QUERY_BATCH:
            touched.update(_hits(run, by_plate, by_vin))
            by_plate, by_vin = {}, {}
    touched.update(_hits(run, by_plate, by_vin))
    return sorted(touched)


def _hits(run: ImportRun, by_plate: dict[str, list[int]], by_vin: dict[str, list[int]]) -> set[int]:
    found: set[int] = set()
    for field, index in (("plate_latin", by_plate), ("vin", by_vin)):
        if not index:
            continue
        keys = RegisterRecord.objects.filter(import_run=run, **{f"{field}__in": list(index)})
        for key in keys.values_list(field, flat=True).distinct():
            found.update(index[key])
    return found


# --- asking again: listings checked before a rule existed ---------------------------------------


@dataclass(frozen=True)
class Recheck:
    scanned: int  # listings looked at
    found: int  # listings the rule concerns, asked for a cross-check unless a dry run


def listings_recheck_deregistered(*, dry_run: bool = False, progress: bool = False) -> Recheck:
    """Ask for the cross-check of every listing whose read plate, declared plate or declared VIN
    has a removal as its current register record. An import asks only for the listings its new
    records touch, so listings checked before the removal rules existed keep stale flags.

    Through the outbox, one short transaction per batch, sent once it commits (the sweeper
    resends what the broker lost): safe on a live system, and safe to run again.
    """
    scanned = found = 0
    total = Listing.objects.count()
    with tqdm(total=total, unit="listing", desc="scan", disable=not progress) as bar:
        for batch in listings_deregistered():
            scanned += batch.scanned
            found += len(batch.listing_ids)
            if batch.listing_ids and not dry_run:
                _recheck(listing_ids=batch.listing_ids)
            bar.update(batch.scanned)
            bar.set_postfix(found=found)
    logger.info("re-check of deregistered plates and VINs: %d of %d listings", found, scanned)
    return Recheck(scanned, found)


def _recheck(*, listing_ids: list[int]) -> None:
    with transaction.atomic():
        listings_crosscheck_ask(listing_ids=listing_ids)


# --- findings -> flags --------------------------------------------------------------------------


def listing_crosscheck(*, listing_id: int) -> list[Flag]:
    """Turn the listing's current findings into flags, idempotently; returns the live flags.

    - one flag per (kind, key); re-running updates it in place, never duplicates;
    - a DISMISSED flag stays dismissed while its evidence hash is unchanged, and reopens
      (back to OPEN, reviewer cleared, note kept) when the evidence changes;
    - a CONFIRMED flag stays confirmed; its evidence is refreshed;
    - an OPEN flag whose finding disappeared is deleted (nobody acted on it, and the review
      queue should not show stale work); DISMISSED and CONFIRMED flags are kept as history.
    Runs under row locks on the listing and its flags, so concurrent runs for one listing
    serialise and a moderator's decision is never silently overwritten.
    """
    with transaction.atomic():
        # FOR NO KEY UPDATE: it serialises the runs for one listing, yet lets a transaction
        # that references the listing (a decision's audit entry, a readings batch's outbox row)
        # check that foreign key at its commit; FOR UPDATE would make it wait for us while we
        # wait for the flag it holds, a deadlock.
        listing = Listing.objects.select_for_update(no_key=True).filter(pk=listing_id).first()
        if listing is None:
            logger.info("listing %s is gone: nothing to cross-check", listing_id)
            return []
        facts = crosscheck_input_for_listing(listing=listing)
        findings = rules.crosscheck(facts)
        _verdict_store(listing_id, crosscheck_verdict(facts))
        # Locked, so a moderator's concurrent decision is either seen here or waits for this
        # transaction and then fails its version check instead of being overwritten.
        flags = Flag.objects.select_for_update().filter(listing_id=listing_id)
        existing = {(f.kind, f.key): f for f in flags}
        live = [_flag_upsert(listing_id, finding, existing) for finding in findings]
        wanted = {(f.kind.value, f.key) for f in findings}
        stale = [
            flag.pk
            for key, flag in existing.items()
            if key not in wanted and flag.status == Flag.Status.OPEN
        ]
        if stale:
            Flag.objects.filter(pk__in=stale).delete()
    return live


def _verdict_store(listing_id: int, verdict: Verdict) -> None:
    ListingVerdict.objects.update_or_create(
        listing_id=listing_id,
        defaults={
            "checked_at": timezone.now(),
            "plate": verdict.plate[:16],
            "plate_source": verdict.plate_source,
            "plate_confidence": verdict.plate_confidence,
            "record": verdict.record,
            "fields": verdict.fields,
            "reason": verdict.reason.value if verdict.reason else "",
        },
    )


def _flag_upsert(listing_id: int, finding: Finding, existing: dict[tuple[str, str], Flag]) -> Flag:
    flag = existing.get((finding.kind.value, finding.key))
    evidence_hash = finding.evidence_hash
    values = {
        "severity": int(finding.severity),
        "evidence": finding.evidence,
        "evidence_hash": evidence_hash,
        "plate_text": finding.plate_text[:16],
        "plate_format": finding.plate_format[:16],
    }
    if flag is None:
        return Flag.objects.create(
            listing_id=listing_id, kind=finding.kind.value, key=finding.key, **values
        )
    changed = flag.evidence_hash != evidence_hash
    if flag.status == Flag.Status.DISMISSED and not changed:
        return flag
    updates: dict[str, object] = {
        name: value for name, value in values.items() if getattr(flag, name) != value
    }
    if flag.status == Flag.Status.DISMISSED:
        updates.update(status=Flag.Status.OPEN, reviewer=None, reviewed_at=None)
        logger.info("flag %s reopened: evidence changed", flag.pk)
    if not updates:
        return flag
    for name, value in updates.items():
        setattr(flag, name, value)
    # A moderator's form holds the old version: a material change must not be overwritten.
    if changed:
        flag.version += 1
    flag.save(update_fields=[*updates, "version", "updated_at"])
    return flag
