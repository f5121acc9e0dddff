"""Gate frames that are not plain RGB JPEGs: a camera mounted on its side (EXIF orientation) and a
CMYK JPEG with its colour profile are read as a viewer shows them, by the web request and by the
gates worker alike."""

from __future__ import annotations

import io
from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone
from PIL import Image, ImageOps

from tests.fixtures import images
from tests.fixtures.gate_engine import frame_jpeg, teach_pixels
from tests.fixtures.photo_modes import SWAPPED_PROFILE, orientation, through_profile
from webapp.gates import passages, services
from webapp.gates.models import Frame

pytestmark = pytest.mark.django_db
PLATE = "AA1234BB"


def sideways_frame() -> bytes:
    """A 320x240 frame turned a quarter (240x320), with EXIF saying to turn it back (6)."""
    with Image.open(io.BytesIO(frame_jpeg(7))) as upright:
        stored = upright.transpose(Image.Transpose.ROTATE_90)
    return images.encode(stored, "JPEG", quality=90, exif=orientation(6).tobytes())


def shown(jpeg: bytes) -> np.ndarray:
    """The frame as a viewer shows it, by Pillow alone."""
    with Image.open(io.BytesIO(jpeg)) as image:
        if image.mode == "CMYK":
            return np.asarray(Image.new("RGB", image.size, through_profile(jpeg, (0, 0))))
        return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))


def test_a_sideways_camera_frame_is_read_upright(post_frame, gate_engine, gate):
    # given a frame whose plate the engine reads only when it is upright
    body = sideways_frame()
    teach_pixels(gate_engine, shown(body), PLATE)
    services.access_entry_add(gate=gate, plate=PLATE)
    # when
    response = post_frame(body, frame="side-1")
    # then
    assert response.status_code == 200, response.content
    assert (response.json()["decision"], response.json()["plate"]) == ("open", PLATE)
    frame = Frame.objects.get()
    assert Image.open(frame.image).size == (240, 320)  # stored as sent
    assert (frame.width, frame.height) == (320, 240)  # as read


def test_the_gates_worker_reads_a_stored_frame_as_the_web_request_does(
    device_with_secret, gate_engine, gate
):
    # given frames stored as sent: one sideways, one CMYK with its press profile
    device, _ = device_with_secret
    cmyk = images.cmyk_jpeg((200, 30, 30), size=(320, 240), icc_profile=SWAPPED_PROFILE)
    services.access_entry_add(gate=gate, plate=PLATE)
    for number, body in enumerate([sideways_frame(), cmyk]):
        teach_pixels(gate_engine, shown(body), PLATE)
        frame, _ = passages.frame_store(
            device=device,
            body=body,
            width=0,
            height=0,
            client_frame_id=f"stored-{number}",
            captured_at=timezone.now() - timedelta(minutes=number),
            queued=False,
        )
        # when the gates worker reads it from the file
        read = passages.frame_read_and_decide(frame_id=frame.pk)
        # then
        assert (read.status, read.error, read.plate_text) == ("done", "", PLATE)
        assert read.decision == "open"
