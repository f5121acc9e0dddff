"""Partner API, usage: the photos read this month against the quota, and charging for them.

Every call that has photos read (listings with photos, `photos/`, `recognize/`, `redact/`) is
charged through `charged`: over the quota it is refused with 429 `quota_exceeded` and a
Retry-After up to the month's end, and its answer says what is left (`Quota-Limit`,
`Quota-Remaining`, `Quota-Resets-On`). `GET usage/` reports a month a day and a kind.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from django.http import HttpResponseBase
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.api.errors import ApiError
from webapp.api.permissions import ANY_SCOPE, HasScope
from webapp.api.schema import ErrorResponseSerializer
from webapp.partners.models import UsageKind
from webapp.partners.usage import (
    Charge,
    Quota,
    QuotaExceeded,
    month_parse,
    usage_charge,
    usage_quota,
    usage_report,
)

QUOTA_EXCEEDED = OpenApiResponse(
    ErrorResponseSerializer,
    description="quota_exceeded: the photos asked for would pass this month's quota; nothing "
    "was read or kept. Retry-After: seconds to the month's end (`GET usage/` says how many "
    "are left).",
)


@contextmanager
def charged(request: Request, *, kind: str, count: int) -> Iterator[Charge | None]:
    """The request's photos counted against its partner's quota (None: no photos); a 429
    over the quota; counted back if the block raises."""
    if count <= 0:
        yield None
        return
    try:
        charge = usage_charge(user=request.user, kind=kind, count=count)
    except QuotaExceeded as exc:
        raise ApiError(
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            code="quota_exceeded",
            detail=str(exc),
            wait=exc.quota.seconds_to_reset(),
        ) from exc
    with charge:
        yield charge


def quota_headers(response: HttpResponseBase, quota: Quota | None) -> HttpResponseBase:
    if quota is not None:
        response["Quota-Limit"] = str(quota.limit)  # 0: no limit
        if quota.remaining is not None:
            response["Quota-Remaining"] = str(quota.remaining)
        response["Quota-Resets-On"] = quota.resets_on.isoformat()
    return response


class UsageDaySerializer(serializers.Serializer):
    day = serializers.DateField()
    photo = serializers.IntegerField(help_text="photos stored for reading")
    recognize = serializers.IntegerField(help_text="photos read now (`recognize/`)")
    redact = serializers.IntegerField(help_text="photos whose plates were hidden (`redact/`)")
    total = serializers.IntegerField()


class UsageKindsSerializer(serializers.Serializer):
    photo = serializers.IntegerField()
    recognize = serializers.IntegerField()
    redact = serializers.IntegerField()


class UsageSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM, in the service's time zone")
    limit = serializers.IntegerField(help_text="photos a month; 0: no limit")
    used = serializers.IntegerField()
    remaining = serializers.IntegerField(allow_null=True, help_text="null: no limit")
    resets_on = serializers.DateField(help_text="the first day of the next month")
    by_kind = UsageKindsSerializer()
    days = UsageDaySerializer(many=True, help_text="the days with any use, oldest first")


def _month(text: str) -> date:
    try:
        return month_parse(text)
    except ValueError:
        raise ValidationError({"month": ["a month as YYYY-MM"]}, code="invalid") from None


class Usage(APIView):
    """Photos read for your account this month (or `?month=YYYY-MM`), a day and a kind, against
    your monthly quota. Any token may ask."""

    permission_classes = [IsAuthenticated, HasScope]
    scopes = {"GET": ANY_SCOPE}

    @extend_schema(
        parameters=[
            OpenApiParameter("month", str, description="YYYY-MM; this month when left out")
        ],
        responses={200: UsageSerializer, 400: ErrorResponseSerializer},
    )
    def get(self, request: Request) -> Response:
        text = request.query_params.get("month")
        current = usage_quota(user=request.user)
        month = _month(text) if text else current.month
        report = usage_report(user=request.user, month=month)
        quota = report.quota
        body = {
            "month": quota.month.strftime("%Y-%m"),
            "limit": quota.limit,
            "used": quota.used,
            "remaining": quota.remaining,
            "resets_on": quota.resets_on,
            "by_kind": report.by_kind,
            "days": report.days,
        }
        return quota_headers(Response(UsageSerializer(body).data), current)


__all__ = ["QUOTA_EXCEEDED", "UsageKind", "Usage", "charged", "quota_headers"]
