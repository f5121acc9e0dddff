"""OpenAPI pieces: the one error shape for every status, and how tokens authenticate."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import serializers

ERROR_TYPES = ("validation_error", "client_error", "server_error")


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="stable and machine-readable, e.g. `throttled`")
    detail = serializers.CharField(help_text="for people; may change")
    attr = serializers.CharField(allow_null=True, help_text="the input field at fault, if any")


class ErrorResponseSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ERROR_TYPES)
    errors = ErrorSerializer(many=True)


# Every status gets the same documented body; the codes are listed in the API description.
ERROR_SCHEMAS = dict.fromkeys(
    ("400", "401", "403", "404", "405", "406", "413", "415", "429", "500"), ErrorResponseSerializer
)


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
