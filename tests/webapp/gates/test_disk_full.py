"""A gate frame the full media disk refuses: the Pi is answered 503 `storage_unavailable` (it
keeps the frame in its queue, decides from its cached access list, and resends the frame, which
the server then stores and decides once), the request is audited, nothing half-stored is left,
and the failure is logged once and counted.

The disk is full at the filesystem's edge only (tests/fixtures/disk.py)."""

from __future__ import annotations

import pytest

from tests.fixtures.disk import errors_logged, media_files, write_failures
from tests.fixtures.gate_engine import frame_jpeg, teach
from webapp.gates import selectors, services
from webapp.gates.models import DeviceRequest, Frame, Passage
from webapp.storage import RETRY_AFTER_S

pytestmark = pytest.mark.django_db


def test_a_frame_the_full_disk_refuses_is_answered_503_and_stored_when_resent(
    post_frame, gate_engine, gate, client, settings, full_media_disk, caplog
):
    # given a listed car in front of the gate, and a full disk
    body = frame_jpeg(7)
    teach(gate_engine, body, "AA1234BB")
    services.access_entry_add(gate=gate, plate="AA1234BB")
    counted = write_failures(client, settings, "gates")
    caplog.clear()
    # when the Pi posts the frame
    response = post_frame(body, frame="f7")
    # then it is told, in the gate protocol's refusal shape, that the frame was not kept: a 5xx,
    # so the Pi keeps it in its queue and decides from its cached list meanwhile
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == str(RETRY_AFTER_S)
    assert response.json() == {
        "code": "storage_unavailable",
        "detail": "the frame could not be stored now; send it again",
    }
    # nothing half-stored: no frame, no passage, no partial file; the refusal is audited
    assert not Frame.objects.exists()
    assert not Passage.objects.exists()
    assert media_files(settings) == []
    audit = DeviceRequest.objects.get()
    assert (audit.code, audit.accepted, audit.frame_id) == ("storage_unavailable", False, None)
    assert selectors.device_statuses()[0].last_refusal == "storage_unavailable"  # /gates/devices/
    logged = errors_logged(caplog)
    assert len(logged) == 1, logged
    assert "f7" in logged[0]
    assert "No space left on device" in logged[0]
    assert write_failures(client, settings, "gates") == counted + 1
    # when space is freed and the Pi resends the frame from its queue
    full_media_disk.free()
    caplog.clear()
    again = post_frame(body, frame="f7", queued=True)
    # then it is stored whole and decided, for the record
    assert again.status_code == 200, again.content
    assert again.json()["decision"] == "open"
    frame = Frame.objects.get()
    assert (frame.client_frame_id, frame.queued) == ("f7", True)
    assert frame.image.read() == body
    assert media_files(settings) == [settings.MEDIA_ROOT / frame.image.name]
    assert errors_logged(caplog) == []
