"""A queued frame the server fails on every time must not hold the gate's queue forever.

Between the Pi and the real server sits a stand-in for the reverse proxy in front of it (the
network's edge): it forwards every request, answers 502 for everything while "down", and 502
for one frame's body always (as a proxy does for a request that kills its upstream each time).
The client must park that frame after its server errors, once the server has taken the frame
behind it, deliver every other frame exactly once in order, and park nothing during an outage.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from tests.deploy.conftest import client_command, json_lines, start_client, write_config
from tests.fixtures.gate_engine import frame_jpeg
from webapp.gates.models import Frame

pytestmark = pytest.mark.django_db(transaction=True)

FORWARDED = ("Content-Type", "X-Gate-Device", "X-Gate-Timestamp", "X-Gate-Nonce",
             "X-Gate-Signature", "X-Gate-Version")  # fmt: skip


class FaultyProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.down = False
        self.poisoned: set[str] = set()  # sha256 of frame bodies answered 502
        self.errors = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if proxy.down or hashlib.sha256(body).hexdigest() in proxy.poisoned:
                    proxy.errors += 1
                    self._answer(502, b"<html>502 Bad Gateway</html>", "text/html")
                    return
                headers = {name: self.headers[name] for name in FORWARDED if name in self.headers}
                answer = requests.request(
                    self.command, proxy.upstream + self.path, data=body or None,
                    headers=headers, timeout=30,
                )  # fmt: skip
                self._answer(answer.status_code, answer.content, answer.headers["Content-Type"])

            def _answer(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _forward  # noqa: N815

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def proxy(server) -> Iterator[FaultyProxy]:
    faulty = FaultyProxy(server.url)
    yield faulty
    faulty.close()


def test_a_frame_the_server_always_fails_on_is_parked_and_the_queue_moves_on(
    proxy, gate_engine, gate, tmp_path
):
    # given: fourteen frames; the ninth is one the server side fails on every time
    frames = tmp_path / "frames"
    frames.mkdir()
    names = [f"KA{k:04d}AM_{k}.jpg" for k in range(14)]
    bodies = {name: frame_jpeg(7000 + k) for k, name in enumerate(names)}
    for name, body in bodies.items():
        (frames / name).write_bytes(body)
    poison = names[8]
    proxy.poisoned.add(hashlib.sha256(bodies[poison]).hexdigest())
    config = write_config(tmp_path, server_url=proxy.url, gate=gate)
    state = tmp_path / "state"
    command = client_command(
        config, frames, state, tmp_path / "relay.jsonl",
        "--interval", "0.4", "--retry", "0.2", "--timeout", "5",
        "--park-after", "3", "--drain-timeout", "60",
    )  # fmt: skip
    # when: the server side is down (502 for everything) for the first frames, then comes back
    proxy.down = True
    client = start_client(command, tmp_path / "client.log")
    seen: queue.Queue = queue.Queue()
    threading.Thread(target=json_lines, args=(client.stdout, seen), daemon=True).start()
    lines: list[dict] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            line = seen.get(timeout=0.2)
        except queue.Empty:
            continue
        if line is None:
            break
        lines.append(line)
        # Six frames decided from the cache: the queue's first frame has met five server
        # errors (one each time a shot retried the queue), over --park-after.
        if proxy.down and sum(item.get("source") == "cache" for item in lines) >= 6:
            outage_errors = proxy.errors
            proxy.down = False
    client.wait(timeout=60)
    log = (tmp_path / "client.log").read_text()
    # then: the outage parked nothing, though its frames met more errors than --park-after
    assert client.returncode == 0, log
    assert outage_errors > 2 * 3, log
    parked_events = [line for line in lines if line.get("event") == "queued_parked"]
    assert [event["file"] for event in parked_events] == [poison], log
    assert parked_events[0]["server_errors"] >= 3
    # the poisoned frame is kept for the operator, whole, outside the queue
    parked = list((state / "queue" / "parked").glob("*.jpg"))
    assert [path.read_bytes() for path in parked] == [bodies[poison]]
    assert not list((state / "queue").glob("*.jpg"))
    # every other frame reached the server exactly once, in capture order
    stored = list(Frame.objects.order_by("received_at", "id"))
    by_id = {line["frame_id"]: line["file"] for line in lines if "file" in line}
    assert [by_id[frame.client_frame_id] for frame in stored] == [n for n in names if n != poison]
