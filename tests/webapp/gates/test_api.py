"""The signed frame endpoint: one accepted frame, and every refusal with its code and audit row."""

from __future__ import annotations

import io
import struct
import time

import pytest
from PIL import Image

from tests.fixtures.gate_engine import frame_jpeg, teach
from tests.webapp.gates.conftest import signed_headers
from webapp.gates import services
from webapp.gates.models import DeviceRequest, Frame, Passage

pytestmark = pytest.mark.django_db


def _nothing_stored() -> None:
    assert Frame.objects.count() == 0
    assert Passage.objects.count() == 0


def _audited(code: str) -> DeviceRequest:
    row = DeviceRequest.objects.get()
    assert row.code == code
    assert row.accepted is False
    assert row.frame_id is None
    return row


def test_a_signed_frame_is_accepted_read_and_audited(post_frame, gate_engine, gate):
    # given
    body = frame_jpeg(1)
    teach(gate_engine, body, "AA1234BB")
    services.access_entry_add(gate=gate, plate="AA1234BB")
    # when
    response = post_frame(body, frame="f1")
    # then
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["decision"] == "open"
    assert answer["plate"] == "AA1234BB"
    assert answer["confidence"] == pytest.approx(0.9)
    assert answer["passage"] == Passage.objects.get().pk
    frame = Frame.objects.get()
    assert frame.plate_text == "AA1234BB"
    assert frame.status == "done"
    assert frame.image.read() == body
    audit = DeviceRequest.objects.get()
    assert audit.accepted
    assert audit.code == "accepted"
    assert audit.frame_id == frame.pk
    frame.device.refresh_from_db()
    assert frame.device.software_version == "test/1"
    assert frame.device.last_seen_at is not None


def test_the_same_frame_sent_twice_is_stored_once(post_frame, gate_engine):
    body = frame_jpeg(2)
    first = post_frame(body, frame="again")
    second = post_frame(body, frame="again")
    assert first.status_code == second.status_code == 200
    assert first.json()["frame"] == second.json()["frame"]
    assert Frame.objects.count() == 1
    assert list(DeviceRequest.objects.order_by("id").values_list("code", flat=True)) == [
        "accepted",
        "accepted_duplicate",
    ]


def test_a_forged_signature_is_refused(post_frame, gate_engine):
    body = frame_jpeg(3)
    response = post_frame(body, headers={"X-Gate-Signature": "0" * 64})
    assert response.status_code == 401
    assert response.json()["code"] == "bad_signature"
    _audited("bad_signature")
    _nothing_stored()


def test_a_body_changed_after_signing_is_refused(device_with_secret, gate_engine, client):
    device, secret = device_with_secret
    path = "/api/v1/gates/frames/?frame=x1"
    headers = signed_headers(
        device_id=device.device_id, secret=secret, method="POST", path=path, body=frame_jpeg(4)
    )
    response = client.post(path, data=frame_jpeg(5), content_type="image/jpeg", headers=headers)
    assert response.json()["code"] == "bad_signature"
    _nothing_stored()


def test_a_wrong_secret_is_refused(post_frame, gate_engine):
    response = post_frame(frame_jpeg(6), secret="not-the-device-secret")
    assert response.status_code == 401
    assert response.json()["code"] == "bad_signature"
    _audited("bad_signature")
    _nothing_stored()


def test_a_revoked_device_is_refused(post_frame, device_with_secret, gate_engine):
    device, _ = device_with_secret
    services.device_revoke(device_id=device.device_id)
    response = post_frame(frame_jpeg(7))
    assert response.status_code == 403
    assert response.json()["code"] == "device_revoked"
    assert _audited("device_revoked").device_id == device.pk
    _nothing_stored()


def test_an_unknown_device_is_refused(post_frame, gate_engine):
    response = post_frame(frame_jpeg(8), device_id="gd_nobody")
    assert response.status_code == 401
    assert response.json()["code"] == "unknown_device"
    row = _audited("unknown_device")
    assert row.claimed_device_id == "gd_nobody"
    assert row.device_id is None
    _nothing_stored()


def test_missing_headers_are_refused(client, db):
    response = client.post("/api/v1/gates/frames/", data=b"x", content_type="image/jpeg")
    assert response.status_code == 401
    assert response.json()["code"] == "missing_headers"
    _audited("missing_headers")


# Whole seconds: a +31 s stamp can be only 30.x s ahead by the time it is checked, so the
# future case keeps a margin; -31 is always at least 31 s behind.
@pytest.mark.parametrize("offset", [-31, 33, -3600])
def test_a_stale_or_future_timestamp_is_refused(post_frame, gate_engine, offset):
    response = post_frame(frame_jpeg(9), timestamp=int(time.time()) + offset)
    assert response.status_code == 401
    assert response.json()["code"] == "stale_timestamp"
    _audited("stale_timestamp")
    _nothing_stored()


def test_a_stale_timestamp_refusal_tells_the_server_time(post_frame, gate_engine):
    # given: a device whose clock is two hours slow
    before = time.time()
    # when
    response = post_frame(frame_jpeg(9), timestamp=int(before) - 7200)
    # then: still a refusal, audited, with the clock it was judged by
    after = time.time()
    assert response.status_code == 401
    answer = response.json()
    assert answer["code"] == "stale_timestamp"
    assert before <= answer["server_time"] <= after
    _audited("stale_timestamp")
    _nothing_stored()


