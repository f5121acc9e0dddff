"""Partner API, webhooks: endpoints (URL, events, secret and its rotation), deliveries and
attempts, redelivery."""

from __future__ import annotations

import django_filters
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.api.errors import ApiError
from webapp.api.permissions import HasScope
from webapp.gates.operators import is_gate_operator
from webapp.partners import webhooks
from webapp.partners.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

_WEBHOOKS = {"GET": "webhooks", "POST": "webhooks", "DELETE": "webhooks"}
GATE_EVENTS = {WebhookEvent.GATE_PASSAGE.value, WebhookEvent.SITE_OVERSTAY.value}


class EndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices), min_length=1
    )
    url = serializers.URLField(max_length=500)

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "events",
            "is_active",
            "disabled_at",
            "disabled_reason",
            "secret_rotated_at",
            "previous_secret_expires_at",
            "created_at",
        ]
        read_only_fields = [
            "id", "is_active", "disabled_at", "disabled_reason", "secret_rotated_at",
            "previous_secret_expires_at", "created_at",
        ]  # fmt: skip
        extra_kwargs = {
            "disabled_reason": {"help_text": "why it was disabled (failures, or 410 Gone)"},
            "previous_secret_expires_at": {
                "help_text": "until then the secret replaced by the last rotation signs too"
            },
        }


class EndpointCreatedSerializer(EndpointSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="verify signatures with it (Standard Webhooks); shown only once"
    )

    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secret"]


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["number", "at", "status_code", "error", "duration_ms"]
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer):
    attempt_log = AttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id", "endpoint", "event", "message_id", "listing_id", "payload", "status",
            "attempts", "next_attempt_at", "created_at", "delivered_at", "attempt_log",
        ]  # fmt: skip
        read_only_fields = fields


class DeliveryFilter(django_filters.FilterSet):
    # A plain number: a choice field would tell apart other partners' endpoint ids.
    endpoint = django_filters.NumberFilter(field_name="endpoint_id")
    listing_id = django_filters.NumberFilter()
    status = django_filters.ChoiceFilter(choices=WebhookDelivery.Status.choices)
    event = django_filters.ChoiceFilter(choices=WebhookEvent.choices)

    class Meta:
        model = WebhookDelivery
        fields = ["endpoint", "listing_id", "status", "event"]


class EndpointList(generics.ListCreateAPIView):
    """Your webhook endpoints; POST registers one and returns its signing secret once."""

    permission_classes = [HasScope]
    scopes = _WEBHOOKS
    serializer_class = EndpointSerializer
    filter_backends: list = []
    ordering = ["id"]

    def get_queryset(self):
        return webhooks.webhook_endpoints_for(user=self.request.user).order_by("id")

    @extend_schema(request=EndpointSerializer, responses={201: EndpointCreatedSerializer})
    def post(self, request: Request) -> Response:
        form = EndpointSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        gate_events = GATE_EVENTS & set(form.validated_data["events"])
        if gate_events and not is_gate_operator(request.user):
            # A car park's passages and stays (plates, times) are its own, not a partner's.
            raise ApiError(
                status_code=400,
                code="invalid_events",
                detail=f"{', '.join(sorted(gate_events))}: for gate operators only",
            )
        try:
            endpoint = webhooks.webhook_endpoint_create(
                owner=request.user,
                url=form.validated_data["url"],
                events=form.validated_data["events"],
            )
        except webhooks.EndpointRefused as exc:
            raise ApiError(status_code=400, code=exc.code, detail=str(exc)) from exc
        return Response(EndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED)


class EndpointDetail(generics.RetrieveDestroyAPIView):
    permission_classes = [HasScope]
    scopes = _WEBHOOKS
    serializer_class = EndpointSerializer
    filter_backends: list = []

    def get_queryset(self):
        return webhooks.webhook_endpoints_for(user=self.request.user)


class EndpointEnable(APIView):
    """Turn a disabled endpoint back on; what was kept meanwhile is sent."""

    permission_classes = [HasScope]
    scopes = _WEBHOOKS

    @extend_schema(request=None, responses={200: EndpointSerializer})
    def post(self, request: Request, pk: int) -> Response:
        endpoint = webhooks.webhook_endpoints_for(user=request.user).filter(pk=pk).first()
        if endpoint is None:
            raise Http404
        return Response(
            EndpointSerializer(webhooks.webhook_endpoint_enable(endpoint=endpoint)).data
        )


class EndpointRotateSecret(APIView):
    """Issue a new signing secret, shown once; for a grace period (24 h by default,
    `previous_secret_expires_at`) every message is signed with the old secret too, so the
    receiver can switch without rejecting one."""

    permission_classes = [HasScope]
    scopes = _WEBHOOKS

    @extend_schema(request=None, responses={200: EndpointCreatedSerializer})
    def post(self, request: Request, pk: int) -> Response:
        endpoint = webhooks.webhook_endpoints_for(user=request.user).filter(pk=pk).first()
        if endpoint is None:
            raise Http404
        endpoint = webhooks.webhook_endpoint_secret_rotate(endpoint=endpoint)
        return Response(EndpointCreatedSerializer(endpoint).data)


class DeliveryList(generics.ListAPIView):
    """Every delivery to your endpoints, newest first, with each attempt."""

    permission_classes = [HasScope]
    scopes = _WEBHOOKS
    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilter
    ordering_fields = ["created_at", "id"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return WebhookDelivery.objects.none()
        return webhooks.webhook_deliveries_for(user=self.request.user)


class DeliveryRedeliver(APIView):
    """Send a delivery again (a new 24 h of retries); its webhook-id stays the same."""

    permission_classes = [HasScope]
    scopes = _WEBHOOKS

    @extend_schema(request=None, responses={202: DeliverySerializer})
    def post(self, request: Request, pk: int) -> Response:
        delivery = webhooks.webhook_deliveries_for(user=request.user).filter(pk=pk).first()
        if delivery is None:
            raise Http404
        if not delivery.endpoint.is_active:
            raise ApiError(
                status_code=400, code="endpoint_disabled", detail="enable the endpoint first"
            )
        delivery = webhooks.webhook_delivery_redeliver(delivery=delivery)
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
