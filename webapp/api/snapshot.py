"""Partner API, snapshot: one photo read synchronously by the product's own engine.

The answer follows the shape the established ALPR APIs use (results[] with plate, score,
dscore, region, box, corners, candidates; processing_time in ms). `redact/` sends the photo back
with its plates hidden instead (as a blurring service does), nothing kept.
"""

from __future__ import annotations

import io
import time
from typing import Any

import numpy as np
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from PIL import Image
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from recognition.engine_loader import engine_recognize, get_engine
from recognition.pipeline.images import rgb_array
from recognition.pipeline.regions import ALL_FORMATS, normalise_plate
from recognition.pipeline.types import EngineUnavailable, PhotoResult, PlateReading
from recognition.redaction import hidden_copy
from registry.crosscheck import current_record
from registry.crosscheck_facts import ListingFacts, ReadingFacts
from registry.crosscheck_verdict import verdict
from webapp.api.errors import ApiError
from webapp.api.permissions import CanUpload, HasScope
from webapp.api.photo_urls import photos_download, url_field
from webapp.api.photos import style_field
from webapp.api.schema import DATABASE_UNAVAILABLE, ErrorResponseSerializer
from webapp.api.serializers import VerdictSerializer
from webapp.api.throttles import RecognizeRateThrottle, TokenRateThrottle
from webapp.api.usage import QUOTA_EXCEEDED, charged, quota_headers
from webapp.checks.facts import crosscheck_input_for_photo
from webapp.listings.validation import ValidatedPhoto, photo_validate
from webapp.partners.models import UsageKind

DECLARED_FIELDS = (
    "declared_make",
    "declared_model",
    "declared_colour",
    "declared_year",
    "declared_vin",
)
# Region codes a caller may name: a format's code or its country part (`ua` = every UA format).
REGION_CODES = sorted(set(ALL_FORMATS) | {c.split("_")[0] for c in ALL_FORMATS})