def test_a_replayed_nonce_is_refused(device_with_secret, gate_engine, client):
    device, secret = device_with_secret
    path = "/api/v1/gates/frames/?frame=r1"
    body = frame_jpeg(10)
    headers = signed_headers(
        device_id=device.device_id, secret=secret, method="POST", path=path, body=body
    )
    first = client.post(path, data=body, content_type="image/jpeg", headers=headers)
    replay = client.post(path, data=body, content_type="image/jpeg", headers=headers)
    assert first.status_code == 200
    assert replay.status_code == 409
    assert replay.json()["code"] == "replayed_nonce"
    assert DeviceRequest.objects.filter(code="replayed_nonce", accepted=False).count() == 1
    assert Frame.objects.count() == 1


def test_the_nonce_is_kept_in_redis_for_the_window(device_with_secret, gate_engine, client):
    import redis

    from tests.webapp.gates.conftest import TEST_CACHE_URL

    device, secret = device_with_secret
    path = "/api/v1/gates/frames/?frame=n1"
    body = frame_jpeg(11)
    headers = signed_headers(
        device_id=device.device_id, secret=secret, method="POST", path=path, body=body,
        nonce="nonce-in-redis-0001",
    )  # fmt: skip
    client.post(path, data=body, content_type="image/jpeg", headers=headers)
    keys = redis.Redis.from_url(TEST_CACHE_URL).keys("*nonce-in-redis-0001")
    assert len(keys) == 1
    ttl = redis.Redis.from_url(TEST_CACHE_URL).ttl(keys[0])
    assert 55 <= ttl <= 61


def test_an_oversized_body_is_refused(post_frame, gate_engine, settings):
    settings.GATE_FRAME_MAX_BYTES = 10_000
    body = frame_jpeg(12, width=640, height=480)
    assert len(body) > 10_000
    response = post_frame(body)
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"
    _audited("body_too_large")
    _nothing_stored()


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 20, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (_png(), "image/jpeg"),
        (b"%PDF-1.7 not an image", "image/jpeg"),
        (b"\xff\xd8\xff", "text/plain"),
    ],
)
def test_a_wrong_type_is_refused(post_frame, gate_engine, body, content_type):
    response = post_frame(body, content_type=content_type)
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_type"
    _audited("unsupported_type")
    _nothing_stored()


def test_a_truncated_jpeg_is_refused(post_frame, gate_engine):
    response = post_frame(frame_jpeg(13)[:300])
    assert response.status_code == 400
    assert response.json()["code"] == "corrupt_image"
    _nothing_stored()


def _jpeg_claiming(width: int, height: int) -> bytes:
    """A small, valid JPEG whose header states `width` x `height`."""
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(buffer, format="JPEG")
    data = bytearray(buffer.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


# 5000 x 4000 is over GATE_FRAME_MAX_PIXELS; 20000 x 20000 over twice Pillow's own limit too,
# where Pillow refuses the header with an exception of its own (a 500 before).
@pytest.mark.parametrize("size", [(5000, 4000), (20000, 20000)])
def test_a_frame_claiming_too_many_pixels_is_refused(post_frame, gate_engine, size):
    response = post_frame(_jpeg_claiming(*size))
    assert response.status_code == 413
    assert response.json()["code"] == "too_many_pixels"
    _audited("too_many_pixels")
    _nothing_stored()


def test_a_device_over_its_rate_is_refused(post_frame, gate_engine, settings):
    settings.GATE_FRAMES_PER_MINUTE = 3
    codes = [post_frame(frame_jpeg(20 + k)).status_code for k in range(3)]
    over = post_frame(frame_jpeg(30))
    assert codes == [200, 200, 200]
    assert over.status_code == 429
    assert over.json()["code"] == "rate_limited"
    assert DeviceRequest.objects.filter(code="rate_limited", accepted=False).count() == 1
    assert Frame.objects.count() == 3


def test_forged_requests_do_not_use_up_the_device_rate(post_frame, gate_engine, settings):
    settings.GATE_FRAMES_PER_MINUTE = 2
    for k in range(5):
        post_frame(frame_jpeg(40 + k), secret="forger")
    assert post_frame(frame_jpeg(50)).status_code == 200


def test_the_access_list_is_served_to_its_signed_device(device_with_secret, gate, client):
    device, secret = device_with_secret
    services.access_entry_add(gate=gate, plate="ka 0101 am", days="01234")
    services.block_entry_add(plate="BC7777AX")
    path = "/api/v1/gates/access-list/"
    headers = signed_headers(
        device_id=device.device_id, secret=secret, method="GET", path=path, body=b""
    )
    response = client.get(path, headers=headers)
    assert response.status_code == 200
    payload = response.json()
    assert payload["gate"] == "north"
    assert [e["plate"] for e in payload["entries"]] == ["KA0101AM"]
    assert payload["entries"][0]["days"] == "01234"
    assert payload["blocked"] == ["BC7777AX"]
    assert payload["open_to_all"] is False
    unsigned = client.get(path)
    assert unsigned.status_code == 401


def test_queued_frames_have_their_own_rate_budget(post_frame, gate_engine, settings):
    settings.GATE_FRAMES_PER_MINUTE = 2
    settings.GATE_QUEUED_FRAMES_PER_MINUTE = 3
    live = [post_frame(frame_jpeg(60 + k)).status_code for k in range(3)]
    queued = [post_frame(frame_jpeg(70 + k), queued=True).status_code for k in range(4)]
    assert live == [200, 200, 429]
    assert queued == [200, 200, 200, 429]


def test_a_wrong_method_is_refused_and_audited(client, db):
    response = client.get("/api/v1/gates/frames/")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert response["Allow"] == "POST"
    _audited("method_not_allowed")
