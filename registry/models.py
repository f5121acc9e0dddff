from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from recognition.search_key import SQL_FROM, SQL_TO, StoredKey
from registry.normalise import is_deregistration


@dataclass(frozen=True)
class ImportProgress:
    """How far a register import has got, from its run row (see registry/progress.py)."""

    rows: int
    bytes_read: int
    bytes_total: int
    elapsed_seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0

    @property
    def fraction(self) -> float | None:
        if not self.bytes_total:
            return None
        return min(1.0, self.bytes_read / self.bytes_total)

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left at the byte rate so far (rows vary in length, bytes do not lie)."""
        if not self.bytes_read or not self.bytes_total or self.elapsed_seconds <= 0:
            return None
        rate = self.bytes_read / self.elapsed_seconds
        return max(0.0, (self.bytes_total - self.bytes_read) / rate)


class ImportRun(models.Model):
    """One import of one register file (a ZIP counts as one run, all its CSVs together)."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    file_name = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64, db_index=True)
    file_size = models.BigIntegerField(default=0)
    variant = models.CharField(max_length=16, blank=True)
    encoding = models.CharField(max_length=16, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING)
    error = models.TextField(blank=True)
    rows_read = models.BigIntegerField(default=0)
    rows_inserted = models.BigIntegerField(default=0)
    rows_duplicate = models.BigIntegerField(default=0)
    rows_rejected = models.BigIntegerField(default=0)
    listings_touched = models.IntegerField(default=0)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    parse_seconds = models.FloatField(
        default=0.0, help_text="Wall seconds reading, parsing and loading all rows."
    )
    merge_seconds = models.FloatField(
        default=0.0, help_text="Seconds PostgreSQL spent merging (overlaps parsing)."
    )
    # Live progress, written every few seconds while the run is going (registry/progress.py).
    progress_rows = models.BigIntegerField(default=0)
    progress_bytes = models.BigIntegerField(default=0)
    progress_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.status})"

    def progress(self) -> ImportProgress:
        if self.status == self.Status.RUNNING:
            rows, done = self.progress_rows, self.progress_bytes
            elapsed = ((self.progress_at or self.started_at) - self.started_at).total_seconds()
            if self.progress_at is None:
                elapsed = (timezone.now() - self.started_at).total_seconds()
        else:
            rows, done = self.rows_read, self.file_size
            elapsed = self.duration_seconds or 0.0
        return ImportProgress(rows, done, self.file_size, elapsed)

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class ImportReject(models.Model):
    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="rejects")
    source = models.CharField(max_length=255, blank=True, help_text="CSV name inside a ZIP.")
    line = models.PositiveIntegerField()
    reason = models.CharField(max_length=255)
    raw = models.TextField(blank=True)

    class Meta:
        ordering = ["run_id", "source", "line"]

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


# The search fold's pairs for the characters a plate key can hold (``normalise_plate`` gives
# upper-case Latin letters and digits): on those keys the same fold as ``recognition.search_key``
# (tests/webapp/review/test_search.py checks it character by character), and a fifth of its
# cost per row, which every imported row pays when it is written.
# SQL_FROM ends in the separators that translate() deletes: they have no partner in SQL_TO.
_KEY_PAIRS = [(a, b) for a, b in zip(SQL_FROM, SQL_TO, strict=False) if "A" <= a <= "Z"]
KEY_FROM = "".join(a for a, _b in _KEY_PAIRS)
KEY_TO = "".join(b for _a, b in _KEY_PAIRS)


class RegisterPlateKey(StoredKey):
    """SQL for ``RegisterRecord.plate_key``: the plate folded onto the plate search's confusion
    keys (``B`` and ``8`` are one character, as in the readings' ``search_key``)."""

    template = f"translate(plate_latin::text, '{KEY_FROM}', '{KEY_TO}')"
    sqlite = "plate_latin"  # the column only keeps the plate there


