"""The signed wire protocol (server side: webapp/gates/signing.py) and its HTTP calls."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests

from gate_client import __version__
from gate_client.clock import ServerClock

FRAMES_PATH = "/api/v1/gates/frames/"
ACCESS_LIST_PATH = "/api/v1/gates/access-list/"
COMMANDS_PATH = "/api/v1/gates/commands/"
COMMAND_DONE_PATH = "/api/v1/gates/commands/done/"
# The refusal of a request signed too far from the server's clock; it carries `server_time`.
STALE_TIMESTAMP = "stale_timestamp"


class Offline(Exception):
    """The server could not be reached or is failing (5xx): queue and decide locally."""


class ServerError(Offline):
    """The server (or a proxy before it) answered 5xx: an outage, or a fault with this request."""

    def __init__(self, status: int) -> None:
        super().__init__(f"server error {status}")
        self.status = status


class Refused(Exception):
    """The server refused the request (4xx) with a reason code; `server_time` is the server's
    clock, on a `stale_timestamp` refusal answered by the configured server itself."""

    def __init__(
        self, status: int, code: str, detail: str, *, server_time: float | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.server_time = server_time


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
    def __init__(
        self,
        credentials: Credentials,
        *,
        timeout_s: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.credentials = credentials
        self.timeout_s = timeout_s
        self.clock = ServerClock(clock)  # `clock` is the Pi's own
        self.session = requests.Session()

    def _headers(self, method: str, path: str, body: bytes) -> dict[str, str]:
        timestamp = str(int(self.clock.now()))
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

    def _call(self, method: str, path: Callable[[], str], body: bytes = b"") -> dict[str, Any]:
        """Sign and send; a refusal of this Pi's clock that tells the server's is sent once more,
        signed afresh (the server's time, a new nonce). `path` is built for each try: the frame's
        capture time in its query is by the server's clock too. The server checks the retry as
        any request (its clock window, its nonce spend): only the offset is new."""
        try:
            return self._send(method, path(), body)
        except Refused as exc:
            if exc.server_time is None:
                raise
        return self._send(method, path(), body)  # refused again: the answer, not another try

    def _send(self, method: str, path: str, body: bytes) -> dict[str, Any]:
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
            server_time = _server_time(response, payload)
            if server_time is not None:
                self.clock.learn(server_time)
            raise Refused(
                response.status_code,
                str(payload.get("code", "")),
                str(payload.get("detail", "")),
                server_time=server_time,
            )
        return payload  # type: ignore[no-any-return]

    def post_frame(
        self, jpeg: bytes, *, frame_id: str, captured_at: float, queued: bool
    ) -> dict[str, Any]:
        """`captured_at` is read on the Pi's clock; it is sent on the server's, which judges the
        access list's time windows for that moment."""

        def path() -> str:
            query = {"frame": frame_id, "captured_at": f"{self.clock.to_server(captured_at):.3f}"}
            if queued:
                query["queued"] = "1"
            return f"{FRAMES_PATH}?{urlencode(query)}"

        return self._call("POST", path, jpeg)

    def access_list(self) -> dict[str, Any]:
        return self._call("GET", lambda: ACCESS_LIST_PATH)

    def commands(self) -> list[dict[str, Any]]:
        """The operators' orders for this gate that the server hands to this device."""
        return list(self._call("GET", lambda: COMMANDS_PATH).get("commands", []))

    def command_done(self, command_id: int, *, result: str, detail: str = "") -> dict[str, Any]:
        query = urlencode({"command": command_id, "result": result, "detail": detail[:200]})
        return self._call("POST", lambda: f"{COMMAND_DONE_PATH}?{query}")


def _server_time(response: requests.Response, payload: dict[str, Any]) -> float | None:
    """The server's clock from a `stale_timestamp` refusal, if it is one, answered by the
    configured server itself (not after a redirect elsewhere), with a finite number."""
    value = payload.get("server_time")
    if payload.get("code") != STALE_TIMESTAMP or response.history or isinstance(value, bool):
        return None
    if not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)
