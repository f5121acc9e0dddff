"""Parking gates: sites, gates, their Raspberry Pi devices, access and block lists, passages.

A device's secret is stored because HMAC needs it on both sides; it is shown once, when the
device is created (`gate_device_add`), and never again (not in the admin, not in any page).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F
from django.utils.translation import pgettext_lazy

from registry.models import WatchEntry


class Site(models.Model):
    """A car park: its entry and exit gates count the vehicles on it (`Visit`)."""

    name = models.CharField(max_length=128, unique=True)
    capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Parking spaces: the site page shows how full it is."
    )
    max_stay_hours = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="A vehicle on site longer than this is marked as overstaying; blank: never.",
    )
    close_stays_after_hours = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="A vehicle on site longer than this is taken off it, its exit not seen, so "
        "that exits the cameras missed do not fill the site for ever; blank: never.",
    )
    anti_passback = models.BooleanField(
        default=False,
        help_text="An entry gate refuses a plate already on site (entered, no exit seen): a "
        "second car wearing the same plate, a cloned plate. Off by default: an exit the "
        "cameras missed would refuse the car's next entry until an operator takes it off the "
        "site (Has left) or opens by hand.",
    )

    def __str__(self) -> str:
        return self.name


class Direction(models.TextChoices):
    BOTH = "both", pgettext_lazy("gate direction", "Entry and exit")
    ENTRY = "entry", pgettext_lazy("gate direction", "Entry")
    EXIT = "exit", pgettext_lazy("gate direction", "Exit")


class Gate(models.Model):
    name = models.CharField(max_length=64, unique=True)
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.SET_NULL, related_name="gates"
    )
    direction = models.CharField(
        max_length=8,
        choices=Direction.choices,
        default=Direction.BOTH,
        help_text="An entry or exit gate of a site records its vehicles' visits when it opens; "
        "a gate for both ways cannot tell arrivals from departures and records none.",
    )
    open_to_all = models.BooleanField(
        default=False,
        help_text="Open for any plate read with enough confidence, except the block-list: an "
        "exit, or a visitors' entrance whose cars are counted. Off: only the access list.",
    )
    allow_confusable = models.BooleanField(
        default=False,
        help_text="Admit a plate that differs from an allowed one in a single OCR-confusable "
        "character (0/O/D, 8/B, 1/I, 5/S, 2/Z). Off: it would also admit look-alike plates.",
    )
    min_confidence = models.FloatField(
        default=0.6, help_text="Voted confidence needed before the gate opens."
    )
    deny_after_frames = models.PositiveSmallIntegerField(
        default=5, help_text="Frames of one passage without a match before the gate says deny."
    )
    passage_gap_s = models.FloatField(
        default=4.0, help_text="Frames closer together than this belong to one passage."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Device(models.Model):
    device_id = models.CharField(max_length=32, unique=True)
    gate = models.ForeignKey(Gate, on_delete=models.CASCADE, related_name="devices")
    secret = models.CharField(max_length=128, editable=False)
    is_active = models.BooleanField(default=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    last_address = models.GenericIPAddressField(null=True, blank=True)
    software_version = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["gate__name", "device_id"]

    def __str__(self) -> str:
        return self.device_id


class AccessEntry(models.Model):
    """One plate allowed through one gate, optionally only in a date range, on days, in hours."""

    gate = models.ForeignKey(Gate, on_delete=models.CASCADE, related_name="access_entries")
    plate = models.CharField(max_length=16, help_text="Stored normalised (Latin, no spaces).")
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    days = models.CharField(
        max_length=16,
        blank=True,
        help_text="Weekdays as digits, Monday=0 (e.g. 01234); blank: all.",
    )
    hour_from = models.TimeField(null=True, blank=True)
    hour_until = models.TimeField(
        null=True, blank=True, help_text="Exclusive; earlier than hour_from wraps past midnight."
    )
    note = models.CharField(max_length=255, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["gate__name", "plate", "id"]
        indexes = [models.Index(fields=["gate", "plate"])]
        verbose_name_plural = "access entries"

    def __str__(self) -> str:
        return f"{self.plate} @ {self.gate_id}"


class BlockEntry(models.Model):
    """A plate that never opens a gate: every gate when `gate` is blank."""

    plate = models.CharField(max_length=16)
    gate = models.ForeignKey(
        Gate, null=True, blank=True, on_delete=models.CASCADE, related_name="block_entries"
    )
    reason = models.CharField(max_length=255, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["plate"]
        verbose_name_plural = "block entries"

    def __str__(self) -> str:
        return self.plate


class Decision(models.TextChoices):
    OPEN = "open", pgettext_lazy("gate decision", "Open")
    DENY = "deny", pgettext_lazy("gate decision", "Deny")
    UNKNOWN = "unknown", pgettext_lazy("gate decision", "Unknown")


class Passage(models.Model):
    """The frames of one vehicle's approach, voted into one plate and one decision."""

    gate = models.ForeignKey(Gate, on_delete=models.CASCADE, related_name="passages")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="passages")
    started_at = models.DateTimeField()
    last_frame_at = models.DateTimeField()
    frames_count = models.PositiveIntegerField(default=0)
    voted_plate = models.CharField(max_length=16, blank=True)
    confidence = models.FloatField(default=0.0)
    decision = models.CharField(max_length=8, choices=Decision.choices, default=Decision.UNKNOWN)
    reason = models.CharField(max_length=255, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # The marketplace's watch list (registry.WatchEntry) names the voted plate: the gate's
    # decision stands, the operators are told (the live page, the gate.passage webhook).
    watched = models.CharField(
        max_length=8,
        blank=True,
        choices=WatchEntry.Reason.choices,
        help_text="Why the watch list watches for the voted plate; empty: it does not.",
    )
    decide_ms = models.FloatField(
        null=True, blank=True, help_text="From the first frame's arrival to the decision."
    )

    class Meta:
        ordering = ["-last_frame_at", "-id"]
        indexes = [
            models.Index(fields=["device", "-last_frame_at"]),
            # The passages page, newest first: all of them, or one gate's. (A plate's prefix:
            # a trigram index of gates migration 0008, on PostgreSQL.)
            models.Index(fields=["-last_frame_at", "-id"], name="passage_recent_idx"),
            models.Index(fields=["gate", "-last_frame_at"], name="passage_gate_recent_idx"),
        ]


# Every frame's file is under this folder of MEDIA_ROOT; the orphaned-media sweep
# (webapp/ops/media.py) deletes the files there that no frame references.
FRAMES_FOLDER = "gates"


def frame_upload_to(instance: Frame, filename: str) -> str:
    return f"{FRAMES_FOLDER}/{instance.device_id}/{filename}"


class Frame(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    passage = models.ForeignKey(
        Passage, null=True, blank=True, on_delete=models.CASCADE, related_name="frames"
    )
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="frames")
    client_frame_id = models.CharField(
        max_length=64, help_text="The device's id for the frame: a resend is stored once."
    )
    image = models.FileField(upload_to=frame_upload_to, max_length=255)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    captured_at = models.DateTimeField()
    received_at = models.DateTimeField()
    queued = models.BooleanField(
        default=False, help_text="Sent from the device's offline queue: for the record only."
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    error = models.CharField(max_length=255, blank=True)
    plate_text = models.CharField(max_length=16, blank=True)
    confidence = models.FloatField(default=0.0)
    char_confidences = models.JSONField(default=list)
    corners = models.JSONField(default=list)
    # What the passage said right after this frame was voted in: the device's answer.
    decision = models.CharField(max_length=8, choices=Decision.choices, blank=True)
    read_ms = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["device", "client_frame_id"], name="gates_frame_once_per_device"
            )
        ]