class RegisterRecord(models.Model):
    """One registration operation, kept forever: plates move between cars, history is evidence.

    On PostgreSQL the table is partitioned by import run: each import's rows are one partition,
    loaded without indexes and attached once indexed (migration 0003, registry/partitions.py).

    The current record for a plate is the latest by ``d_reg``, a registration after a removal of
    the same day, then by ``id`` (rows are inserted in file order), see
    ``registry.selectors.register_current_for_plate``. It may be a removal (``deregistered``).
    """

    plate = models.CharField(max_length=16, blank=True, help_text="As in the file (Cyrillic).")
    plate_latin = models.CharField(max_length=16, blank=True)
    vin = models.CharField(max_length=32, blank=True)
    brand = models.CharField(max_length=128, blank=True)
    model = models.CharField(max_length=128, blank=True)
    make_norm = models.CharField(max_length=64, blank=True)
    model_norm = models.CharField(max_length=128, blank=True)
    colour = models.CharField(max_length=64, blank=True)
    colour_canonical = models.CharField(max_length=16, blank=True)
    make_year = models.PositiveSmallIntegerField(null=True, blank=True)
    d_reg = models.DateField()
    oper_code = models.IntegerField(null=True, blank=True)
    oper_name = models.CharField(max_length=255, blank=True)
    dep_code = models.CharField(max_length=16, blank=True)
    dep = models.CharField(max_length=255, blank=True)
    kind = models.CharField(max_length=64, blank=True)
    body = models.CharField(max_length=64, blank=True)
    purpose = models.CharField(max_length=64, blank=True)
    fuel = models.CharField(max_length=64, blank=True)
    capacity = models.IntegerField(null=True, blank=True)
    own_weight = models.IntegerField(null=True, blank=True)
    total_weight = models.IntegerField(null=True, blank=True)
    person = models.CharField(max_length=4, blank=True)
    koatuu = models.CharField(max_length=16, blank=True)
    source_variant = models.CharField(max_length=16, blank=True)
    # No index on the run: it is only read from the run's admin page, and every index costs
    # import time on millions of rows. On PostgreSQL each run's rows are a partition, so the run
    # is structural; no constraint in the database (attaching a partition would clone it and
    # lock the runs' table until the import commits). Django still protects a run with records.
    import_run = models.ForeignKey(
        ImportRun,
        on_delete=models.PROTECT,
        related_name="records",
        db_index=False,
        db_constraint=False,
    )
    line = models.PositiveIntegerField()
    # Not unique in the database: on PostgreSQL the table is partitioned by import run
    # (registry/partitions.py), and each import drops the hashes the register already holds.
    row_hash = models.UUIDField(help_text="md5 of the operation's fields: its identity.")
    # The plate search's key (issue 20), computed by the database for every writer. Indexed by
    # pg_trgm (review migration 0008) as a column: the same index over the expression took
    # each import 4 s more per 500,000 rows, the fold evaluated row by row inside the build.
    plate_key = models.GeneratedField(
        expression=RegisterPlateKey(), output_field=models.TextField(), db_persist=True
    )

    class Meta:
        indexes = [
            models.Index(fields=["row_hash"], name="register_row_hash_idx"),
            # "current record for a plate" is one index scan: newest d_reg first, then row order.
            # Partial: 2026 rows have no plate and 2013-2020 rows no VIN (millions of "").
            models.Index(
                fields=["plate_latin", "-d_reg", "-id"],
                name="register_plate_idx",
                condition=~models.Q(plate_latin=""),
            ),
            models.Index(
                fields=["vin", "-d_reg", "-id"],
                name="register_vin_idx",
                condition=~models.Q(vin=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plate or self.vin} {self.brand} {self.model} ({self.d_reg})"

    @property
    def deregistered(self) -> bool:
        """The operation took the car off the register: its plate is on no registered car."""
        return is_deregistration(self.oper_name)


class WatchEntry(models.Model):
    """A plate or VIN the marketplace watches for (a car reported stolen, one used in a fraud):
    every listing whose photos show it, or that declares it, is flagged (`registry.watchlist`).
    Deleting the entry clears the open flags it raised; decided ones stay as history."""

    class Reason(models.TextChoices):
        STOLEN = "stolen", _("reported stolen")
        FRAUD = "fraud", _("used in a fraud")
        OTHER = "other", _("other")

    plate = models.CharField(
        max_length=16, blank=True, db_index=True, help_text=_("Any spelling; stored as its key.")
    )
    vin = models.CharField(max_length=32, blank=True, db_index=True)
    reason = models.CharField(max_length=8, choices=Reason.choices, default=Reason.STOLEN)
    source = models.CharField(
        max_length=200, blank=True, help_text=_("Who reported it: a police notice, a buyer, ...")
    )
    note = models.TextField(blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-added_at", "-id"]
        verbose_name_plural = "watch entries"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(plate="", vin=""), name="watch_entry_plate_or_vin"
            )
        ]

    def __str__(self) -> str:
        return " / ".join(key for key in (self.plate, self.vin) if key) + f" ({self.reason})"


class RegisterFetch(models.Model):
    """One look at the register's published source for one file (`registry.fetch`): what the
    server answered, and the import it led to."""

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        IMPORTED = "imported", "Imported"  # a new file, imported (its run says what it added)
        NOT_MODIFIED = "not_modified", "Not modified"  # the server said so (304)
        UNCHANGED = "unchanged", "Unchanged"  # new headers, bytes already imported
        FAILED = "failed", "Failed"

    source_url = models.URLField(max_length=2000, help_text="The setting's URL: a file or a list")
    file_url = models.URLField(max_length=2000, help_text="The file fetched")
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.RUNNING)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    etag = models.CharField(max_length=255, blank=True)
    last_modified = models.CharField(max_length=64, blank=True)
    bytes = models.BigIntegerField(default=0)
    listed = models.CharField(
        max_length=255,
        blank=True,
        help_text="What the dataset listing said of the file when it was looked at (its "
        "last_modified, size and hash): a file listed otherwise later is looked at again",
    )
    import_run = models.ForeignKey(
        ImportRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="fetches"
    )
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["file_url", "-started_at"], name="register_fetch_file")]

    def __str__(self) -> str:
        return f"{self.file_url} ({self.outcome})"
