"""Tokens and webhook endpoints in the admin: a token's hash and an endpoint's secrets never
show; a new key or signing secret is shown once, in the success message."""

from __future__ import annotations

from axes import admin as axes_admin
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.exceptions import NotRegistered
from django.http import HttpRequest
from rest_framework.authtoken.models import TokenProxy

from webapp.partners.models import (
    ALL_SCOPES,
    PartnerQuota,
    PartnerToken,
    UsageDay,
    WebhookDelivery,
    WebhookEndpoint,
)
from webapp.partners.tokens import token_create, token_revoke
from webapp.partners.usage import usage_quota
from webapp.partners.webhooks import webhook_endpoint_enable, webhook_endpoint_secret_rotate


class TokenCreateForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=[(s, s) for s in ALL_SCOPES], widget=forms.CheckboxSelectMultiple
    )
    days = forms.IntegerField(min_value=1, max_value=3650, initial=90)

    class Meta:
        model = PartnerToken
        fields = ["user", "name", "scopes", "days"]


@admin.register(PartnerToken)
class PartnerTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "user", "scopes", "expires_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "user__username"]
    readonly_fields = ["prefix", "scopes", "expires_at", "last_used_at", "revoked_at", "created_at"]
    exclude = ["key_hash"]
    actions = ["revoke"]

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = TokenCreateForm
            kwargs["fields"] = ["user", "name", "scopes", "days"]
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return ["user", "name", *self.readonly_fields] if obj else []

    def save_model(self, request: HttpRequest, obj: PartnerToken, form, change: bool) -> None:
        if change:
            return  # a token's fields do not change; revoke it and make a new one
        issued = token_create(
            user=form.cleaned_data["user"],
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            days=form.cleaned_data["days"],
        )
        obj.pk = issued.token.pk
        messages.warning(request, f"The new key, shown only this once: {issued.key}")

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset) -> None:
        for token in queryset:
            token_revoke(token=token)
        self.message_user(request, f"{queryset.count()} token(s) revoked")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = [
        "url", "owner", "events", "is_active", "disabled_reason", "failures_in_row",
        "disabled_at", "secret_rotated_at",
    ]  # fmt: skip
    list_filter = ["is_active"]
    exclude = ["secret", "previous_secret"]
    readonly_fields = ["secret_rotated_at", "previous_secret_expires_at"]
    actions = ["enable", "rotate_secret"]

    @admin.action(description="Enable the selected endpoints (what waited is sent)")
    def enable(self, request: HttpRequest, queryset) -> None:
        for endpoint in queryset:
            webhook_endpoint_enable(endpoint=endpoint)
        self.message_user(request, f"{queryset.count()} endpoint(s) enabled")

    @admin.action(description="Rotate the signing secret (the old one keeps signing for a while)")
    def rotate_secret(self, request: HttpRequest, queryset) -> None:
        for endpoint in queryset:
            rotated = webhook_endpoint_secret_rotate(endpoint=endpoint)
            messages.warning(
                request,
                f"The new signing secret of {rotated.url}, shown only this once: {rotated.secret} "
                "(the old one also signs until "
                f"{rotated.previous_secret_expires_at.isoformat(timespec='minutes')})",
            )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["message_id", "endpoint", "event", "status", "attempts", "created_at"]
    list_filter = ["status", "event"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]


@admin.register(PartnerQuota)
class PartnerQuotaAdmin(admin.ModelAdmin):
    """A partner's own monthly quota; the others have API_MONTHLY_PHOTOS."""

    list_display = ["user", "photos_per_month", "used_this_month", "note", "updated_at"]
    search_fields = ["user__username", "note"]
    autocomplete_fields = ["user"]

    @admin.display(description="used this month")
    def used_this_month(self, obj: PartnerQuota) -> int:
        return usage_quota(user=obj.user).used


@admin.register(UsageDay)
class UsageDayAdmin(admin.ModelAdmin):
    """Photos read a day, a partner and a kind: counted by the API, never edited by hand."""

    list_display = ["day", "user", "kind", "count"]
    list_filter = ["kind", ("day", admin.DateFieldListFilter)]
    search_fields = ["user__username"]
    date_hierarchy = "day"
    list_select_related = ["user"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


# DRF's token admin lists keys in plain text; partner tokens above replace those tokens.
try:
    admin.site.unregister(TokenProxy)
except NotRegistered:
    pass


# django-axes 8.3.1's "Clean up expired attempts" reads request.axes_attempt_time, which only
# its login path sets: from the admin it answered 500 (issue 19's smoke test found it).
class AccessAttemptAdmin(axes_admin.AccessAttemptAdmin):
    @admin.action(
        description=axes_admin.AccessAttemptAdmin.cleanup_expired_attempts.short_description
    )
    def cleanup_expired_attempts(self, request: HttpRequest, queryset) -> None:
        AxesProxyHandler.update_request(request)
        super().cleanup_expired_attempts(request, queryset)


admin.site.unregister(AccessAttempt)
admin.site.register(AccessAttempt, AccessAttemptAdmin)