class DeviceRequest(models.Model):
    """Audit: every request that claimed to come from a device, accepted or refused."""

    device = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests"
    )
    claimed_device_id = models.CharField(max_length=64, blank=True)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=255)
    address = models.GenericIPAddressField(null=True, blank=True)
    body_bytes = models.PositiveIntegerField(default=0)
    accepted = models.BooleanField()
    code = models.CharField(max_length=32)
    reason = models.CharField(max_length=255, blank=True)
    frame = models.ForeignKey(Frame, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["device", "-created_at"])]


class Visit(models.Model):
    """One vehicle's stay on a site, from the entry gate's opening to the exit gate's.

    Either end may be missing: a camera missed the plate, a gate was opened by hand, or a
    device's queued frames have not arrived yet (they may fill it in later).
    """

    class State(models.TextChoices):
        INSIDE = "inside", pgettext_lazy("visit", "On site")
        LEFT = "left", pgettext_lazy("visit", "Left")
        EXIT_UNSEEN = "exit_unseen", pgettext_lazy("visit", "Exit not seen")
        ENTRY_UNSEEN = "entry_unseen", pgettext_lazy("visit", "Left, entry not seen")

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="visits")
    plate = models.CharField(max_length=16, help_text="As voted at the first gate that saw it.")
    plate_key = models.CharField(
        max_length=16, help_text="The plate with OCR-confusable characters folded: the match key."
    )
    state = models.CharField(max_length=16, choices=State.choices)
    entry_passage = models.OneToOneField(
        Passage, null=True, blank=True, on_delete=models.SET_NULL, related_name="visit_entered"
    )
    exit_passage = models.OneToOneField(
        Passage, null=True, blank=True, on_delete=models.SET_NULL, related_name="visit_left"
    )
    entered_at = models.DateTimeField(null=True, blank=True)
    exited_at = models.DateTimeField(null=True, blank=True)
    # An operator who took a vehicle off the site by hand (its exit was missed).
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    # When the gate operators were told the car has stayed past its site's max_stay_hours.
    overstay_alerted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["site", "plate_key", "entered_at"]),
            models.Index(fields=["site", "state", "entered_at"]),
            # the site page's stays that ended, newest first (webapp/gates/stays.py)
            models.Index(
                F("site"),
                F("exited_at").desc(nulls_last=True),
                F("entered_at").desc(nulls_last=True),
                F("id").desc(),
                name="visit_site_ended_idx",
            ),
            # the site page's occupancy: the stays that began in the last weeks
            models.Index(fields=["site", "entered_at"], name="visit_site_entered_idx"),
        ]

    @property
    def duration(self) -> timedelta | None:
        """How long the stay lasted, when both its ends are known."""
        if self.entered_at is None or self.exited_at is None:
            return None
        return self.exited_at - self.entered_at


