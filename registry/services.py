"""Write-side services of the register: importing register files."""

from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone
from tqdm import tqdm

from registry import demo_loader, loaders
from registry.importers import RegisterSource, Reject, open_register, printable
from registry.models import ImportReject, ImportRun
from registry.progress import ProgressWriter
from registry.selectors import register_file_imported
from registry.signals import register_imported

logger = logging.getLogger(__name__)

# Rejects are written in batches; a file that is all rejects must not grow memory either.
REJECT_BATCH = 5_000


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
    """Import one register file (.csv or .zip) in one transaction, and record the run.

    All or nothing: rows, rejects and what the ``register_imported`` receivers write (the
    cross-check requests of the listings whose plates or VINs got new records) commit
    together, or (any error) nothing does and the run is FAILED
    with the reason. Idempotent: rows are keyed by ``row_hash``, so a second import of the same
    file inserts nothing; unless ``force``, a file whose sha256 already imported successfully
    is not even read again.
    """
    path = Path(path)
    sha256 = file_sha256(path)
    run = ImportRun.objects.create(
        file_name=path.name, file_sha256=sha256, file_size=path.stat().st_size
    )
    if not force and _skipped_as_done_before(run=run):
        return run
    try:
        sources = open_register(path, encoding=encoding)
        with transaction.atomic():
            _import_sources(run=run, sources=sources, progress=progress)
            run.status, run.finished_at = ImportRun.Status.DONE, timezone.now()
            run.save()
            # Still inside the transaction: what listens (the cross-check finds the listings
            # the new records touch and asks for their checks) commits or rolls back with it.
            register_imported.send(sender=ImportRun, run=run, enqueue_crosscheck=enqueue_crosscheck)
    except Exception as exc:  # rolled back: the run says why, and that nothing was kept
        _mark_failed(run=run, exc=exc)
        raise
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


def _skipped_as_done_before(*, run: ImportRun) -> bool:
    """A file whose sha256 already imported successfully: the run is DONE without reading it."""
    done_before = register_file_imported(sha256=run.file_sha256)  # `run` is still RUNNING
    if done_before is None:
        return False
    logger.info("%s already imported in run %s: skipped", run.file_name, done_before.pk)
    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportRun.Status.DONE,
        variant=done_before.variant,
        encoding=done_before.encoding,
        error=f"same file as run {done_before.pk}: skipped",
        finished_at=timezone.now(),
    )
    run.refresh_from_db()
    return True


def _mark_failed(*, run: ImportRun, exc: Exception) -> None:
    # Printable: a message may quote the file (a refused header), and one NUL in it would make
    # PostgreSQL refuse this update too, leaving the run RUNNING and hiding the first error.
    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportRun.Status.FAILED,
        error=printable(f"{exc} (nothing imported)") if str(exc) else type(exc).__name__,
        finished_at=timezone.now(),
        rows_read=0,
        rows_inserted=0,
        rows_duplicate=0,
        rows_rejected=0,
        listings_touched=0,
    )
    run.refresh_from_db()


def _import_sources(*, run: ImportRun, sources: list[RegisterSource], progress: bool) -> None:
    run.variant = ",".join(sorted({str(s.variant) for s in sources}))
    run.encoding = ",".join(sorted({s.encoding for s in sources}))
    started = time.perf_counter()
    valid = 0
    bar = tqdm(
        total=sum(s.size for s in sources),
        unit="B",
        unit_scale=True,
        desc=run.file_name,
        disable=not progress,
    )
    loaders.start_import(run)
    # Live rows / rows/s / ETA for the admin and /metrics, written over a second connection: the
    # import's own transaction shows nothing until it commits.
    writer = ProgressWriter(run_id=run.pk)
    lines_before = bytes_before = 0
    with bar:
        for index, source in enumerate(sources):

            def report(
                lines: int, bytes_read: int, rows0: int = lines_before, bytes0: int = bytes_before
            ) -> None:
                bar.update(bytes0 + bytes_read - bar.n)
                writer.update(rows=rows0 + lines, bytes_read=bytes0 + bytes_read)

            loaded = _load(source=source, run=run, index=index, progress=report)
            _rejects_store(run=run, source=source, rejects=loaded.rejects)
            run.rows_inserted += loaded.inserted
            run.rows_rejected += len(loaded.rejects)
            valid += loaded.valid
            lines_before, bytes_before = valid + run.rows_rejected, bytes_before + source.size
            bar.update(bytes_before - bar.n)
            writer.update(rows=lines_before, bytes_read=bytes_before, force=True)
    writer.close()
    loaders.finish_import(run)
    run.rows_read = valid + run.rows_rejected
    run.rows_duplicate = valid - run.rows_inserted
    run.parse_seconds = time.perf_counter() - started


def _load(
    *, source: RegisterSource, run: ImportRun, index: int, progress: loaders.Progress
) -> loaders.Loaded:
    variant = str(source.variant)
    if connection.vendor == "postgresql":
        return loaders.load_source(
            source=source, run=run, variant=variant, progress=progress, index=index
        )
    # SQLite (the demo): no progress while the import runs (see `ProgressWriter`).
    return demo_loader.load_orm(source=source, run=run, variant=variant)


def _rejects_store(*, run: ImportRun, source: RegisterSource, rejects: list[Reject]) -> None:
    for start in range(0, len(rejects), REJECT_BATCH):
        ImportReject.objects.bulk_create(
            ImportReject(run=run, source=source.name, line=r.line, reason=r.reason[:255], raw=r.raw)
            for r in rejects[start : start + REJECT_BATCH]
        )
