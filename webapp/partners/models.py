"""Partner API tokens (hashed at rest), webhook endpoints with their deliveries, and each
partner's photos read a day against the monthly quota."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Scope(models.TextChoices):
    READ = "read", "Read listings, photos and flags"
    WRITE = "write", "Create, change and delete listings; add photos"
    WEBHOOKS = "webhooks", "Manage webhook endpoints"
    RECOGNIZE = "recognize", "Recognise one photo synchronously"


ALL_SCOPES = tuple(Scope.values)


class PartnerToken(models.Model):
    """Only the sha256 of the secret is stored; the key is shown once, when it is made."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="partner_tokens"
    )
    name = models.CharField(max_length=64)
    # The public part of the key, so a lookup is one indexed query and the admin can name it.
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class WebhookEvent(models.TextChoices):
    PHOTO_RECOGNIZED = "photo.recognized", "A photo's readings are stored"
    LISTING_CHECKED = "listing.checked", "A listing's cross-check finished"
    FLAG_DECIDED = "flag.decided", "A moderator decided a flag"
    GATE_PASSAGE = "gate.passage", "A parking gate decided a passage (for gate operators)"
    SITE_OVERSTAY = "site.overstay", "A car stayed past its site's limit (for gate operators)"
    USAGE_QUOTA = "usage.quota", "The month's photos reached 80 % or all of the quota"


class WebhookEndpoint(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list)
    secret = models.CharField(max_length=100)
    # After a rotation the old secret signs every message too until previous_secret_expires_at
    # (WEBHOOK_SECRET_GRACE_S), so a receiver switches to the new one without missing any.
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    # Deliveries given up in a row; a success resets it.
    failures_in_row = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=32, choices=WebhookEvent.choices)
    # The webhook-id header: the same for every attempt, so a receiver can drop repeats.
    message_id = models.CharField(max_length=40, unique=True)
    # Events of one listing are delivered in order: a later one waits for the earlier ones
    # (webapp.partners.ordering).
    listing_id = models.BigIntegerField(null=True, blank=True)
    payload = models.JSONField()
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # Set, and committed, before an attempt's request is made; cleared when its outcome is
    # recorded. While it lasts no other worker sends the delivery; a worker that died mid-attempt
    # leaves it to be sent again once it has passed.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # Set when a partner asks for the delivery again after it had ended: a redelivery is sent
    # outside its listing's order, so it neither waits for nor holds back the listing's others.
    redelivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["endpoint", "listing_id", "status"], name="delivery_order_idx")
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.message_id}"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveIntegerField()
    at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    # A short, stable description: "timeout", "connection refused", "HTTP 500".
    error = models.CharField(max_length=200, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["delivery_id", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}"


class UsageKind(models.TextChoices):
    """What a partner's photo was read for: each is one photo against the monthly quota."""

    PHOTO = "photo", "Photo stored for reading"
    RECOGNIZE = "recognize", "Photo read now (recognize)"
    REDACT = "redact", "Photo's plates hidden now (redact)"


class UsageDay(models.Model):
    """How many photos of one kind a partner had read on one day (TIME_ZONE's dates)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="usage_days"
    )
    day = models.DateField()
    kind = models.CharField(max_length=16, choices=UsageKind.choices)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["user", "day", "kind"], name="usage_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.day} {self.kind}: {self.count}"


class PartnerQuota(models.Model):
    """A partner's own monthly quota of photos, instead of API_MONTHLY_PHOTOS."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="partner_quota",
    )
    photos_per_month = models.PositiveIntegerField(
        help_text="Photos a calendar month (stored, recognised and redacted together); 0: no limit."
    )
    note = models.CharField(max_length=200, blank=True, help_text="The plan or agreement.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.photos_per_month or 'no limit'} a month"
