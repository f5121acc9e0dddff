"""The Pi client (deploy/pi) run as a real subprocess against a real HTTP server."""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

# The gates suite's fixtures: Redis cache on its own db (autouse), the gate, the engine double.
from tests.webapp.gates.conftest import gate as gate  # noqa: F401
from tests.webapp.gates.conftest import gate_engine as gate_engine  # noqa: F401
from tests.webapp.gates.conftest import redis_cache as redis_cache  # noqa: F401
from webapp.gates import services

PI_DIR = Path(__file__).resolve().parents[2] / "deploy" / "pi"
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class _TrackingServer(ThreadedWSGIServer):
    """Remembers open client connections: a stop must also cut keep-alive connections."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.open_sockets: set[socket.socket] = set()

    def process_request(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:  # type: ignore[no-untyped-def]
        self.open_sockets.discard(request)
        super().shutdown_request(request)

    def cut_connections(self) -> None:
        for sock in list(self.open_sockets):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class StoppableServer:
    """The whole Django app over real HTTP on a fixed port, which a test can stop and restart."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.httpd: _TrackingServer | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.httpd = _TrackingServer(("127.0.0.1", self.port), _QuietHandler)
        self.httpd.set_app(WSGIHandler())
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd.cut_connections()
            self.httpd = None


@pytest.fixture
def server(transactional_db) -> Iterator[StoppableServer]:
    served = StoppableServer()
    served.start()
    yield served
    served.stop()


def write_config(folder: Path, *, server_url: str, gate) -> Path:
    new = services.device_create(gate=gate)
    path = folder / "config.json"
    path.write_text(
        json.dumps({"server": server_url, "device_id": new.device.device_id, "secret": new.secret})
    )
    return path


def client_command(config: Path, frames: Path, state: Path, relay: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "gate_client", "--config", str(config), "--simulate", str(frames),
        "--once", "--relay", f"file:{relay}", "--state-dir", str(state), *extra,
    ]  # fmt: skip


def start_client(command: list[str], log: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command,
        cwd=PI_DIR,
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
        env={**os.environ, "PYTHONPATH": str(PI_DIR)},
    )


def json_lines(stream: IO[str], out: queue.Queue) -> None:
    """The client's stdout, a JSON object a line, into `out`; None once it ends."""
    for line in stream:
        out.put(json.loads(line))
    out.put(None)
