from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

MODERATORS_GROUP = "Moderators"


class AuditEntry(models.Model):
    """One moderator action on one flag: who, when, what, and the state before and after.

    Rows are append-only. The flag link survives a flag being deleted (the snapshot in
    ``before``/``after`` and ``flag_ref`` keep the trail readable).
    """

    class Action(models.TextChoices):
        CONFIRM = "confirm", _("Confirm")
        DISMISS = "dismiss", _("Dismiss")
        CORRECT_PLATE = "correct_plate", _("Correct plate")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="review_audit_entries",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=16, choices=Action.choices)
    flag = models.ForeignKey(
        "checks.Flag",
        null=True,
        on_delete=models.SET_NULL,
        related_name="audit_entries",
    )
    flag_ref = models.PositiveBigIntegerField(help_text="Flag id, kept if the flag is deleted.")
    listing = models.ForeignKey(
        "listings.Listing",
        null=True,
        on_delete=models.SET_NULL,
        related_name="audit_entries",
    )
    bulk = models.BooleanField(default=False, help_text="Part of a bulk decision.")
    reason = models.TextField(blank=True)
    seconds_open = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="How long the deciding moderator had the flag open (their hold), if they did.",
    )
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["flag_ref", "-created_at"], name="audit_flag_idx")]

    def __str__(self) -> str:
        return f"{self.action} flag {self.flag_ref} by {self.user_id}"


class FlagHold(models.Model):
    """A moderator has the flag's page open: other moderators' *Next* and bulk decisions pass it
    by until ``until`` (the database's clock; the page renews it while it stays open). A soft
    hold: anyone may still decide the flag on its page, where the hold is shown, and the flag's
    ``version`` settles a race. One flag per moderator: opening another releases the first."""

    flag = models.OneToOneField(
        "checks.Flag", primary_key=True, on_delete=models.CASCADE, related_name="hold"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_holds"
    )
    since = models.DateTimeField()
    until = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user"], name="review_hold_user_idx")]

    def __str__(self) -> str:
        return f"flag {self.flag_id} held by {self.user_id} until {self.until:%H:%M:%S}"
