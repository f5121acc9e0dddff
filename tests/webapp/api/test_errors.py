"""Every 4xx from the API has one shape: {type, errors: [{code, detail, attr}]}."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.fixtures import images

pytestmark = pytest.mark.django_db


def assert_shape(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    # A length that disagrees with the body hangs an HTTP client until its timeout.
    if response.has_header("Content-Length"):
        assert int(response["Content-Length"]) == len(response.content)
    body = response.json()
    assert set(body) == {"type", "errors"}
    assert body["type"] in {"validation_error", "client_error"}
    assert body["errors"], body
    for error in body["errors"]:
        assert set(error) == {"code", "detail", "attr"}
        assert error["code"]
        assert error["detail"]
    if code is not None:
        assert code in [e["code"] for e in body["errors"]], body
    return body


def photo(name: str = "car.jpg", data: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, images.jpeg() if data is None else data, "image/jpeg")


def test_unauthenticated_and_unknown_url(api_client, token_client, partner):
    assert_shape(api_client.get("/api/v1/listings/"), 401, "not_authenticated")
    assert_shape(token_client(partner).get("/api/v1/no-such-thing/"), 404)
    bad = api_client.get("/api/v1/listings/", HTTP_AUTHORIZATION="Bearer pc_nope_nope")
    assert_shape(bad, 401, "authentication_failed")


def test_forbidden_not_found_and_method(token_client, client_for, outsider, partner):
    response = client_for(outsider).post("/api/v1/listings/", {"marketplace_id": "X"})
    assert_shape(response, 403, "permission_denied")
    assert_shape(token_client(partner).get("/api/v1/listings/999999/"), 404, "not_found")
    assert_shape(token_client(partner).delete("/api/v1/listings/"), 405, "method_not_allowed")


def test_validation_and_unsupported_media(token_client, partner):
    client = token_client(partner)
    body = assert_shape(client.post("/api/v1/listings/", {}, format="multipart"), 400, "required")
    assert body["type"] == "validation_error"
    assert body["errors"][0]["attr"] == "marketplace_id"
    as_json = client.post("/api/v1/listings/", {"marketplace_id": "A"}, format="json")
    assert_shape(as_json, 415, "unsupported_media_type")
    text = {"marketplace_id": "B", "photos": [photo("a.jpg", b"not an image")]}
    assert_shape(
        client.post("/api/v1/listings/", text, format="multipart"), 415, "unsupported_type"
    )


def test_too_many_files_is_413_in_the_shape(token_client, partner, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 3
    files = [photo(f"p{i}.jpg", images.jpeg(colour=(i, 0, 0))) for i in range(5)]
    response = token_client(partner).post(
        "/api/v1/listings/", {"marketplace_id": "MANY", "photos": files}, format="multipart"
    )
    assert_shape(response, 413, "too_many_files")


def test_more_than_the_request_bound_is_413_before_reading(token_client, partner, settings):
    settings.API_MAX_REQUEST_BYTES = 10_000
    big = photo("big.jpg", images.jpeg(400, 400) + b"\0" * 20_000)
    response = token_client(partner).post(
        "/api/v1/listings/", {"marketplace_id": "BIG", "photos": [big]}, format="multipart"
    )
    assert_shape(response, 413, "request_too_large")


def test_throttled_is_429_with_retry_after(token_client, partner, settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "token": "2/min"}
    client = token_client(partner)
    assert [client.get("/api/v1/listings/").status_code for _ in range(2)] == [200, 200]
    response = client.get("/api/v1/listings/")
    assert_shape(response, 429, "throttled")
    assert 0 < int(response["Retry-After"]) <= 60


def test_options_shows_post_fields_as_writable(client_for, partner):
    actions = client_for(partner).options("/api/v1/listings/").json()["actions"]["POST"]
    assert actions["marketplace_id"]["read_only"] is False
    assert actions["marketplace_id"]["required"] is True
