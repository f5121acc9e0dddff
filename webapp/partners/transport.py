"""How a webhook attempt reaches the receiver: only public addresses (checked again as each
connection is made, against DNS rebinding, unless WEBHOOK_ALLOW_PRIVATE), and within one
deadline for the whole answer (`AttemptDeadline`), whose sockets are shut when it passes."""

from __future__ import annotations

import ipaddress
import socket
import threading
from typing import Any

import requests
import requests.adapters
from django.conf import settings
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection


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
    session = requests.Session()
    public_only = not settings.WEBHOOK_ALLOW_PRIVATE
    if public_only:
        # No proxy from the environment either: a proxy would resolve the name itself.
        session.trust_env = False
    session.mount("https://", _DeliveryAdapter(public_only=public_only))
    session.mount("http://", _DeliveryAdapter(public_only=public_only))
    return session