class OnePhotoSerializer(serializers.Serializer):
    """One photo: its file (`upload`) or its URL (`upload_url`, fetched by the server)."""

    upload = serializers.FileField(required=False, help_text="one JPEG, PNG or WebP photo")
    upload_url = url_field(
        required=False, help_text="or its https URL, fetched by the server (see `photo_urls`)"
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("upload" in attrs) == ("upload_url" in attrs):
            raise serializers.ValidationError(
                {"upload": ["send the photo in `upload` or its URL in `upload_url`, not both"]},
                code="required",
            )
        return attrs

    def photo(self, *, owner_id: int) -> UploadedFile:
        """The upload, or the photo fetched from `upload_url` for the partner `owner_id` (a 400
        on it if none came)."""
        if "upload" in self.validated_data:
            return self.validated_data["upload"]
        url = self.validated_data["upload_url"]
        return photos_download([url], field="upload_url", owner_id=owner_id, many=False)[0]


class RecognizeRequestSerializer(OnePhotoSerializer):
    regions = serializers.ListField(
        child=serializers.ChoiceField(choices=REGION_CODES), required=False, default=list,
        help_text="keep only plates of these regions (e.g. ua, eu); all when empty",
    )  # fmt: skip
    register = serializers.BooleanField(
        required=False, default=False,
        help_text="look each plate up in the register (`vehicle`), and say whether it vouches "
        "for the declared car (`check`); implied by any declared_ field",
    )  # fmt: skip
    declared_make = serializers.CharField(max_length=64, required=False, default="")
    declared_model = serializers.CharField(max_length=64, required=False, default="")
    declared_colour = serializers.CharField(max_length=64, required=False, default="")
    declared_year = serializers.IntegerField(
        min_value=1900, max_value=2100, required=False, allow_null=True, default=None
    )
    declared_vin = serializers.CharField(max_length=17, required=False, default="")

    def declared(self) -> ListingFacts | None:
        """The car the sender says the photo shows, when the register is to be consulted."""
        data = self.validated_data
        fields = {name: data[name] for name in DECLARED_FIELDS}
        if not data["register"] and not any(fields.values()):
            return None
        return ListingFacts(listing_id=0, **fields)


class RegionSerializer(serializers.Serializer):
    code = serializers.CharField()
    score = serializers.FloatField()


class BoxSerializer(serializers.Serializer):
    xmin = serializers.IntegerField()
    ymin = serializers.IntegerField()
    xmax = serializers.IntegerField()
    ymax = serializers.IntegerField()


class CandidateSerializer(serializers.Serializer):
    plate = serializers.CharField()
    score = serializers.FloatField()


class PointSerializer(serializers.Serializer):
    x = serializers.FloatField()
    y = serializers.FloatField()


class PlateResultSerializer(serializers.Serializer):
    plate = serializers.CharField()
    score = serializers.FloatField(help_text="reading confidence, 0-1")
    dscore = serializers.FloatField(help_text="detection confidence, 0-1")
    region = RegionSerializer()
    box = BoxSerializer()
    corners = PointSerializer(many=True, help_text="top-left, top-right, bottom-right, bottom-left")
    candidates = CandidateSerializer(many=True)
    vehicle = serializers.DictField(
        required=False, allow_null=True,
        help_text="with `register` only: the plate's current register record (its last "
        "operation; `deregistered` when that took the plate off the car); null when the "
        "register has no record of the plate",
    )  # fmt: skip


class RecognizeResponseSerializer(serializers.Serializer):
    processing_time = serializers.FloatField(help_text="milliseconds in the server")
    results = PlateResultSerializer(many=True)
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    version = serializers.CharField(help_text="the engine that read the photo")
    check = VerdictSerializer(
        required=False, help_text="with `register` or a declared_ field only: the photo's verdict"
    )


def plate_result(plate: PlateReading) -> dict[str, Any]:
    xmin, ymin, xmax, ymax = plate.box
    return {
        "plate": plate.text,
        "score": round(float(plate.confidence), 4),
        "dscore": round(float(plate.detection_score), 4),
        "region": {"code": plate.format, "score": round(float(plate.confidence), 4)},
        "box": {"xmin": int(xmin), "ymin": int(ymin), "xmax": int(xmax), "ymax": int(ymax)},
        "corners": [{"x": float(x), "y": float(y)} for x, y in plate.corners],
        "candidates": [
            {"plate": a.text, "score": round(float(a.score), 4)} for a in plate.alternatives
        ],
    }


def in_regions(plate: PlateReading, regions: list[str]) -> bool:
    return not regions or any(
        plate.format == code or plate.format.split("_")[0] == code for code in regions
    )


class EngineNow(APIView):
    """A photo uploaded and read by the engine in the request (scope `recognize`), under the
    recognition rate limit (API_RATE_RECOGNIZE)."""

    permission_classes = [CanUpload, HasScope]
    scopes = {"POST": "recognize"}
    parser_classes = [MultiPartParser, FormParser]
    throttle_classes = [TokenRateThrottle, RecognizeRateThrottle]


ENGINE_UNAVAILABLE = OpenApiResponse(
    ErrorResponseSerializer,
    description="engine_unavailable: the recognition engine is not installed"
    f"\n\n{DATABASE_UNAVAILABLE}",
)


class Recognize(EngineNow):
    """Read the plates on one photo now. Its own rate limit (API_RATE_RECOGNIZE)."""

    @extend_schema(
        request=RecognizeRequestSerializer,
        responses={
            200: RecognizeResponseSerializer,
            429: QUOTA_EXCEEDED,
            503: ENGINE_UNAVAILABLE,
        },
    )
    def post(self, request: Request) -> Response:
        started = time.perf_counter()
        form = RecognizeRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        with charged(request, kind=UsageKind.RECOGNIZE, count=1) as charge:
            photo, _pixels, result, version = read_now(form.photo(owner_id=request.user.pk))
        regions = form.validated_data["regions"]
        plates = [p for p in result.plates if in_regions(p, regions)]
        body: dict[str, Any] = {"results": [plate_result(p) for p in plates]}
        declared = form.declared()
        if declared is not None:
            body.update(register_answer(declared, plates, body["results"], version=version))
        body.update(
            processing_time=round((time.perf_counter() - started) * 1000, 1),
            width=photo.width,
            height=photo.height,
            version=version,
        )
        return quota_headers(Response(body), charge.quota if charge else None)


def register_answer(
    declared: ListingFacts,
    plates: list[PlateReading],
    results: list[dict[str, Any]],
    *,
    version: str,
) -> dict[str, Any]:
    """Each result's `vehicle` (its plate's current register record), and the photo's `check`:
    the listing badge's verdict (``registry.crosscheck_verdict``) over this photo's readings."""
    readings = tuple(
        ReadingFacts(
            reading_id=number,
            photo_id=0,
            plate_text=plate.text,
            confidence=float(plate.confidence),
            model_version=version,
            plate_format=plate.format,
        )
        for number, plate in enumerate(plates, start=1)
    )
    facts = crosscheck_input_for_photo(declared=declared, readings=readings)
    for plate, item in zip(plates, results, strict=True):
        key = normalise_plate(plate.text)
        record = current_record(r for r in facts.records if r.plate_latin == key)
        item["vehicle"] = (
            {**record.summary(), "deregistered": record.deregistered} if record else None
        )
    judged = verdict(facts)
    return {
        "check": {
            "verified": judged.verified,
            "reason": judged.reason.value if judged.reason else "",
            "plate": judged.plate,
            "plate_confidence": judged.plate_confidence,
            "register": judged.record,
            "fields": judged.fields,
        }
    }


def read_now(upload: UploadedFile) -> tuple[ValidatedPhoto, np.ndarray, PhotoResult, str]:
    """The upload checked and read by the engine now: the photo, its RGB view, the engine's
    result and version. A photo refused is its 4xx; no engine, a 503."""
    photo = photo_validate(upload)  # PhotoRejected: its 4xx, from the API's exception handler
    with Image.open(io.BytesIO(photo.content)) as image:
        pixels = rgb_array(image)
    try:
        engine = get_engine()
        result: PhotoResult = engine_recognize(engine, [pixels])[0]
    except EngineUnavailable as exc:
        raise ApiError(
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            code="engine_unavailable",
            detail="recognition is not available now",
        ) from exc
    return photo, pixels, result, str(engine.version)


class RedactRequestSerializer(OnePhotoSerializer):
    style = style_field()


class Redact(EngineNow):
    """Hide the plates on one photo now, as a listing photo's copy fit to publish hides them
    (`photos/{id}/redacted/`): the photo back in its own format, no metadata, nothing kept. The
    number of places hidden is in `Plate-Areas`. Shares the recognition rate limit
    (API_RATE_RECOGNIZE)."""

    @extend_schema(
        request=RedactRequestSerializer,
        responses={
            (200, "image/*"): OpenApiResponse(
                OpenApiTypes.BINARY, description="the photo with its plates hidden"
            ),
            429: QUOTA_EXCEEDED,
            503: ENGINE_UNAVAILABLE,
        },
    )
    def post(self, request: Request) -> HttpResponse:
        form = RedactRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        with charged(request, kind=UsageKind.REDACT, count=1) as charge:
            photo, pixels, result, version = read_now(form.photo(owner_id=request.user.pk))
        quads = [area.corners for area in result.areas]
        copy = hidden_copy(pixels, quads, style=form.validated_data["style"], fmt=photo.format)
        response = HttpResponse(copy.data, content_type=copy.content_type)
        response["Content-Disposition"] = f'inline; filename="plates-hidden.{copy.suffix}"'
        response["Plate-Areas"] = str(len(quads))
        response["Engine-Version"] = version
        response["Cache-Control"] = "no-store"
        return quota_headers(response, charge.quota if charge else None)
