from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
import redis
from django.test import Client

from webapp.gates import services, signing
from webapp.gates.models import Device, Gate

# This suite's Redis database for the cache (nonces, rate counters); other suites use others.
TEST_CACHE_URL = os.environ.get("TEST_GATES_CACHE_URL", "redis://127.0.0.1:6379/3")
GATE_ENGINE = "tests.fixtures.gate_engine:load_engine"


@pytest.fixture(autouse=True)
def redis_cache(settings) -> Iterator[str]:
    """Nonces live in the real Redis, as in production; emptied before and after each test."""
    client = redis.Redis.from_url(TEST_CACHE_URL)
    client.flushdb()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": TEST_CACHE_URL,
        }
    }
    yield TEST_CACHE_URL
    client.flushdb()


@pytest.fixture
def gate_engine(engine_control: Path, settings) -> Path:
    """The per-frame engine double; teach it with tests.fixtures.gate_engine.teach."""
    from recognition.engine_loader import reset_engine

    settings.PLATECHECK_ENGINE = GATE_ENGINE
    reset_engine()
    return engine_control


@pytest.fixture
def operator_client(client, moderator):
    """The gate pages as a staff member sees them (staff are gate operators)."""
    client.force_login(moderator)
    return client


@pytest.fixture
def gate(db) -> Gate:
    return services.gate_create(name="north", site="HQ")


@pytest.fixture
def device_with_secret(gate: Gate) -> tuple[Device, str]:
    new = services.device_create(gate=gate)
    return new.device, new.secret


def signed_headers(
    *,
    device_id: str,
    secret: str,
    method: str,
    path: str,
    body: bytes,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_urlsafe(18)
    return {
        signing.HEADER_DEVICE: device_id,
        signing.HEADER_TIMESTAMP: ts,
        signing.HEADER_NONCE: nonce,
        signing.HEADER_SIGNATURE: signing.sign(
            secret=secret, method=method, path=path, timestamp=ts, nonce=nonce, body=body
        ),
        signing.HEADER_VERSION: "test/1",
    }


FramePoster = Callable[..., object]


@pytest.fixture
def post_frame(device_with_secret) -> FramePoster:
    device, secret = device_with_secret
    return frame_poster(device, secret)


def frame_poster(device: Device, secret: str) -> FramePoster:
    """Posts a frame as `device` would, signed with its `secret`; returns the response."""

    def post(
        body: bytes,
        *,
        frame: str | None = None,
        captured_at: float | None = None,
        queued: bool = False,
        content_type: str = "image/jpeg",
        headers: dict[str, str] | None = None,
        **sign_overrides: object,
    ):
        query = {"frame": frame or secrets.token_hex(8)}
        if captured_at is not None:
            query["captured_at"] = f"{captured_at:.3f}"
        if queued:
            query["queued"] = "1"
        path = f"/api/v1/gates/frames/?{urlencode(query)}"
        signed = signed_headers(
            device_id=str(sign_overrides.pop("device_id", device.device_id)),
            secret=str(sign_overrides.pop("secret", secret)),
            method="POST",
            path=path,
            body=body,
            **sign_overrides,  # type: ignore[arg-type]
        )
        signed.update(headers or {})
        return Client().post(path, data=body, content_type=content_type, headers=signed)

    return post
