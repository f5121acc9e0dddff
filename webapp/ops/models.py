from __future__ import annotations

from django.db import models
from django.utils import timezone


class MediaSweep(models.Model):
    """One upload folder's pass of the orphaned-media sweep (webapp/ops/media.py), written as it
    goes: /metrics sums these rows into counters, whichever process swept. Dry runs leave none."""

    folder = models.CharField(max_length=64)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(
        null=True, blank=True, help_text="Empty: still running, or stopped before the end."
    )
    grace_seconds = models.PositiveIntegerField(help_text="Younger files were not looked at.")
    files = models.PositiveBigIntegerField(default=0)
    young = models.PositiveBigIntegerField(default=0)
    referenced = models.PositiveBigIntegerField(default=0)
    deleted = models.PositiveBigIntegerField(default=0)
    deleted_bytes = models.PositiveBigIntegerField(default=0)
    failed = models.PositiveBigIntegerField(
        default=0, help_text="Orphans that could not be deleted (see the log)."
    )

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.folder} sweep of {self.started_at:%Y-%m-%d %H:%M}"


class RetentionPurge(models.Model):
    """One kind's pass of the daily retention purge (webapp/ops/retention.py), written after each
    batch: /metrics sums these rows into counters. Dry runs leave none."""

    kind = models.CharField(max_length=32)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(
        null=True, blank=True, help_text="Empty: still running, or stopped before the end."
    )
    retention_days = models.PositiveIntegerField()
    cutoff = models.DateTimeField(help_text="Older rows were deleted (the database's clock).")
    deleted = models.PositiveBigIntegerField(default=0)
    files_deleted = models.PositiveBigIntegerField(default=0)
    files_failed = models.PositiveBigIntegerField(
        default=0, help_text="Files that could not be deleted (see the log)."
    )

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} purge of {self.started_at:%Y-%m-%d %H:%M}"


class Backup(models.Model):
    """One backup (webapp/ops/backup.py) and, once checked, its restore's result."""

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    folder = models.CharField(max_length=500)
    ok = models.BooleanField(default=False, help_text="Whole and in its folder.")
    error = models.TextField(blank=True)
    database_bytes = models.PositiveBigIntegerField(default=0)
    media_files = models.PositiveBigIntegerField(default=0)
    media_bytes = models.PositiveBigIntegerField(default=0)
    media_linked = models.PositiveBigIntegerField(
        default=0, help_text="Files hard-linked to the previous backup's copy (unchanged)."
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    verify_ok = models.BooleanField(null=True, blank=True)
    verify_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"backup of {self.started_at:%Y-%m-%d %H:%M}"
