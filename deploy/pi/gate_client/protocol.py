"""The signed wire protocol (server side: webapp/gates/signing.py) and its HTTP calls."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests

from gate_client import __version__

FRAMES_PATH = "/api/v1/gates/frames/"
ACCESS_LIST_PATH = "/api/v1/gates/access-list/"


class Offline(Exception):
    """The server could not be reached or is failing (5xx): queue and decide locally."""


class ServerError(Offline):
    """The server (or a proxy before it) answered 5xx: an outage, or a fault with this request."""

    def __init__(self, status: int) -> None:
        super().__init__(f"server error {status}")
        self.status = status


class Refused(Exception):
    """The server refused the request (4xx) with a reason code."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail


def sign(*, secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    digest = hashlib.sha256(body).hexdigest()
    message = "\n".join((method.upper(), path, timestamp, nonce, digest)).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Credentials:
    server: str
    device_id: str
    secret: str


class GateApi:
    def __init__(self, credentials: Credentials, *, timeout_s: float = 5.0) -> None:
        self.credentials = credentials
        self.timeout_s = timeout_s
        self.session = requests.Session()

    def _headers(self, method: str, path: str, body: bytes) -> dict[str, str]:
        timestamp = str(int(time.time()))
        nonce = secrets.token_urlsafe(18)
        return {
            "X-Gate-Device": self.credentials.device_id,
            "X-Gate-Timestamp": timestamp,
            "X-Gate-Nonce": nonce,
            "X-Gate-Signature": sign(
                secret=self.credentials.secret,
                method=method,
                path=path,
                timestamp=timestamp,
                nonce=nonce,
                body=body,
            ),
            "X-Gate-Version": f"gate-client/{__version__}",
        }

    def _call(self, method: str, path: str, body: bytes = b"") -> dict[str, Any]:
        headers = self._headers(method, path, body)
        if body:
            headers["Content-Type"] = "image/jpeg"
        base = self.credentials.server.rstrip("/")
        try:
            response = self.session.request(
                method, base + path, data=body or None, headers=headers, timeout=self.timeout_s
            )
        except requests.RequestException as exc:
            raise Offline(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 500:
            raise ServerError(response.status_code)
        try:
            payload = response.json()
        except ValueError:
            raise Offline(f"not JSON from the server (status {response.status_code})") from None
        if response.status_code >= 400:
            raise Refused(
                response.status_code, str(payload.get("code", "")), str(payload.get("detail", ""))
            )
        return payload  # type: ignore[no-any-return]

    def post_frame(
        self, jpeg: bytes, *, frame_id: str, captured_at: float, queued: bool
    ) -> dict[str, Any]:
        query = {"frame": frame_id, "captured_at": f"{captured_at:.3f}"}
        if queued:
            query["queued"] = "1"
        return self._call("POST", f"{FRAMES_PATH}?{urlencode(query)}", jpeg)

    def access_list(self) -> dict[str, Any]:
        return self._call("GET", ACCESS_LIST_PATH)
