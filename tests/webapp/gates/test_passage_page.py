"""A passage's own page: an operator asks "why did the gate decide so?" and sees every frame in
the order taken, what each read (its unsure characters marked) and the gate's answer after it,
the register's record, the stay the passage began, and the plate's earlier passages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.webapp.review.factories import RegisterRecordFactory
from webapp.gates import selectors, services
from webapp.gates.models import Decision, Frame, Passage
from webapp.gates.visits import visit_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def denied(gate) -> Passage:
    """AA1234BB at the entry gate `north`: read twice (once unsure of its 4th character), one
    frame failed, denied; the day before it passed at `south`, and before that at `north`."""
    gate = services.gate_create(name=gate.name, site="HQ", direction="entry")
    south = services.gate_create(name="south", site="HQ")
    device = services.device_create(gate=gate).device
    now = timezone.now()
    for days, at_gate in ((2, gate), (1, south)):
        Passage.objects.create(
            gate=at_gate, device=device, started_at=now - dt.timedelta(days=days),
            last_frame_at=now - dt.timedelta(days=days), voted_plate="AA1234BB",
            decision=Decision.OPEN, reason="on the access list",
        )  # fmt: skip
    Passage.objects.create(  # another plate: not among the earlier ones
        gate=gate, device=device, started_at=now - dt.timedelta(hours=1),
        last_frame_at=now - dt.timedelta(hours=1), voted_plate="BC7777AX",
    )  # fmt: skip
    passage = Passage.objects.create(
        gate=gate, device=device, started_at=now - dt.timedelta(seconds=2), last_frame_at=now,
        voted_plate="AA1234BB", confidence=0.82, frames_count=3, decision=Decision.OPEN,
        reason="on the access list", decide_ms=210.0,
    )  # fmt: skip
    frames = [
        (
            "AA1234BB",
            [0.99, 0.98, 0.97, 0.41, 0.95, 0.96, 0.99, 0.99],
            Frame.Status.DONE,
            "unknown",
        ),
        ("", [], Frame.Status.FAILED, ""),
        ("AA1234BB", [0.99] * 8, Frame.Status.DONE, "open"),
    ]
    for n, (text, confidences, status, decision) in enumerate(frames):
        Frame.objects.create(
            passage=passage, device=device, client_frame_id=f"f-{n}",
            image=f"gates/f-{n}.jpg", width=640, height=480,
            captured_at=now - dt.timedelta(seconds=2 - n), received_at=now, status=status,
            error="corrupt image" if status == Frame.Status.FAILED else "", plate_text=text,
            confidence=min(confidences, default=0.0), char_confidences=confidences,
            corners=[[10, 10], [90, 10], [90, 30], [10, 30]] if text else [], decision=decision,
            queued=n == 2,
        )  # fmt: skip
    assert visit_record(passage=passage) is not None
    RegisterRecordFactory(plate_latin="AA1234BB", brand="SKODA", model="OCTAVIA", colour="БІЛИЙ")
    return passage


@pytest.mark.usefixtures("reader_unsure_below")
def test_the_page_shows_each_frame_in_order_with_its_unsure_characters(operator_client, denied):
    response = operator_client.get(f"/gates/passages/{denied.pk}/")

    assert response.status_code == 200
    frames = response.context["frames"]
    assert [item["frame"].client_frame_id for item in frames] == ["f-0", "f-1", "f-2"]
    unsure = [c.char for c in frames[0]["characters"] if c.unsure]
    assert unsure == ["2"]  # 0.41, under the reader's bar
    assert not any(c.unsure for c in frames[2]["characters"])
    assert frames[1]["characters"] == []
    page = response.content.decode()
    assert 'class="char unsure" title="0.41">2</span>' in page
    assert "corrupt image" in page
    assert "SKODA OCTAVIA, БІЛИЙ" in page
    assert "HQ</a>: On site" in page
    assert "queued" in page


def test_the_plate_s_earlier_passages_at_any_gate_link_to_their_own_pages(operator_client, denied):
    detail = selectors.passage_detail(passage_id=denied.pk)

    assert [p.gate.name for p in detail.earlier] == ["south", "north"]
    assert {p.voted_plate for p in detail.earlier} == {"AA1234BB"}
    page = operator_client.get(f"/gates/passages/{denied.pk}/").content.decode()
    assert f'href="/gates/passages/{detail.earlier[0].pk}/"' in page
    # and the live page links each passage to its page
    live = operator_client.get("/gates/").content.decode()
    assert f'href="/gates/passages/{denied.pk}/"' in live


def test_a_passage_nobody_read_and_one_that_is_not_there(operator_client, gate):
    device = services.device_create(gate=gate).device
    now = timezone.now()
    unread = Passage.objects.create(
        gate=gate, device=device, started_at=now, last_frame_at=now, frames_count=4,
        decision=Decision.UNKNOWN,
    )  # fmt: skip  # its frames purged by retention

    response = operator_client.get(f"/gates/passages/{unread.pk}/")

    assert response.status_code == 200
    assert response.context["detail"].earlier == []
    assert response.context["images_gone"]
    assert "No frames kept." in response.content.decode()
    assert operator_client.get("/gates/passages/999999/").status_code == 404


def test_only_gate_operators_see_a_passage(client, denied, outsider):
    assert client.get(f"/gates/passages/{denied.pk}/").status_code == 302  # to log in
    client.force_login(outsider)
    assert client.get(f"/gates/passages/{denied.pk}/").status_code == 403


def test_a_refused_passage_leads_to_its_gate_s_access_list_with_the_plate_filled_in(
    operator_client, gate
):
    # given: a car the gate refused
    device = services.device_create(gate=gate).device
    now = timezone.now()
    refused = Passage.objects.create(
        gate=gate, device=device, started_at=now, last_frame_at=now, voted_plate="KA0101AM",
        confidence=0.93, decision=Decision.DENY, reason="not on the gate's list",
    )  # fmt: skip

    # when: the operator follows the passage page's link
    page = operator_client.get(f"/gates/passages/{refused.pk}/").content.decode()
    link = f"/gates/{gate.pk}/access/?plate=KA0101AM#add"
    assert f'href="{link}"' in page
    access = operator_client.get(link.split("#")[0])

    # then: the form to add a plate holds it, and nothing is added until it is sent
    assert access.context["form"]["plate"].value() == "KA0101AM"
    assert 'value="KA0101AM"' in access.content.decode()
    assert not gate.access_entries.exists()


def _frames(gate, *, counted: int, kept: int) -> Passage:
    device = services.device_create(gate=gate).device
    now = timezone.now()
    passage = Passage.objects.create(
        gate=gate, device=device, started_at=now, last_frame_at=now, frames_count=counted,
    )  # fmt: skip
    Frame.objects.bulk_create(
        Frame(passage=passage, device=device, client_frame_id=f"f-{n}", image=f"gates/f-{n}.jpg",
              width=640, height=480, captured_at=now + dt.timedelta(seconds=n), received_at=now)
        for n in range(kept)
    )  # fmt: skip
    return passage


def test_a_camera_stuck_on_a_car_pages_its_frames_in_the_order_taken(operator_client, gate):
    # given: more frames than a page shows
    shown = selectors.PASSAGE_FRAMES_SHOWN
    passage = _frames(gate, counted=shown + 5, kept=shown + 5)
    url = f"/gates/passages/{passage.pk}/"

    # when
    first, second, past = (operator_client.get(url + q) for q in ("", "?page=2", "?page=9"))

    # then: the first page holds the first frames taken, the second the rest; a page out of
    # range shows the last one
    ids = [[item["frame"].client_frame_id for item in r.context["frames"]] for r in (first, second)]
    assert ids == [[f"f-{n}" for n in range(shown)], [f"f-{n}" for n in range(shown, shown + 5)]]
    assert [item["frame"].client_frame_id for item in past.context["frames"]] == ids[1]
    assert 'href="?page=2">Later frames' in first.content.decode()
    assert 'href="?page=1">← Earlier frames' in second.content.decode()
    assert first.context["frames_purged"] == 0


def test_frames_retention_purged_are_said_to_be_gone_not_paged(operator_client, gate):
    # given: a passage of 5 frames across retention's cutoff: 2 kept
    passage = _frames(gate, counted=5, kept=2)

    # when
    response = operator_client.get(f"/gates/passages/{passage.pk}/")

    # then
    assert len(response.context["frames"]) == 2
    assert response.context["frames_purged"] == 3
    page = response.content.decode()
    assert "3 frames are no longer kept" in page
    assert "Later frames" not in page
