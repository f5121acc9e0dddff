from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Listing(models.Model):
    marketplace_id = models.CharField(max_length=64, unique=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="listings",
        help_text="The partner account that created the listing.",
    )
    declared_make = models.CharField(max_length=64, blank=True)
    declared_model = models.CharField(max_length=64, blank=True)
    declared_colour = models.CharField(max_length=64, blank=True)
    declared_year = models.PositiveSmallIntegerField(null=True, blank=True)
    declared_plate = models.CharField(max_length=16, blank=True)
    declared_vin = models.CharField(max_length=17, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.marketplace_id


# Every photo's file is under this folder of MEDIA_ROOT; the orphaned-media sweep
# (webapp/ops/media.py) deletes the files there that no photo references.
PHOTOS_FOLDER = "photos"


def photo_upload_to(instance: Photo, filename: str) -> str:
    # Content-addressed names: a re-upload never overwrites another photo's file.
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"{PHOTOS_FOLDER}/{instance.sha256[:2]}/{instance.sha256}.{suffix}"


class Photo(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PROCESSING = "processing", _("Processing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(upload_to=photo_upload_to, max_length=255)
    sha256 = models.CharField(max_length=64)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    model_version = models.CharField(
        max_length=64, blank=True, help_text="Engine version of the last successful recognition."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    plate_areas = models.JSONField(
        null=True,
        blank=True,
        default=None,
        help_text="Where a plate may be, from the last recognition: [{corners, score, read}], "
        "what the copy fit to publish hides (recognition/redaction.py). Empty: none found; "
        "null: not known (not read yet, or read before these were kept).",
    )
    # --- recognition lease (issue 18): who reads the photo now, and whether a message is out ---
    queued_at = models.DateTimeField(
        null=True, blank=True, help_text="A recognition message was sent and not yet claimed."
    )
    lease_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="A worker reads the photo until then; others keep off."
    )
    leased_by = models.CharField(max_length=128, blank=True)
    # --- end recognition lease ---

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["listing", "sha256"], name="photo_unique_per_listing"),
        ]
        indexes = [
            # The photos read before their plate areas were kept, which the backlog reads again
            # and /metrics counts: few, among millions read.
            models.Index(
                fields=["id"],
                condition=models.Q(status="done", plate_areas__isnull=True),
                name="photo_areas_unknown",
            ),
        ]

    def __str__(self) -> str:
        return f"photo {self.pk} of {self.listing_id}"


class ListingEdit(models.Model):
    """A seller's change of a listing: what it declares (`services.listing_declared_update`),
    photos added to it (`services.photos_add`) or taken off (`services.photo_remove`). Moderators
    see what a listing said and showed before, as a seller may edit a flagged listing into
    another car."""

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="edits")
    edited_at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The partner account (API) or staff member (admin) that sent it.",
    )
    changes = models.JSONField(
        help_text='Each field changed: {"declared_make": [before, after]}; photos added: '
        '{"photo_added": [null, "photo 14, photo 15"]}; a photo removed: '
        '{"photo_removed": ["photo 12 (AA1234BB)", null]}.',
    )

    class Meta:
        ordering = ["-edited_at", "-id"]
        indexes = [models.Index(fields=["listing", "-edited_at"], name="listing_edit_idx")]

    def __str__(self) -> str:
        return f"edit of {self.listing_id} at {self.edited_at:%Y-%m-%d %H:%M}"
