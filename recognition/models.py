from __future__ import annotations

from django.conf import settings
from django.db import models

from recognition.search_key import ReadingSearchKey


class Reading(models.Model):
    """One plate read on one photo by one engine version (or by a person).

    Rows are never deleted when a newer model re-reads the photo, so results of model versions can
    be compared on the same photos.
    """

    class Source(models.TextChoices):
        ENGINE = "engine", "Engine"
        HUMAN = "human", "Human"

    photo = models.ForeignKey("listings.Photo", on_delete=models.CASCADE, related_name="readings")
    model_version = models.CharField(max_length=64)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.ENGINE)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="readings",
    )
    plate_text = models.CharField(max_length=16, db_index=True)
    plate_format = models.CharField(max_length=16, blank=True)
    confidence = models.FloatField()
    char_confidences = models.JSONField(default=list)
    alternatives = models.JSONField(default=list)
    corners = models.JSONField(default=list)
    box = models.JSONField(default=list)
    detection_score = models.FloatField(default=0.0)
    timings = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    # Folded text + alternatives for the moderators' plate search (issue 20); the database
    # computes it, so every writer (bulk_create included) keeps it right.
    search_key = models.GeneratedField(
        expression=ReadingSearchKey(), output_field=models.TextField(), db_persist=True
    )

    class Meta:
        ordering = ["photo_id", "-created_at", "id"]
        indexes = [
            models.Index(fields=["photo", "model_version"], name="reading_photo_version_idx")
        ]

    def __str__(self) -> str:
        return f"{self.plate_text} ({self.model_version})"


class PhotoRead(models.Model):
    """One photo read by one engine version, whatever it found.

    A version's readings say which plates it found, not which photos it read: a photo it read
    and found no plate on leaves no reading. This row does, so two versions can be compared on
    the photos both read (`recognition.version_compare`), their empty results included.
    """

    photo = models.ForeignKey("listings.Photo", on_delete=models.CASCADE, related_name="reads")
    model_version = models.CharField(max_length=64)
    plates = models.PositiveSmallIntegerField(help_text="Plates this version reported.")
    read_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["photo", "model_version"], name="photo_read_once")
        ]
        indexes = [models.Index(fields=["model_version", "-read_at"], name="photo_read_latest_idx")]

    def __str__(self) -> str:
        return f"photo {self.photo_id} read by {self.model_version}"


class CrosscheckRequestQuerySet(models.QuerySet["CrosscheckRequest"]):
    def due(self) -> CrosscheckRequestQuerySet:
        """Not checked since the latest request (the rows `CrosscheckRequest.is_due`)."""
        return self.filter(
            models.Q(checked_at__isnull=True) | models.Q(checked_at__lt=models.F("requested_at"))
        )

    def given_up(self, given_up: bool = True) -> CrosscheckRequestQuerySet:
        """Whose check raised `CROSSCHECK_MAX_FAILURES` times in a row (or, False: has not)."""
        limit = settings.CROSSCHECK_MAX_FAILURES
        return self.filter(failures__gte=limit) if given_up else self.filter(failures__lt=limit)


class CrosscheckRequest(models.Model):
    """Transactional outbox of the cross-check: one row per listing whose facts changed.

    Written in the same transaction as the readings (or the register records) that call for a
    check, so a broker that is down at that moment loses nothing: the sweeper sends every
    request whose listing has not been checked since it was made.
    """

    listing = models.OneToOneField(
        "listings.Listing", on_delete=models.CASCADE, related_name="crosscheck_request"
    )
    requested_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(
        default=0, help_text="Checks of this request that raised, in a row."
    )
    last_error = models.TextField(blank=True, default="")

    objects = CrosscheckRequestQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["checked_at", "requested_at"], name="crosscheck_due_idx")]

    def __str__(self) -> str:
        return f"cross-check of listing {self.listing_id}"

    @property
    def is_due(self) -> bool:
        return self.checked_at is None or self.checked_at < self.requested_at


class BacklogRun(models.Model):
    """One nightly (or operator-started) pass over the photos an engine version has not read."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"

    model_version = models.CharField(max_length=64)
    total = models.PositiveIntegerField(default=0, help_text="Photos to read when it started.")
    enqueued = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The photos this run sent: its progress counts them and nothing else (a photo deleted
    # meanwhile leaves the run with its row; a fresh upload read meanwhile was never in it).
    photos = models.ManyToManyField(
        "listings.Photo", related_name="+", blank=True, help_text="Photos this run sent."
    )

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"backlog {self.model_version} ({self.status})"
