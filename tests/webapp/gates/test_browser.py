"""The operator pages in headless Chromium: a live passage with its outlined plate, then the
access list edited through the form."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fixtures.factories import UserFactory
from tests.fixtures.gate_engine import frame_jpeg, teach
from webapp.gates import services
from webapp.gates.models import AccessEntry

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
PASSWORD = "correct-horse-battery"


def test_an_operator_watches_a_passage_and_edits_the_access_list(
    page, live_server, post_frame, gate_engine, gate
):
    # given: a staff operator and one passage through the gate
    UserFactory(username="olga", is_staff=True)
    services.access_entry_add(gate=gate, plate="AA1234BB")
    body = frame_jpeg(1, width=640, height=360)
    teach(gate_engine, body, "AA1234BB")
    assert post_frame(body).json()["decision"] == "open"
    ARTIFACTS.mkdir(exist_ok=True)
    # when: the operator logs in to the live passages
    page.goto(f"{live_server.url}/gates/")
    page.fill("#id_username", "olga")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/gates/")
    # then: the passage is there, with the frame loaded and the plate outlined
    row = page.locator("tr[data-passage]")
    assert row.count() == 1
    assert row.get_attribute("data-decision") == "open"
    assert "AA1234BB" in row.locator("td.plate").inner_text()
    assert row.locator("polygon.plate-outline").count() == 1
    loaded = page.evaluate(
        """async () => {
             const img = new Image();
             img.src = document.querySelector('svg.thumb image').href.baseVal;
             await img.decode();
             return img.naturalWidth; }"""
    )
    assert loaded == 480  # the 640 px frame's thumbnail; its link opens the whole frame
    whole = row.locator("a:has(svg.thumb)").get_attribute("href")
    assert whole.endswith(".jpg")
    assert page.request.get(f"{live_server.url}{whole}").status == 200
    page.screenshot(path=str(ARTIFACTS / "gates_passages.png"), full_page=True)
    # and the plate opens the passage's page: its frame, outlined, and the gate's answer
    row.locator("td.plate a").click()
    page.wait_for_url("**/gates/passages/*/")
    frame = page.locator("table.passage-frames tr[data-frame]")
    assert frame.count() == 1
    assert frame.locator("polygon.plate-outline").count() == 1
    assert frame.locator("td.plate").inner_text() == "AA1234BB"
    assert "Open" in frame.locator("td.decision").inner_text()
    page.screenshot(path=str(ARTIFACTS / "gates_passage.png"), full_page=True)
    # and the access list is edited through the form
    page.goto(f"{live_server.url}/gates/{gate.pk}/access/")
    page.fill("#id_plate", "KA0101AM")
    page.fill("#id_days", "01234")
    page.click("form.access-add button[type=submit]")
    page.wait_for_selector("tr[data-plate=KA0101AM]")
    assert AccessEntry.objects.filter(plate="KA0101AM", days="01234").exists()
    page.click("tr[data-plate=AA1234BB] button")
    page.wait_for_selector("tr[data-plate=AA1234BB]", state="detached")
    assert not AccessEntry.objects.filter(plate="AA1234BB").exists()
    page.screenshot(path=str(ARTIFACTS / "gates_access.png"), full_page=True)


def test_an_operator_opens_by_hand_for_a_refused_car_and_finds_it_in_the_audit_log(
    page, live_server, post_frame, gate_engine, gate
):
    # given: a car the gate refused (not on the list)
    UserFactory(username="olga", is_staff=True)
    gate.deny_after_frames = 1
    gate.save()
    body = frame_jpeg(2, width=640, height=360)
    teach(gate_engine, body, "KA0101AM")
    assert post_frame(body).json()["decision"] == "deny"
    page.goto(f"{live_server.url}/gates/")
    page.fill("#id_username", "olga")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/gates/")
    # when: the driver calls the intercom; the operator follows the refused car's link
    page.click("tr[data-decision=deny] a.open-by-hand")
    page.wait_for_url(f"**/gates/{gate.pk}/access/#open-now")
    page.fill("#id_open_reason", "visitor for reception, at the intercom")
    page.click("form.gate-open-form button[type=submit]")
    # then: the order waits for the gate's device, and the audit log names who and why
    order = page.locator("table.gate-commands tbody tr")
    order.first.wait_for()
    assert order.count() == 1
    assert "visitor for reception" in order.inner_text()
    assert "Waiting for the device" in order.locator("td.state").inner_text()
    page.screenshot(path=str(ARTIFACTS / "gates_open_by_hand.png"), full_page=True)
    page.goto(f"{live_server.url}/gates/audit/?action=gate_opened")
    entry = page.locator("tr.audit-entry")
    assert entry.count() == 1
    text = entry.inner_text()
    assert "olga" in text
    assert "Opened by hand" in text
    assert "visitor for reception, at the intercom" in text
    page.screenshot(path=str(ARTIFACTS / "gates_audit.png"), full_page=True)
