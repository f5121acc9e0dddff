"""Flags: what the cross-check found on a listing, and what a moderator decided about it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from registry import crosscheck_findings as rules
from webapp.listings.models import Listing

# Labels only: the kinds and severities themselves are the rules' (registry.crosscheck_findings).
KIND_LABELS = {
    rules.Kind.PLATE_NOT_IN_REGISTER: _("Plate not in register"),
    rules.Kind.PLATE_DEREGISTERED: _("Plate deregistered"),
    rules.Kind.MAKE_MISMATCH: _("Make mismatch"),
    rules.Kind.MODEL_MISMATCH: _("Model mismatch"),
    rules.Kind.COLOUR_MISMATCH: _("Colour mismatch"),
    rules.Kind.YEAR_MISMATCH: _("Year mismatch"),
    rules.Kind.MULTIPLE_PLATES: _("Multiple plates"),
    rules.Kind.DECLARED_PLATE_MISMATCH: _("Declared plate mismatch"),
    rules.Kind.VIN_MISMATCH: _("VIN mismatch"),
    rules.Kind.VIN_DEREGISTERED: _("VIN deregistered"),
    rules.Kind.PLATE_ON_OTHER_LISTING: _("Plate on another listing"),
    rules.Kind.PLATE_WATCHED: _("Plate on the watch list"),
    rules.Kind.VIN_WATCHED: _("VIN on the watch list"),
}
SEVERITY_LABELS = {
    rules.Severity.LOW: _("Low"),
    rules.Severity.MEDIUM: _("Medium"),
    rules.Severity.HIGH: _("High"),
}


class Flag(models.Model):
    # Built from the rules' enums, so a kind the rules can emit is always a valid choice.
    Kind = models.TextChoices(
        "Kind", [(kind.name, (kind.value, KIND_LABELS[kind])) for kind in rules.Kind]
    )
    Severity = models.IntegerChoices(
        "Severity", [(s.name, (s.value, SEVERITY_LABELS[s])) for s in rules.Severity]
    )

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CONFIRMED = "confirmed", _("Confirmed")
        DISMISSED = "dismissed", _("Dismissed")

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="flags")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    key = models.CharField(max_length=64, blank=True)
    severity = models.PositiveSmallIntegerField(choices=Severity.choices)
    evidence = models.JSONField(default=dict)
    evidence_hash = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    plate_text = models.CharField(max_length=16, blank=True, db_index=True)
    plate_format = models.CharField(max_length=16, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reviewed_flags",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # The table keeps the name it had in the listings app, so no data moves.
        db_table = "listings_flag"
        ordering = ["status", "-severity", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["listing", "kind", "key"], name="flag_unique_kind_key"),
        ]
        indexes = [
            models.Index(fields=["status", "-severity", "created_at"], name="flag_queue_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.listing_id}"


class ListingVerdict(models.Model):
    """What the listing's latest cross-check could vouch for (``registry.crosscheck_verdict``):
    the plate it went by and the register record it compared the declared car with, and whether
    that proves the car (``reason`` empty) or why not. Rewritten by every cross-check; the state
    partners see combines it with the listing's photos and flags (``webapp.checks.verdicts``)."""

    listing = models.OneToOneField(
        Listing, primary_key=True, on_delete=models.CASCADE, related_name="verdict"
    )
    checked_at = models.DateTimeField()
    plate = models.CharField(max_length=16, blank=True)
    plate_source = models.CharField(max_length=16, blank=True)
    plate_confidence = models.FloatField(default=0.0)
    record = models.JSONField(null=True, blank=True)
    fields = models.JSONField(default=dict, blank=True)
    reason = models.CharField(max_length=32, blank=True, help_text="Empty: verified.")

    def __str__(self) -> str:
        return f"verdict on {self.listing_id}: {self.reason or 'verified'}"
