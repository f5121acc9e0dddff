from __future__ import annotations

from rest_framework import serializers

from recognition.models import Reading
from webapp.listings.models import Flag, Listing, Photo


class ReadingSerializer(serializers.ModelSerializer):
    class Meta:
        model = Reading
        fields = [
            "id", "model_version", "source", "plate_text", "plate_format", "confidence",
            "char_confidences", "alternatives", "corners", "box", "detection_score", "timings",
            "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class PhotoSerializer(serializers.ModelSerializer):
    readings = ReadingSerializer(many=True, read_only=True)
    image = serializers.SerializerMethodField()

    class Meta:
        model = Photo
        fields = [
            "id", "image", "sha256", "width", "height", "status", "attempts", "last_error",
            "model_version", "created_at", "processed_at", "readings",
        ]  # fmt: skip
        read_only_fields = fields

    def get_image(self, photo: Photo) -> str:
        request = self.context.get("request")
        url = photo.image.url
        return request.build_absolute_uri(url) if request is not None else url


class FlagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Flag
        fields = [
            "id", "kind", "key", "severity", "evidence", "status", "plate_text", "plate_format",
            "reviewed_at", "note", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class ListingSerializer(serializers.ModelSerializer):
    photos = PhotoSerializer(many=True, read_only=True)
    flags = FlagSerializer(many=True, read_only=True)
    owner = serializers.CharField(source="owner.username", read_only=True, default=None)

    class Meta:
        model = Listing
        fields = [
            "id", "marketplace_id", "owner", "declared_make", "declared_model",
            "declared_colour", "declared_year", "declared_plate", "declared_vin", "created_at",
            "updated_at", "photos", "flags",
        ]  # fmt: skip
        read_only_fields = fields


class ListingCreateSerializer(serializers.Serializer):
    """Input only: the listing fields of a multipart create; photos come as files."""

    marketplace_id = serializers.CharField(max_length=64)
    declared_make = serializers.CharField(
        max_length=64, required=False, default="", allow_blank=True
    )
    declared_model = serializers.CharField(
        max_length=64, required=False, default="", allow_blank=True
    )
    declared_colour = serializers.CharField(
        max_length=64, required=False, default="", allow_blank=True
    )
    declared_year = serializers.IntegerField(
        min_value=1900, max_value=2100, required=False, allow_null=True, default=None
    )
    declared_plate = serializers.CharField(
        max_length=16, required=False, default="", allow_blank=True
    )
    declared_vin = serializers.CharField(
        max_length=17, required=False, default="", allow_blank=True
    )

    def validate_marketplace_id(self, value: str) -> str:
        if Listing.objects.filter(marketplace_id=value).exists():
            raise serializers.ValidationError("a listing with this marketplace id already exists")
        return value
