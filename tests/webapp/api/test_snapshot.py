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


def redact(client, data: bytes, name: str = "car.png", **extra):
    upload = SimpleUploadedFile(name, data, "image/png")
    return client.post("/api/v1/redact/", {"upload": upload, **extra}, format="multipart")


def test_redact_sends_the_photo_back_with_its_plates_hidden_and_keeps_nothing(
    token_client, partner, engine_control
):
    import io

    import numpy as np
    from PIL import Image

    from recognition.pipeline.redact import hidden_mask
    from webapp.listings.models import Photo

    pixels = np.random.default_rng(3).integers(0, 256, (160, 240, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    response = redact(token_client(partner, scopes=["recognize"]), buffer.getvalue())
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "image/png"
    assert response["Plate-Areas"] == "1"
    assert response["Engine-Version"] == "double-1"
    copy = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"))
    # the double's plate: 0.25-0.75 of the width, 0.6-0.75 of the height
    mask = hidden_mask(pixels.shape, [((60, 96), (180, 96), (180, 120), (60, 120))])
    np.testing.assert_array_equal(copy[~mask], pixels[~mask])
    plate = (slice(98, 118), slice(62, 178))
    assert np.abs(np.diff(copy[plate].astype(int), axis=1)).mean() < 10
    assert not Photo.objects.exists()


def test_redact_refuses_bad_photos_styles_and_scopes(token_client, partner, engine_control):
    client = token_client(partner)
    bad = redact(client, b"GIF89a not a photo")
    assert bad.status_code == 415
    assert not (engine_control / "calls").exists()
    style = redact(client, images.png(), style="swirl")
    assert style.status_code == 400
    assert style.json()["errors"][0]["attr"] == "style"
    assert redact(token_client(partner, scopes=["read"]), images.png()).status_code == 403
    (engine_control / "mode").write_text("unavailable")
    reset_engine()
    client.raise_request_exception = False
    down = redact(client, images.png())
    assert down.status_code == 503
    assert down.json()["errors"][0]["code"] == "engine_unavailable"
