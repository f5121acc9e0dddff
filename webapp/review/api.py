"""Moderators' REST endpoint: ``GET /api/v1/plates/search/?q=`` (mounted in webapp/api/urls)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.partners.models import PartnerToken
from webapp.review.permissions import is_moderator
from webapp.review.selectors.search import SearchError, plate_search


class IsModerator(BasePermission):
    message = "plate search is for moderators"

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user and is_moderator(request.user))


class TokenMayRead(BasePermission):
    """A token needs the `read` scope, as for the partner API's reads (webapp.api.permissions,
    which this app may not import): a moderator's token made for the snapshot endpoint or the
    webhooks must not search every partner's plates. A logged-in session may."""

    message = "this token lacks the scope this request needs"
    code = "missing_scope"

    def has_permission(self, request: Request, view: APIView) -> bool:
        token = request.auth
        return not isinstance(token, PartnerToken) or "read" in token.scopes


class PlateHitSerializer(serializers.Serializer):
    source = serializers.CharField()
    text = serializers.CharField()
    distance = serializers.IntegerField()
    score = serializers.FloatField()
    exact = serializers.BooleanField()
    reading_text = serializers.CharField()
    confidence = serializers.FloatField()
    reading_id = serializers.IntegerField(allow_null=True)
    photo_id = serializers.IntegerField(allow_null=True)
    listing_id = serializers.IntegerField(allow_null=True)
    marketplace_id = serializers.CharField()
    register_date = serializers.CharField()
    register_count = serializers.IntegerField()
    passage_id = serializers.IntegerField(allow_null=True)
    gate = serializers.CharField()
    seen_at = serializers.DateTimeField(allow_null=True)
    decision = serializers.CharField()


class PlateSearchResponseSerializer(serializers.Serializer):
    query = serializers.CharField()
    key = serializers.CharField()
    count = serializers.IntegerField()
    results = PlateHitSerializer(many=True)


class PlateSearchView(APIView):
    """Plates that look like `q`: in readings, gate passages, declared plates and the register
    (moderators)."""

    permission_classes = [IsModerator, TokenMayRead]

    @extend_schema(
        parameters=[OpenApiParameter("q", str, required=True, description="a plate, any script")],
        responses={200: PlateSearchResponseSerializer},
    )
    def get(self, request: Request) -> Response:
        try:
            result = plate_search(q=request.query_params.get("q", ""))
        except SearchError as exc:
            # The API's one error shape (drf-standardized-errors), attributed to `q`.
            raise serializers.ValidationError({"q": [str(exc)]}, code="bad_query") from exc
        return Response(
            {
                "query": result.query,
                "key": result.key,
                "count": len(result.hits),
                "results": PlateHitSerializer(result.hits, many=True).data,
            }
        )
