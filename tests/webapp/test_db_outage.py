"""PostgreSQL down or unreachable, as each kind of client sees it, on the real server.

gunicorn (deploy/gunicorn.conf.py, one sync worker, DEBUG off) talks to the test database
through a TCP proxy (tests/fixtures/db_proxy.py) that the test cuts (a restart: connections
closed, new ones refused), blackholes (connections accepted, nothing answered: a partition, a
dead host) and restores. Every row the server needs is committed (transactional_db).
"""

from __future__ import annotations

import secrets
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
from django.contrib.auth.models import Group, Permission
from django.test import Client

from tests.fixtures.db_proxy import DatabaseProxy
from tests.fixtures.factories import UserFactory
from tests.fixtures.gate_engine import frame_jpeg
from tests.fixtures.images import jpeg
from tests.fixtures.web_server import WebServer, gunicorn
from tests.webapp.gates.conftest import signed_headers
from webapp.gates import services as gate_services
from webapp.listings.partners import partners_group
from webapp.partners.tokens import token_create
from webapp.review.models import MODERATORS_GROUP

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy" / "pi"))
from gate_client import protocol  # noqa: E402

# Short, so the blackholed request is quick; psycopg's minimum is 2 s.
CONNECT_TIMEOUT_S = 2
# Far above the connect timeout: a request answered only because gunicorn killed its worker
# (or never answered) is told apart from one the app answered in time.
GUNICORN_TIMEOUT_S = 30
# What an answer in time may take beyond the connect timeout (a loaded, shared CPU).
MARGIN_S = 4
CLIENT_TIMEOUT_S = 10


@dataclass
class Outage:
    proxy: DatabaseProxy
    server: WebServer
    media: Path
    api: requests.Session  # a partner's token
    moderator: requests.Session  # a moderator's session cookie
    device_id: str
    secret: str

    def post_frame(self) -> requests.Response:
        body = frame_jpeg(seed=secrets.randbelow(1000))
        path = f"/api/v1/gates/frames/?{urlencode({'frame': secrets.token_hex(8)})}"
        headers = signed_headers(
            device_id=self.device_id, secret=self.secret, method="POST", path=path, body=body
        )
        return requests.post(
            self.server.url + path, data=body, timeout=CLIENT_TIMEOUT_S,
            headers={**headers, "Content-Type": "image/jpeg"},
        )  # fmt: skip

    def upload(self) -> requests.Response:
        return self.api.post(
            self.server.url + "/api/v1/listings/",
            data={"marketplace_id": f"MP-{secrets.token_hex(4)}", "declared_make": "Lada"},
            files={"photos": ("car.jpg", jpeg(), "image/jpeg")},
            timeout=CLIENT_TIMEOUT_S,
        )

    def listings(self) -> requests.Response:
        return self.api.get(self.server.url + "/api/v1/listings/", timeout=CLIENT_TIMEOUT_S)

    def review_page(self) -> requests.Response:
        return self.moderator.get(self.server.url + "/review/", timeout=CLIENT_TIMEOUT_S)

    def media_files(self) -> list[Path]:
        return sorted(path for path in self.media.rglob("*") if path.is_file())


@pytest.fixture
def outage(transactional_db, db_proxy: DatabaseProxy, tmp_path: Path) -> Iterator[Outage]:
    partner = UserFactory(username="partner")
    # An earlier transactional test's flush may have taken the partners group's permission
    # (its data migration granted it).
    group = partners_group()
    group.permissions.add(
        Permission.objects.get(content_type__app_label="listings", codename="add_listing")
    )
    partner.groups.add(group)
    moderator = UserFactory(username="moderator")
    moderator.groups.add(Group.objects.get_or_create(name=MODERATORS_GROUP)[0])
    browser = Client()
    browser.force_login(moderator)
    device = gate_services.device_create(gate=gate_services.gate_create(name="north"))
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {token_create(user=partner, name='outage').key}"
    pages = requests.Session()
    pages.cookies.set("sessionid", browser.cookies["sessionid"].value)
    media = tmp_path / "server-media"
    engine_dir = tmp_path / "engine"
    engine_dir.mkdir()
    env: dict[str, str | None] = {
        "DEBUG": "0",
        "DATABASE_URL": db_proxy.database_url(),
        "DB_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT_S),
        "GUNICORN_WORKERS": "1",
        "GUNICORN_TIMEOUT": str(GUNICORN_TIMEOUT_S),
        "MEDIA_ROOT": str(media),
        "CELERY_BROKER_URL": "",  # tasks in-process: the server needs only its database
        "CACHE_URL": "",
        "API_THROTTLE_CACHE_URL": "",
        # an empty value would have each worker's metric files written into the checkout
        "PROMETHEUS_MULTIPROC_DIR": None,
        "PLATECHECK_ENGINE": "tests.fixtures.gate_engine:load_engine",
        "ENGINE_DOUBLE_DIR": str(engine_dir),
    }
    with gunicorn(env=env, log_path=tmp_path / "gunicorn.log") as server:
        yield Outage(
            proxy=db_proxy, server=server, media=media, api=api, moderator=pages,
            device_id=device.device.device_id, secret=device.secret,
        )  # fmt: skip
    db_proxy.restore()


