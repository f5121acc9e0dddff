"""Loading a register source on SQLite (the demo): batched ``bulk_create`` of the rows whose
hash is new. PostgreSQL's path, COPY and SQL inside the import's transaction, is
``registry.loaders``."""

from __future__ import annotations

import uuid

from registry.importers import RegisterRow, RegisterSource, Reject
from registry.loaders import Loaded
from registry.models import ImportRun, RegisterRecord

ORM_BATCH_ROWS = 1_000  # rows per INSERT


def load_orm(*, source: RegisterSource, run: ImportRun, variant: str) -> Loaded:
    """Portable fallback: batched bulk_create of the rows whose hash is new."""
    result = Loaded()
    batch: list[RegisterRow] = []
    seen: set[uuid.UUID] = set()  # this import's hashes: a file may repeat a row

    def flush() -> None:
        hashes = [uuid.UUID(row.row_hash) for row in batch]
        known = set(
            RegisterRecord.objects.filter(row_hash__in=hashes).values_list("row_hash", flat=True)
        )
        new = []
        for row, key in zip(batch, hashes, strict=True):
            if key not in known and key not in seen:
                seen.add(key)
                new.append(RegisterRecord(**row._asdict(), source_variant=variant, import_run=run))
        RegisterRecord.objects.bulk_create(new)
        result.inserted += len(new)
        batch.clear()

    for item in source.rows():
        if isinstance(item, Reject):
            result.rejects.append(item)
            continue
        result.valid += 1
        batch.append(item)
        if len(batch) >= ORM_BATCH_ROWS:
            flush()
    flush()
    return result


__all__ = ["ORM_BATCH_ROWS", "load_orm"]
