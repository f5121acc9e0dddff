"""OpenAPI pieces: the one error shape for every status, and how tokens authenticate."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from drf_standardized_errors.openapi import AutoSchema as StandardizedErrorsAutoSchema
from rest_framework import serializers

ERROR_TYPES = ("validation_error", "client_error", "server_error")


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="stable and machine-readable, e.g. `throttled`")
    detail = serializers.CharField(help_text="for people; may change")
    attr = serializers.CharField(allow_null=True, help_text="the input field at fault, if any")


class ErrorResponseSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ERROR_TYPES)
    errors = ErrorSerializer(many=True)


DATABASE_UNAVAILABLE = (
    "database_unavailable: the database is briefly unavailable (restarting or unreachable); "
    "nothing of the request was kept. Send it again after Retry-After."
)
# Every status gets the same documented body; the codes are listed in the API description.
ERROR_SCHEMAS: dict[str, Any] = dict.fromkeys(
    ("400", "401", "403", "404", "405", "406", "413", "415", "429", "500"), ErrorResponseSerializer
)
ERROR_SCHEMAS["503"] = OpenApiResponse(ErrorResponseSerializer, description=DATABASE_UNAVAILABLE)
RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    response=[503],
    description="seconds to wait before sending the request again",
)


class AutoSchema(StandardizedErrorsAutoSchema):
    """drf-standardized-errors' schema, plus the 503 `database_unavailable` that any operation
    may answer (webapp/outage.py answers it, not the view), with its Retry-After."""

    def _get_allowed_error_status_codes(self) -> list[str]:
        return [*super()._get_allowed_error_status_codes(), "503"]

    def get_override_parameters(self) -> list[Any]:
        # A view's own Retry-After (its own 503: storage_unavailable) comes later, and wins.
        return [RETRY_AFTER, *super().get_override_parameters()]


class PartnerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "webapp.partners.authentication.PartnerTokenAuthentication"
    name = "partnerToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "`Authorization: Bearer pc_...`; make keys with `manage.py "
            "partner_token create` or POST /api/v1/token/.",
        }


def _choices(name: str) -> list[tuple[str, str]]:
    from webapp.checks.models import Flag
    from webapp.listings.models import Photo
    from webapp.partners.models import WebhookDelivery

    return {
        "photo": Photo.Status.choices,
        "flag": Flag.Status.choices,
        "delivery": WebhookDelivery.Status.choices,
    }[name]


# Several models have a `status`; these names keep their enums apart in the schema.
PHOTO_STATUS = _choices("photo")
FLAG_STATUS = _choices("flag")
DELIVERY_STATUS = _choices("delivery")
