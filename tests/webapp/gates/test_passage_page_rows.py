"""The passages page shows each passage's best frame and its plate's register record, in a
number of queries that does not grow with its rows (the live page reloads every 5 seconds on
every operator's screen)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.webapp.review.factories import RegisterRecordFactory
from webapp.gates import services
from webapp.gates.models import Decision, Frame, Passage

pytestmark = pytest.mark.django_db


def passage_with_frames(gate, device, plate: str, confidences: list[float], at) -> Passage:
    passage = Passage.objects.create(
        gate=gate, device=device, started_at=at, last_frame_at=at, voted_plate=plate,
        confidence=max(confidences, default=0.0), frames_count=len(confidences),
        decision=Decision.OPEN if plate else Decision.UNKNOWN,
    )  # fmt: skip
    for n, confidence in enumerate(confidences):
        Frame.objects.create(
            passage=passage, device=device, client_frame_id=f"{passage.pk}-{n}",
            image=f"frames/{passage.pk}-{n}.jpg", width=640, height=480, captured_at=at,
            received_at=at, status=Frame.Status.DONE, plate_text=plate, confidence=confidence,
            corners=[[10 + n, 10], [90, 10], [90, 30], [10 + n, 30]],
        )  # fmt: skip
    return passage


def passages_make(gate, n: int, start: int = 0) -> list[Passage]:
    device = services.device_create(gate=gate).device
    now = timezone.now()
    made = []
    for i in range(start, start + n):
        plate = f"AA{i:04d}BB"
        RegisterRecordFactory(plate_latin=plate, brand=f"BRAND-{i}")
        at = now - dt.timedelta(minutes=i)
        made.append(passage_with_frames(gate, device, plate, [0.5, 0.9, 0.7], at))
    return made


def page_queries(client) -> tuple[int, list[dict]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/gates/")
    assert response.status_code == 200
    return len(queries), response.context["rows"]


def test_each_row_shows_the_best_frame_and_the_plate_s_register_record(operator_client, gate):
    device = services.device_create(gate=gate).device
    now = timezone.now()
    RegisterRecordFactory(plate_latin="BC7777AX", brand="VOLVO", model="XC60", colour="СІРИЙ")
    # two frames equally sure: the later one is shown
    read = passage_with_frames(gate, device, "BC7777AX", [0.4, 0.8, 0.8], now)
    unknown_car = passage_with_frames(
        gate, device, "KA0001XO", [0.6], now - dt.timedelta(minutes=1)
    )
    purged = passage_with_frames(gate, device, "", [], now - dt.timedelta(minutes=2))
    purged.frames_count = 4  # had frames, which retention deleted
    purged.save()

    _, rows = page_queries(operator_client)
    by_passage = {row["passage"].pk: row for row in rows}
    best = Frame.objects.filter(passage=read).order_by("-id").first()
    assert by_passage[read.pk]["frame"] == best
    assert best.confidence == 0.8
    assert by_passage[read.pk]["record"].brand == "VOLVO"
    assert by_passage[unknown_car.pk]["record"] is None
    assert by_passage[unknown_car.pk]["frame"].confidence == 0.6
    assert by_passage[purged.pk]["frame"] is None
    assert by_passage[purged.pk]["images_gone"]
    page = operator_client.get("/gates/").content.decode()
    assert "VOLVO XC60, СІРИЙ" in page
    assert f'<a href="/gates/frames/{best.pk}.jpg">' in page  # the whole frame, opened
    assert f'href="/gates/frames/{best.pk}/thumb.jpg"' in page  # drawn from a thumbnail


def test_the_page_s_queries_do_not_grow_with_its_rows(operator_client, gate):
    passages_make(gate, 2)
    few, rows = page_queries(operator_client)
    assert [row["record"].brand for row in rows] == ["BRAND-0", "BRAND-1"]
    passages_make(gate, 10, start=2)
    many, rows = page_queries(operator_client)
    assert len(rows) == 12
    assert all(row["frame"].confidence == 0.9 for row in rows)
    assert [row["record"].brand for row in rows] == [f"BRAND-{i}" for i in range(12)]
    assert many == few
