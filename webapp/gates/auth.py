"""Who sent this request: device, signature, clock, nonce and rate checks, each with its code.

Every refusal is a `Refusal` carrying an HTTP status and a stable `code` that the device and the
audit rows use. Checks run cheapest and least-trusting first; the nonce is spent and the rate
counted only once the signature is good, so a forger can burn neither a device's nonces nor its
rate.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from webapp.gates import signing
from webapp.gates.models import Device

_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


@dataclass(frozen=True)
class Refusal(Exception):
    status: int
    code: str
    detail: str
    # On `stale_timestamp`: the clock the timestamp was judged by, so that a device whose clock
    # is wrong (a Pi has no real-time clock) can sign its retry by it. Only the device's own
    # signature inside the window gets through; a replay gains nothing from knowing the time.
    server_time: float | None = None

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


@dataclass(frozen=True)
class SignedRequest:
    method: str
    path: str  # with the query string: it is signed
    device_id: str
    timestamp: str
    nonce: str
    signature: str


def signed_request_from(*, method: str, path: str, headers: Mapping[str, str]) -> SignedRequest:
    values = {
        name: headers.get(name, "").strip()
        for name in (
            signing.HEADER_DEVICE,
            signing.HEADER_TIMESTAMP,
            signing.HEADER_NONCE,
            signing.HEADER_SIGNATURE,
        )
    }
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise Refusal(401, "missing_headers", f"missing {', '.join(missing)}")
    return SignedRequest(
        method=method,
        path=path,
        device_id=values[signing.HEADER_DEVICE][:64],
        timestamp=values[signing.HEADER_TIMESTAMP],
        nonce=values[signing.HEADER_NONCE],
        signature=values[signing.HEADER_SIGNATURE],
    )


def device_for(*, signed: SignedRequest) -> Device:
    device = Device.objects.select_related("gate").filter(device_id=signed.device_id).first()
    if device is None:
        raise Refusal(401, "unknown_device", f"no device {signed.device_id!r}")
    return device


def device_active_check(*, device: Device) -> None:
    if not device.is_active:
        raise Refusal(403, "device_revoked", f"device {device.device_id} is revoked")


def timestamp_check(*, signed: SignedRequest, now: float | None = None) -> None:
    now = time.time() if now is None else now
    try:
        sent = int(signed.timestamp)
    except ValueError:
        raise Refusal(
            401, "stale_timestamp", "timestamp is not unix seconds", server_time=now
        ) from None
    skew = abs(now - sent)
    if skew > settings.GATE_CLOCK_SKEW_S:
        raise Refusal(
            401,
            "stale_timestamp",
            f"timestamp is {skew:.0f} s off (at most {settings.GATE_CLOCK_SKEW_S} s)",
            server_time=now,
        )


def signature_check(*, signed: SignedRequest, device: Device, body: bytes) -> None:
    if not signing.signature_valid(
        secret=device.secret,
        method=signed.method,
        path=signed.path,
        timestamp=signed.timestamp,
        nonce=signed.nonce,
        body=body,
        given=signed.signature,
    ):
        raise Refusal(401, "bad_signature", "the signature does not match")


def nonce_spend(*, signed: SignedRequest) -> None:
    """A nonce is good once while its timestamp could still pass the clock check."""
    if not _NONCE.match(signed.nonce):
        raise Refusal(401, "bad_nonce", "nonce must be 16-64 characters of [A-Za-z0-9_-]")
    key = f"gates:nonce:{signed.device_id}:{signed.nonce}"
    # add() is atomic in Redis (SET NX): of two identical requests racing, one wins.
    if not cache.add(key, 1, timeout=2 * settings.GATE_CLOCK_SKEW_S + 1):
        raise Refusal(409, "replayed_nonce", "this nonce was already used")


def rate_count(*, device: Device, queued: bool = False, now: float | None = None) -> None:
    """Sliding-window estimate over two fixed minutes: no burst slips through at a boundary.

    Frames from the device's offline queue have their own, larger budget: a gate coming back
    from an outage must be able to catch up without its live frames being refused.
    """
    limit = settings.GATE_QUEUED_FRAMES_PER_MINUTE if queued else settings.GATE_FRAMES_PER_MINUTE
    bucket = "queued" if queued else "live"
    minutes = (time.time() if now is None else now) / 60
    minute = int(minutes)
    key = f"gates:rate:{bucket}:{device.device_id}:{minute}"
    cache.add(key, 0, timeout=180)
    count = cache.incr(key)
    previous = cache.get(f"gates:rate:{bucket}:{device.device_id}:{minute - 1}", 0)
    estimate = count + previous * (1 - (minutes - minute))
    if estimate > limit:
        raise Refusal(429, "rate_limited", f"more than {limit} {bucket} frames a minute")
