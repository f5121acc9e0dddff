"""Requests to URLs a partner gave: webhook attempts, and photos fetched by URL (webapp/api/
photo_urls.py). Only public addresses (checked again as each connection is made, against DNS
rebinding), unless the caller allows private ones (WEBHOOK_ALLOW_PRIVATE, PHOTO_URL_ALLOW_PRIVATE:
tests and demos), and within one deadline for the whole answer (`AttemptDeadline`), whose sockets
are shut when it passes. Nothing here touches the database: the request is made with no
transaction open."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
import requests.adapters
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url


class EndpointRefused(ValueError):
    """The URL may not receive webhooks; `code` is stable, the message is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def public_address(host: str, port: int) -> str:
    """The address to connect to for `host`, if every address it resolves to is public."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise EndpointRefused("unresolvable_host", "the host name does not resolve") from exc
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    for address in addresses:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if not address.is_global:
            raise EndpointRefused("private_address", "the host resolves to a private address")
    if not addresses:
        raise EndpointRefused("unresolvable_host", "the host name does not resolve")
    return str(addresses[0])


def webhook_url_check(*, url: str) -> None:
    """Refuse receivers inside our own network (SSRF) unless WEBHOOK_ALLOW_PRIVATE."""
    public_url_check(url=url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE, noun="webhook URLs")


def public_url_check(*, url: str, allow_private: bool, noun: str) -> None:
    """Refuse a URL inside our own network (SSRF) unless `allow_private`; `noun` names what the
    URL is for in the message ("webhook URLs must use https").

    The host is the one the sender connects to: urllib3 parses the URL for requests, and a URL
    that the standard library reads with another host (`https://10.0.0.1\\@example.com/`) is
    refused as ambiguous. The request checks the address again as it connects
    (`_PublicHTTPSConnection`), so a name that resolves elsewhere by then reaches nothing.
    """
    try:
        parts = parse_url(url)
        stdlib_host = urlsplit(url).hostname
    except (LocationParseError, ValueError) as exc:
        raise EndpointRefused("invalid_url", "the URL must be http(s)://host/...") from exc
    if parts.scheme not in ("https", "http") or not parts.host:
        raise EndpointRefused("invalid_url", "the URL must be http(s)://host/...")
    if (stdlib_host or "").lower() != parts.host.strip("[]").lower():
        raise EndpointRefused("invalid_url", "the URL's host is ambiguous")
    if allow_private:
        return
    if parts.scheme != "https":
        raise EndpointRefused("https_required", f"{noun} must use https")
    public_address(parts.host.strip("[]"), parts.port or 443)


@dataclass(frozen=True)
class Answer:
    """What one attempt came to: `error` is empty for a 2xx within the deadline, else short and
    stable ("timeout", "connection failed", "HTTP 500", an EndpointRefused code)."""

    status_code: int | None
    error: str
    duration_ms: int


def webhook_post(*, url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST one signed message; the status is the answer, the body is never read."""
    status_code: int | None = None
    error = ""
    started = time.monotonic()
    deadline = AttemptDeadline(settings.WEBHOOK_TIMEOUT_S)
    try:
        webhook_url_check(url=url)
        with deadline, delivery_session() as session:
            # stream: an endless body costs nothing (the connection is closed unread).
            with session.post(
                url,
                data=body,
                headers=headers,
                timeout=settings.WEBHOOK_TIMEOUT_S,
                allow_redirects=False,
                stream=True,
            ) as response:
                status_code = response.status_code
        if deadline.expired:
            # Cut off mid-answer: the headers read so far may look like a complete 200.
            status_code, error = None, "timeout"
        elif not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
    except EndpointRefused as exc:
        error = exc.code
    except (requests.Timeout, SoftTimeLimitExceeded):
        # The task's soft limit: a name that takes for ever to resolve. Counted like any
        # timeout, so the delivery is given up after its window instead of retried for ever.
        error = "timeout"
    except requests.ConnectionError:
        error = "timeout" if deadline.expired else "connection failed"
    except requests.RequestException as exc:
        error = "timeout" if deadline.expired else type(exc).__name__
    return Answer(status_code, error, int((time.monotonic() - started) * 1000))


class AttemptDeadline:
    """The whole attempt's time limit, WEBHOOK_TIMEOUT_S. requests' timeout bounds each read, not
    the answer: a receiver sending a byte every few seconds would hold a worker for ever, its
    attempt never recorded. At the deadline the attempt's sockets are shut, which ends any read
    on them; the connections register their sockets here (`_watch`)."""

    _current = threading.local()

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> AttemptDeadline:
        AttemptDeadline._current.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        AttemptDeadline._current.deadline = None

    @classmethod
    def watch(cls, sock: socket.socket) -> None:
        deadline = getattr(cls._current, "deadline", None)
        if deadline is not None:
            with deadline._lock:
                deadline._sockets.append(sock)
                if deadline.expired:
                    _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


class _WatchedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        AttemptDeadline.watch(sock)
        return sock


class _WatchedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        AttemptDeadline.watch(sock)
        return sock


class _PublicHTTPSConnection(_WatchedHTTPSConnection):
    """Connects only to a public address, resolved and checked as it connects: a name that
    answered a public address to `webhook_url_check` and a private one now (DNS rebinding) is
    refused before a byte is sent. TLS still verifies the certificate against the URL's name."""

    def _new_conn(self) -> socket.socket:
        name = self._dns_host
        self._dns_host = public_address(name, self.port)
        try:
            return super()._new_conn()
        finally:
            self._dns_host = name


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _PublicHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PublicHTTPSConnection


class _DeliveryAdapter(requests.adapters.HTTPAdapter):
    def __init__(self, *, public_only: bool) -> None:
        self.public_only = public_only
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _WatchedHTTPPool,
            "https": _PublicHTTPSPool if self.public_only else _WatchedHTTPSPool,
        }


def delivery_session() -> requests.Session:
    return outbound_session(public_only=not settings.WEBHOOK_ALLOW_PRIVATE)


def outbound_session(*, public_only: bool) -> requests.Session:
    """A session whose https connections reach public addresses only (`public_only`); plain
    http is only ever allowed where private addresses are (`public_url_check`)."""
    session = requests.Session()
    if public_only:
        # No proxy from the environment either: a proxy would resolve the name itself.
        session.trust_env = False
    session.mount("https://", _DeliveryAdapter(public_only=public_only))
    session.mount("http://", _DeliveryAdapter(public_only=public_only))
    return session
