"""POST /api/v1/recognize/ with `register` or declared fields: each plate's register record and
the photo's verdict on the declared car, from a real import of the sample register."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.services import register_import
from tests.fixtures import images

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parents[2] / "registry" / "samples"
CAMRY = {"declared_make": "Toyota", "declared_model": "Camry", "declared_colour": "white",
         "declared_year": 2018}  # fmt: skip


@pytest.fixture
def register() -> None:
    register_import(path=SAMPLES / "register_2024.csv", enqueue_crosscheck=False)


def _recognise(client, **fields):
    upload = SimpleUploadedFile("car.jpg", images.jpeg(200, 100), "image/jpeg")
    response = client.post("/api/v1/recognize/", {"upload": upload, **fields}, format="multipart")
    assert response.status_code == 200, response.content
    return response.json()


def test_the_declared_car_on_its_registered_plate_is_verified(
    register, token_client, partner, engine_control
):
    (engine_control / "plates").write_text("AA1234BB")
    body = _recognise(token_client(partner, scopes=["recognize"]), **CAMRY)

    check = body["check"]
    assert (check["verified"], check["reason"], check["plate"]) == (True, "", "AA1234BB")
    assert check["fields"] == {
        "make": "match",
        "model": "match",
        "colour": "match",
        "year": "match",
    }
    assert check["register"]["vin"] == "JTNB11HK0J3000001"
    (toyota,) = body["results"]
    assert (toyota["vehicle"]["brand"], toyota["vehicle"]["make_year"]) == ("TOYOTA", 2018)
    assert toyota["vehicle"]["deregistered"] is False


def test_another_car_on_the_plate_is_not(register, token_client, partner, engine_control):
    (engine_control / "plates").write_text("AA1234BB")
    body = _recognise(
        token_client(partner),
        declared_make="BMW", declared_model="X5", declared_colour="black",
    )  # fmt: skip
    check = body["check"]
    assert (check["verified"], check["reason"]) == (False, "car_differs")
    assert check["fields"]["make"] == "mismatch"
    assert body["results"][0]["vehicle"]["model"] == "CAMRY"


def test_the_register_alone_and_a_plate_it_does_not_know(
    register, token_client, partner, engine_control
):
    client = token_client(partner)
    (engine_control / "plates").write_text("AA1234BB")
    looked_up = _recognise(client, register="true")
    assert looked_up["results"][0]["vehicle"]["colour"] == "БІЛИЙ"
    assert looked_up["check"]["reason"] == "car_not_compared"  # nothing declared to compare

    (engine_control / "plates").write_text("KA0001AA,BC7777AX")
    two = _recognise(client, register="true")
    assert [r["vehicle"] and r["vehicle"]["brand"] for r in two["results"]] == [None, "BMW"]

    (engine_control / "plates").write_text("KA0001AA")
    unknown = _recognise(client, **CAMRY)
    assert unknown["results"][0]["vehicle"] is None  # the register has no record of it
    assert (unknown["check"]["verified"], unknown["check"]["reason"]) == (
        False,
        "not_in_register",
    )


def test_without_register_or_declared_fields_nothing_is_looked_up(
    register, token_client, partner, engine_control
):
    (engine_control / "plates").write_text("AA1234BB")
    body = _recognise(token_client(partner))
    assert "check" not in body
    assert "vehicle" not in body["results"][0]
    bad = token_client(partner).post(
        "/api/v1/recognize/",
        {"upload": SimpleUploadedFile("c.jpg", images.jpeg(), "image/jpeg"),
         "declared_year": "1850"},
        format="multipart",
    )  # fmt: skip
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["attr"] == "declared_year"