class GateCommand(models.Model):
    """An operator's order to a gate: open the barrier now (a driver at the intercom, a plate
    the cameras cannot read). The first of the gate's devices to ask for orders takes it, once
    (`webapp.gates.commands`); one not taken by `expires_at` lapses."""

    class Action(models.TextChoices):
        OPEN = "open", pgettext_lazy("gate command", "Open")

    class Result(models.TextChoices):
        OPENED = "opened", pgettext_lazy("gate command", "Opened")
        FAILED = "failed", pgettext_lazy("gate command", "Failed")

    gate = models.ForeignKey(Gate, on_delete=models.CASCADE, related_name="commands")
    action = models.CharField(max_length=8, choices=Action.choices, default=Action.OPEN)
    reason = models.CharField(max_length=255)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    device = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.SET_NULL, related_name="commands"
    )
    taken_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(max_length=8, choices=Result.choices, blank=True)
    detail = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["gate", "taken_at", "expires_at"])]


class AuditAction(models.TextChoices):
    ACCESS_ADDED = "access_added", pgettext_lazy("gate audit", "Access entry added")
    ACCESS_CHANGED = "access_changed", pgettext_lazy("gate audit", "Access entry changed")
    ACCESS_REMOVED = "access_removed", pgettext_lazy("gate audit", "Access entry removed")
    BLOCK_ADDED = "block_added", pgettext_lazy("gate audit", "Block entry added")
    BLOCK_CHANGED = "block_changed", pgettext_lazy("gate audit", "Block entry changed")
    BLOCK_REMOVED = "block_removed", pgettext_lazy("gate audit", "Block entry removed")
    GATE_ADDED = "gate_added", pgettext_lazy("gate audit", "Gate added")
    GATE_CHANGED = "gate_changed", pgettext_lazy("gate audit", "Gate settings changed")
    GATE_REMOVED = "gate_removed", pgettext_lazy("gate audit", "Gate removed")
    GATE_OPENED = "gate_opened", pgettext_lazy("gate audit", "Opened by hand")
    SITE_ADDED = "site_added", pgettext_lazy("gate audit", "Site added")
    SITE_CHANGED = "site_changed", pgettext_lazy("gate audit", "Site settings changed")
    SITE_REMOVED = "site_removed", pgettext_lazy("gate audit", "Site removed")
    DEVICE_ADDED = "device_added", pgettext_lazy("gate audit", "Device added")
    DEVICE_REVOKED = "device_revoked", pgettext_lazy("gate audit", "Device revoked")
    VISIT_CLOSED = "visit_closed", pgettext_lazy("gate audit", "Taken off site by hand")


class GateAuditEntry(models.Model):
    """Who changed who may pass, and how (`webapp.gates.audit`): written in the change's own
    transaction, never edited, kept when the entry, gate or user it names is deleted."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=16, choices=AuditAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(
        max_length=150, blank=True, help_text="The user's name then: kept if the user goes."
    )
    via = models.CharField(
        max_length=64, help_text="Where the change was made: a page, the admin, a command."
    )
    gate = models.ForeignKey(
        Gate, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_entries"
    )
    gate_name = models.CharField(max_length=64, blank=True, help_text="Kept if the gate goes.")
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_entries"
    )
    plate = models.CharField(max_length=16, blank=True, db_index=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["gate", "-created_at"])]
        verbose_name_plural = "gate audit entries"

    def __str__(self) -> str:
        return f"{self.action} {self.plate or self.gate_name} by {self.actor_name or self.via}"
