"""Moderators' REST endpoint: ``GET /api/v1/plates/search/?q=`` (mounted in webapp/api/urls)."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.review.permissions import is_moderator
from webapp.review.selectors.search import SearchError, plate_search


class IsModerator(BasePermission):
    message = "plate search is for moderators"

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user and is_moderator(request.user))


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


class PlateSearchView(APIView):
    permission_classes = [IsModerator]

    def get(self, request: Request) -> Response:
        try:
            result = plate_search(q=request.query_params.get("q", ""))
        except SearchError as exc:
            return Response({"detail": str(exc), "code": "bad_query"}, status=400)
        return Response(
            {
                "query": result.query,
                "key": result.key,
                "count": len(result.hits),
                "results": PlateHitSerializer(result.hits, many=True).data,
            }
        )
