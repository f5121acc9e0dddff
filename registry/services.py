"""Write-side services of the register: importing files and turning findings into flags."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterator
from pathlib import Path

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from tqdm import tqdm

from recognition.models import Reading
from registry import crosscheck as rules
from registry import loaders
from registry.importers import (
    RegisterRow,
    RegisterSource,
    Reject,
    open_register,
)
from registry.models import ImportReject, ImportRun, RegisterRecord
from registry.normalise import normalise_plate, normalise_vin
from registry.progress import ProgressWriter
from registry.selectors import crosscheck_input_for_listing
from webapp.listings.models import Flag, Listing

logger = logging.getLogger(__name__)

# Rejects are written in batches; a file that is all rejects must not grow memory either.
REJECT_BATCH = 5_000
# Plates per IN (...) query when looking for listings a new import touches.
PLATE_QUERY_BATCH = 1_000


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def register_import(
    *,
    path: Path,
    encoding: str | None = None,
    force: bool = False,
    progress: bool = False,
    enqueue_crosscheck: bool = True,
) -> ImportRun:
    """Import one register file (.csv or .zip) and record the run with its counts.

    Idempotent: rows are keyed by ``row_hash``, so a second import of the same file inserts
    nothing. Unless ``force``, a file whose sha256 already imported successfully is not even
    parsed again. Listings whose plates or VINs got new records are cross-checked again.
    """
    path = Path(path)
    sha256 = file_sha256(path)
    run = ImportRun.objects.create(
        file_name=path.name, file_sha256=sha256, file_size=path.stat().st_size
    )
    done_before = (
        ImportRun.objects.filter(file_sha256=sha256, status=ImportRun.Status.DONE)
        .exclude(pk=run.pk)
        .first()
    )
    if done_before is not None and not force:
        logger.info("%s already imported in run %s: skipped", path.name, done_before.pk)
        ImportRun.objects.filter(pk=run.pk).update(
            status=ImportRun.Status.DONE,
            variant=done_before.variant,
            encoding=done_before.encoding,
            error=f"same file as run {done_before.pk}: skipped",
            finished_at=timezone.now(),
        )
        run.refresh_from_db()
        return run
    try:
        sources = open_register(path, encoding=encoding)
        _import_sources(run=run, sources=sources, progress=progress)
    except Exception as exc:  # whatever broke, the run must not stay "running"
        run.status, run.error, run.finished_at = ImportRun.Status.FAILED, str(exc), timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        raise
    touched = register_listings_touched(run=run)
    run.listings_touched = len(touched)
    run.status, run.finished_at = ImportRun.Status.DONE, timezone.now()
    run.save(update_fields=["listings_touched", "status", "finished_at"])
    if enqueue_crosscheck and touched:
        _enqueue_crosschecks(touched)
    logger.info(
        "imported %s: %d read, %d new, %d duplicates, %d rejected, %d listings to re-check",
        path.name,
        run.rows_read,
        run.rows_inserted,
        run.rows_duplicate,
        run.rows_rejected,
        run.listings_touched,
    )
    return run


def _import_sources(*, run: ImportRun, sources: list[RegisterSource], progress: bool) -> None:
    run.variant = ",".join(sorted({str(s.variant) for s in sources}))
    run.encoding = ",".join(sorted({s.encoding for s in sources}))
    bar = tqdm(
        total=sum(s.size for s in sources),
        unit="B",
        unit_scale=True,
        desc=run.file_name,
        disable=not progress,
    )
    started = time.perf_counter()
    valid = 0
    progress = ProgressWriter(run_id=run.pk)  # live rows / rows/s / ETA (issue 20)
    with bar:
        for source in sources:
            counter = _RowCounter(run=run, source=source, bar=bar, progress=progress)
            counter.rows_before, counter.bytes_before = valid + run.rows_rejected, bar.n
            inserted = loaders.load_rows(rows=counter.rows(), run=run, variant=str(source.variant))
            counter.flush_rejects()
            run.rows_inserted += inserted
            valid += counter.valid
            run.rows_rejected += counter.rejected
    progress.close()
    run.rows_read = valid + run.rows_rejected
    run.rows_duplicate = valid - run.rows_inserted
    run.parse_seconds = time.perf_counter() - started
    run.save()


class _RowCounter:
    """Splits a source's output into rows for the loader and rejects for the report."""

    def __init__(
        self, *, run: ImportRun, source: RegisterSource, bar: tqdm, progress: ProgressWriter
    ) -> None:
        self.run, self.source, self.bar, self.progress = run, source, bar, progress
        self.rows_before = self.bytes_before = 0
        self.valid = self.rejected = 0
        self._rejects: list[ImportReject] = []
        self._reported = 0

    def rows(self) -> Iterator[RegisterRow]:
        for index, item in enumerate(self.source.rows()):
            if isinstance(item, Reject):
                self.rejected += 1
                self._rejects.append(
                    ImportReject(
                        run=self.run,
                        source=self.source.name,
                        line=item.line,
                        reason=item.reason[:255],
                        raw=item.raw,
                    )
                )
                if len(self._rejects) >= REJECT_BATCH:
                    self.flush_rejects()
                continue
            self.valid += 1
            if index % 10_000 == 0:
                self.bar.update(self.source.bytes_read - self._reported)
                self._reported = self.source.bytes_read
                self.progress.update(
                    rows=self.rows_before + self.valid + self.rejected,
                    bytes_read=self.bytes_before + self.source.bytes_read,
                )
            yield item
        self.bar.update(self.source.bytes_read - self._reported)
        self._reported = self.source.bytes_read

    def flush_rejects(self) -> None:
        if self._rejects:
            ImportReject.objects.bulk_create(self._rejects)
            self._rejects = []


def register_listings_touched(*, run: ImportRun) -> list[int]:
    """Listings whose read or declared plate, or declared VIN, got a record in this run."""
    new_for_reading = RegisterRecord.objects.filter(
        import_run=run, plate_latin=OuterRef("plate_text")
    )
    touched = set(
        Reading.objects.filter(Exists(new_for_reading))
        .values_list("photo__listing_id", flat=True)
        .distinct()
    )
    # Declared values are stored as typed, so they are normalised here, in batches.
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


def _enqueue_crosschecks(listing_ids: list[int]) -> None:
    # Imported here because registry.tasks imports this module.
    from registry.tasks import crosscheck_listing

    for listing_id in listing_ids:
        crosscheck_listing.delay_on_commit(listing_id)


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
        listing = Listing.objects.select_for_update().filter(pk=listing_id).first()
        if listing is None:
            logger.info("listing %s is gone: nothing to cross-check", listing_id)
            return []
        findings = rules.crosscheck(crosscheck_input_for_listing(listing=listing))
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


def _flag_upsert(
    listing_id: int, finding: rules.Finding, existing: dict[tuple[str, str], Flag]
) -> Flag:
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
