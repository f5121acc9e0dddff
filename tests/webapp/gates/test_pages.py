"""Operator pages: who may see them, and what they show."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image as PILImage

from tests.fixtures.gate_engine import frame_jpeg, teach
from tests.webapp.gates.factories import RegisterRecordFactory
from webapp.gates import services
from webapp.gates.models import AccessEntry, DeviceRequest

pytestmark = pytest.mark.django_db


def test_anonymous_users_are_sent_to_log_in_and_outsiders_refused(client, outsider):
    assert client.get("/gates/").status_code == 302
    client.force_login(outsider)
    assert client.get("/gates/").status_code == 403
    assert client.get("/gates/devices/").status_code == 403


def test_live_passages_show_plate_outline_decision_latency_and_register(
    operator_client, post_frame, gate_engine, gate
):
    RegisterRecordFactory(plate_latin="AA1234BB", brand="TOYOTA", model="CAMRY", colour="WHITE")
    services.access_entry_add(gate=gate, plate="AA1234BB")
    body = frame_jpeg(1, 1280, 720)
    teach(gate_engine, body, "AA1234BB")
    frame_id = post_frame(body).json()["frame"]
    page = operator_client.get("/gates/").content.decode()
    assert "AA1234BB" in page
    assert 'class="decision decision-open"' in page
    assert "TOYOTA CAMRY, WHITE" in page
    assert "plate-outline" in page
    assert " ms</td>" in page
    image = operator_client.get(f"/gates/frames/{frame_id}.jpg")
    assert b"".join(image.streaming_content) == body
    # the page reloads every 5 seconds: the browser keeps the frame, for the operator alone
    assert image["Cache-Control"] == "private, max-age=3600"
    # the page draws it from a thumbnail at most 480 px wide, kept the same way
    thumb = operator_client.get(f"/gates/frames/{frame_id}/thumb.jpg")
    assert thumb["Content-Type"] == "image/jpeg"
    assert thumb["Cache-Control"] == "private, max-age=3600"
    with PILImage.open(io.BytesIO(thumb.content)) as small, PILImage.open(io.BytesIO(body)) as big:
        assert small.format == "JPEG"
        assert (big.width, small.width) == (1280, 480)
        assert abs(small.height / small.width - big.height / big.width) < 0.02
        assert len(thumb.content) < len(body)


def test_a_deregistered_plate_is_shown_as_such_not_as_the_car_it_left(
    operator_client, post_frame, gate_engine, gate
):
    # given a plate whose latest operation took its Toyota off the register
    camry = {"plate_latin": "AA1234BB", "brand": "TOYOTA", "model": "CAMRY", "colour": "WHITE"}
    RegisterRecordFactory(**camry, oper_name="ПЕРВИННА РЕЄСТРАЦІЯ НОВОГО ТЗ")
    RegisterRecordFactory(
        **camry,
        d_reg=datetime.date(2024, 6, 3),
        oper_code=520,
        oper_name="520 - ЗНЯТТЯ З ОБЛIКУ ПРИ ВИВЕЗЕННІ ЗА КОРДОН",
    )
    body = frame_jpeg(4)
    teach(gate_engine, body, "AA1234BB")
    # when a car wearing it passes the gate
    post_frame(body)
    page = operator_client.get("/gates/").content.decode()
    # then the register column says the plate is deregistered, when and how, not that it is
    # on the Toyota now
    register = page.split('<td class="register">', 1)[1].split("</td>", 1)[0]
    assert "TOYOTA CAMRY, WHITE" not in register
    assert '<span class="status deregistered">deregistered</span>' in register
    assert "2024-06-03" in register
    assert "ЗНЯТТЯ З ОБЛIКУ ПРИ ВИВЕЗЕННІ ЗА КОРДОН" in register
    assert "left TOYOTA CAMRY" in register


def test_operators_edit_the_access_list(operator_client, gate):
    response = operator_client.post(
        f"/gates/{gate.pk}/access/",
        {"plate": "ka 0101 am", "days": "01234", "hour_from": "08:00", "hour_until": "18:00"},
    )
    assert response.status_code == 302
    entry = AccessEntry.objects.get()
    assert (entry.plate, entry.days) == ("KA0101AM", "01234")
    assert entry.added_by.username == "moderator"
    bad = operator_client.post(f"/gates/{gate.pk}/access/", {"plate": "!!", "days": "9"})
    assert bad.status_code == 200
    assert AccessEntry.objects.count() == 1
    operator_client.post(f"/gates/{gate.pk}/access/{entry.pk}/delete/")
    assert AccessEntry.objects.count() == 0


def test_csv_import_and_export_pages(operator_client, gate):
    upload = SimpleUploadedFile("a.csv", b"plate,note\nAA1234BB,boss\nKA0101AM,\n", "text/csv")
    operator_client.post(f"/gates/{gate.pk}/access/import/", {"file": upload})
    assert AccessEntry.objects.count() == 2
    exported = operator_client.get(f"/gates/{gate.pk}/access/export/").content.decode()
    assert exported.splitlines()[1].startswith("AA1234BB")
    broken = SimpleUploadedFile("b.csv", b"plate,days\nBC7777AX,9\n", "text/csv")
    response = operator_client.post(
        f"/gates/{gate.pk}/access/import/", {"file": broken}, follow=True
    )
    assert "nothing imported: line 2" in response.content.decode()
    assert AccessEntry.objects.count() == 2


def test_an_import_refused_is_explained_in_the_pages_language(operator_client, gate):
    # given: an operator whose browser asks for Ukrainian
    operator_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "uk"
    broken = SimpleUploadedFile("b.csv", b"plate,days\nBC7777AX,9\n", "text/csv")
    latin1 = SimpleUploadedFile("c.csv", "plate,note\nAA1234BB,café\n".encode("latin-1"))
    # when
    pages = [
        operator_client.post(
            f"/gates/{gate.pk}/access/import/", {"file": upload}, follow=True
        ).content.decode()
        for upload in (broken, latin1)
    ]
    # then: the row's fault and the file's, in Ukrainian, nothing kept
    assert (
        "нічого не імпортовано: рядок 2: дні — це цифри 0-6 (понеділок=0), а не &#x27;9&#x27;"
        in pages[0]
    )
    assert "нічого не імпортовано: файл не є текстом UTF-8" in pages[1]
    assert AccessEntry.objects.count() == 0


def test_device_status_shows_frames_and_refusals(
    operator_client, post_frame, gate_engine, device_with_secret
):
    device, _ = device_with_secret
    post_frame(frame_jpeg(2))
    post_frame(frame_jpeg(3), secret="wrong")
    page = operator_client.get("/gates/devices/").content.decode()
    assert device.device_id in page
    assert '<td class="fpm">1</td>' in page
    assert '<td class="refusals">1</td>' in page
    assert "bad_signature" in page


def test_the_device_page_s_queries_do_not_grow_with_its_devices(operator_client, gate):
    def devices_add(n: int) -> None:
        for _ in range(n):
            device = services.device_create(gate=gate).device
            for code in ("bad_signature", "replayed"):  # the later refusal is the one shown
                DeviceRequest.objects.create(
                    device=device, claimed_device_id=device.device_id, method="POST",
                    path="/api/v1/gates/frames/", accepted=False, code=code,
                )  # fmt: skip

    def page() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as queries:
            body = operator_client.get("/gates/devices/").content.decode()
        return len(queries), body

    devices_add(1)
    few, _ = page()
    devices_add(6)
    many, body = page()
    assert body.count('<td class="refusals">2</td>') == 7
    assert body.count("replayed") == 7
    assert "bad_signature" not in body
    assert many == few