def assert_api_unavailable(response: requests.Response) -> None:
    assert response.status_code == 503, response.text[:500]
    assert response.json() == {
        "type": "server_error",
        "errors": [
            {
                "code": "database_unavailable",
                "detail": "the database is briefly unavailable; send the request again",
                "attr": None,
            }
        ],
    }
    assert 1 <= int(response.headers["Retry-After"]) <= 10


def test_api_answers_503_while_the_database_restarts_and_serves_again_after(outage):
    # given a worker holding a live database connection, and the media folder as it is
    assert outage.listings().status_code == 200
    assert outage.upload().status_code == 201
    files = outage.media_files()
    # when PostgreSQL goes down
    outage.proxy.cut()
    # then reads and uploads are told to retry, and nothing of the upload is kept
    assert_api_unavailable(outage.listings())
    assert_api_unavailable(outage.upload())
    assert outage.media_files() == files
    # each logged once, as an error with the database's reason, without a traceback
    log = outage.server.log()
    assert log.count("ERROR django.request database unavailable") == 2, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
    # when it is back: the same worker serves again, nothing restarted
    outage.proxy.restore()
    assert outage.listings().status_code == 200
    assert outage.upload().status_code == 201
    assert len(outage.media_files()) == len(files) + 1


def test_gate_frame_answers_503_json_while_the_database_is_down(outage):
    # given
    assert outage.post_frame().status_code == 200
    files = outage.media_files()
    # when
    outage.proxy.cut()
    response = outage.post_frame()
    # then the gate's refusal shape, which the Pi treats as an outage (it keeps the frame)
    assert response.status_code == 503, response.text[:500]
    assert response.json() == {
        "code": "database_unavailable",
        "detail": "the database is briefly unavailable; send the frame again",
    }
    assert 1 <= int(response.headers["Retry-After"]) <= 10
    assert outage.media_files() == files
    assert "Traceback" not in outage.server.log()
    # and the Pi's own client takes it for an outage: it queues the frame and decides from its
    # cached list (deploy/pi/gate_client/client.py; tests/deploy/test_gate_client_disk_full.py)
    pi = protocol.GateApi(protocol.Credentials(outage.server.url, outage.device_id, outage.secret))
    with pytest.raises(protocol.Offline, match="server error 503"):
        pi.post_frame(frame_jpeg(seed=7), frame_id="pi-1", captured_at=time.time(), queued=False)
    # when it is back
    outage.proxy.restore()
    answer = outage.post_frame()
    assert answer.status_code == 200, answer.text[:500]
    assert "decision" in answer.json()


def test_review_page_answers_the_503_page_while_the_database_is_down(outage):
    # given
    assert outage.review_page().status_code == 200
    # when
    outage.proxy.cut()
    response = outage.review_page()
    # then a page in the site's look, saying what happened and what to do
    assert response.status_code == 503, response.text[:500]
    assert response.headers["Content-Type"].startswith("text/html")
    assert 1 <= int(response.headers["Retry-After"]) <= 10
    assert "The database is briefly unavailable" in response.text
    assert "review/review.css" in response.text
    assert "Traceback" not in outage.server.log()
    # when it is back
    outage.proxy.restore()
    assert outage.review_page().status_code == 200


def test_unreachable_database_answers_503_within_the_connect_timeout(outage):
    # given a database host that takes connections and never answers (no reset, no refusal)
    outage.proxy.blackhole()
    # when a request needs a connection
    started = time.monotonic()
    try:
        response = outage.listings()
    except requests.Timeout:
        pytest.fail(f"no answer within {CLIENT_TIMEOUT_S}s: the worker hangs on connect")
    took = time.monotonic() - started
    # then the app answers, after the connect timeout rather than gunicorn's worker timeout
    assert_api_unavailable(response)
    assert took < CONNECT_TIMEOUT_S + MARGIN_S, took
    # and once the host answers again the same worker serves
    outage.proxy.restore()
    assert outage.listings().status_code == 200
