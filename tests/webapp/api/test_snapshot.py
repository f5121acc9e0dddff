"""POST /api/v1/recognize/: one photo through the product's engine, in the ALPR API shape."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from recognition.engine_loader import reset_engine
from tests.fixtures import images

pytestmark = pytest.mark.django_db


def recognise(client, data: bytes | None = None, **extra):
    upload = SimpleUploadedFile("car.jpg", data or images.jpeg(200, 100), "image/jpeg")
    return client.post("/api/v1/recognize/", {"upload": upload, **extra}, format="multipart")


def test_it_answers_in_the_alpr_shape(token_client, partner, engine_control):
    (engine_control / "plates").write_text("AA1234BB,B777OO")
    response = recognise(token_client(partner, scopes=["recognize"]))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["processing_time"] > 0
    assert (body["width"], body["height"]) == (200, 100)
    assert body["version"] == "double-1"
    assert [r["plate"] for r in body["results"]] == ["AA1234BB", "B777OO"]
    first = body["results"][0]
    assert set(first) == {"plate", "score", "dscore", "region", "box", "corners", "candidates"}
    assert first["region"] == {"code": "ru", "score": 0.9}
    assert first["box"] == {"xmin": 50, "ymin": 60, "xmax": 150, "ymax": 75}
    assert first["corners"][0] == {"x": 50.0, "y": 60.0}
    assert first["dscore"] == 0.95
    assert first["candidates"] == [{"plate": "AA1234BB", "score": 0.9}]
    assert (engine_control / "calls").read_text().split()[1] == "1"


def test_regions_keep_only_plates_of_those_regions(token_client, partner, engine_control):
    client = token_client(partner)
    # the double reads every plate as format "ru": no UA or EU plate on this photo
    assert len(recognise(client).json()["results"]) == 1
    assert recognise(client, regions=["ua", "eu"]).json()["results"] == []
    bad = recognise(client, regions=["atlantis"])
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["attr"].startswith("regions")


def test_a_bad_photo_is_a_clear_4xx_and_reaches_no_engine(token_client, partner, engine_control):
    response = recognise(token_client(partner), data=b"GIF89a not a photo")
    assert response.status_code == 415
    assert response.json()["errors"][0]["code"] == "unsupported_type"
    assert not (engine_control / "calls").exists()


def test_no_engine_is_503_with_a_code(token_client, partner, engine_control):
    (engine_control / "mode").write_text("unavailable")
    reset_engine()
    client = token_client(partner)
    client.raise_request_exception = False  # a 5xx is reported as an exception; see the answer
    response = recognise(client)
    assert response.status_code == 503
    assert response.json()["errors"][0]["code"] == "engine_unavailable"
    assert "double" not in response.content.decode()
