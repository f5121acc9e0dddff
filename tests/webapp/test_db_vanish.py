"""A database host that vanishes under an open connection (no reset, no answer: a failover, a cut
link) is given up in seconds by the options every PostgreSQL connection carries (webapp/env.py),
where without them a query waits out the kernel's 15 minutes of retransmissions.

The client is a process in a network namespace of its own (tests/fixtures/netns.py), connected
with the options `webapp.env.database_from_url` gives it, through a proxy to the real
PostgreSQL. The tests shorten the timers through the URL, which the product lets win.
"""

from __future__ import annotations

import json
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from tests.fixtures.db_proxy import DatabaseProxy
from tests.fixtures.netns import VanishingLink

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
# Connects as the product would, says so, waits for a line on stdin, then queries once and
# prints how that went and how long it took.
CLIENT = """
import json, sys, time
import psycopg
from webapp.env import database_from_url

db = database_from_url(sys.argv[1])
conn = psycopg.connect(
    host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"],
    dbname=db["NAME"], autocommit=True, **db["OPTIONS"],
)
conn.execute("SELECT 1")
print("connected", flush=True)
sys.stdin.readline()
started = time.monotonic()
try:
    conn.execute("SELECT 1")
    error = None
except psycopg.OperationalError as exc:
    error = str(exc)
print(json.dumps({"error": error, "seconds": time.monotonic() - started}), flush=True)
"""


@pytest.fixture
def proxy(vanishing_link: VanishingLink) -> Iterator[DatabaseProxy]:
    db = connection.settings_dict
    upstream = (db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))
    found = DatabaseProxy(upstream=upstream, host=vanishing_link.host_address)
    yield found
    found.stop()


def _client(link: VanishingLink, url: str) -> subprocess.Popen[str]:
    client = link.run(
        sys.executable, "-c", CLIENT, url,
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert _line(client, 20) == "connected", client.stderr.read() if client.stderr else ""
    return client


def _line(client: subprocess.Popen[str], timeout: float) -> str | None:
    """The client's next line of output, or None if it says nothing for `timeout` seconds."""
    assert client.stdout is not None
    ready, _, _ = select.select([client.stdout], [], [], timeout)
    return client.stdout.readline().strip() if ready else None


def _query_after_vanishing(
    link: VanishingLink, proxy: DatabaseProxy, options: str, *, idle_s: float, wait_s: float
) -> dict[str, object] | None:
    """The client's query once the link has vanished (after `idle_s` seconds of silence); None
    if it is still waiting after `wait_s` seconds."""
    client = _client(link, f"{proxy.database_url()}?{options}")
    try:
        link.vanish()
        time.sleep(idle_s)
        assert client.stdin is not None
        client.stdin.write("go\n")
        client.stdin.flush()
        line = _line(client, wait_s)
        return None if line is None else json.loads(line)
    finally:
        client.kill()
        client.wait(timeout=10)


def test_a_query_to_a_vanished_host_fails_at_the_user_timeout(vanishing_link, proxy):
    # when: the host vanishes with the connection open and idle, and the worker queries
    answer = _query_after_vanishing(
        vanishing_link, proxy, "tcp_user_timeout=3000", idle_s=0, wait_s=30
    )
    # then: the query fails once its bytes are unanswered for 3 s, not 15 minutes later
    assert answer is not None, "the query was still waiting after 30 s"
    assert answer["error"]
    assert 2.5 <= float(answer["seconds"]) <= 15


def test_an_idle_connection_to_a_vanished_host_is_found_dead_by_keepalives(vanishing_link, proxy):
    # when: the host vanishes while the connection is idle (probes after 1 s, 2 of them 1 s
    # apart), and the worker queries after 8 s, user timeout off so only the probes count
    answer = _query_after_vanishing(
        vanishing_link, proxy,
        "tcp_user_timeout=0&keepalives_idle=1&keepalives_interval=1&keepalives_count=2",
        idle_s=8, wait_s=30,
    )  # fmt: skip
    # then: the connection was already known dead: the query fails at once
    assert answer is not None, "the query was still waiting after 30 s"
    assert answer["error"]
    assert float(answer["seconds"]) < 2


def test_without_them_the_query_waits_on(vanishing_link, proxy):
    # the control: libpq's keepalives off, no user timeout: the kernel retransmits for minutes
    answer = _query_after_vanishing(
        vanishing_link, proxy, "tcp_user_timeout=0&keepalives=0", idle_s=0, wait_s=8
    )
    assert answer is None
