"""The register kept current from its published source (registry/fetch.py), against a real HTTP
server on loopback: a file fetched only when it changed, a CKAN dataset's files oldest first, and
every way a look can fail leaving nothing imported."""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import DEFAULT_DB_ALIAS, connection, connections
from prometheus_client.parser import text_string_to_metric_families
from werkzeug import Request, Response

from registry.fetch import LOCK_KEY, FetchBusy, register_fetch
from registry.models import ImportRun, RegisterFetch, RegisterRecord

pytestmark = pytest.mark.django_db

Outcome = RegisterFetch.Outcome


@pytest.fixture(autouse=True)
def scratch(monkeypatch, tmp_path) -> Path:
    """Downloads land under a folder of the test's own, to check none is left behind."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    assert list(folder.iterdir()) == []


def _serve_file(httpserver, path: str, body: bytes, *, etag: str = "") -> list[dict[str, str]]:
    """Serve `body` at `path`, answering 304 to a request with the current ETag; the requests'
    headers are kept for the test to read."""
    seen: list[dict[str, str]] = []

    def answer(request: Request) -> Response:
        seen.append(dict(request.headers))
        if etag and request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        headers = {"ETag": etag} if etag else {}
        return Response(body, status=200, headers=headers, content_type="text/csv")

    httpserver.expect_request(path).respond_with_handler(answer)
    return seen


def test_it_imports_a_new_file_and_then_asks_whether_it_changed(httpserver, samples: Path) -> None:
    # given a file served with an ETag
    body = (samples / "register_2024.csv").read_bytes()
    seen = _serve_file(httpserver, "/register.csv", body, etag='"v1"')
    url = httpserver.url_for("/register.csv")
    # when the source is looked at twice
    [first] = register_fetch(url=url, enqueue_crosscheck=False)
    [second] = register_fetch(url=url, enqueue_crosscheck=False)
    # then the first imports it whole, the second asks with the validator and imports nothing
    assert first.outcome == Outcome.IMPORTED
    assert (first.http_status, first.etag, first.bytes) == (200, '"v1"', len(body))
    assert first.import_run.status == ImportRun.Status.DONE
    assert (first.import_run.rows_inserted, first.import_run.file_name) == (6, "register.csv")
    assert "If-None-Match" not in seen[0]
    assert seen[1]["If-None-Match"] == '"v1"'
    assert (second.outcome, second.http_status, second.import_run) == (
        Outcome.NOT_MODIFIED,
        304,
        None,
    )
    assert RegisterRecord.objects.count() == 6
    assert ImportRun.objects.count() == 1


def test_the_same_bytes_again_are_not_imported_again(httpserver, samples: Path) -> None:
    _serve_file(httpserver, "/r.csv", (samples / "register_2024.csv").read_bytes())
    url = httpserver.url_for("/r.csv")
    outcomes = [register_fetch(url=url, enqueue_crosscheck=False)[0].outcome for _ in range(2)]
    assert outcomes == [Outcome.IMPORTED, Outcome.UNCHANGED]
    assert ImportRun.objects.count() == 1
    # unless forced: fetched and parsed again, every row a duplicate
    [forced] = register_fetch(url=url, force=True, enqueue_crosscheck=False)
    assert forced.outcome == Outcome.IMPORTED
    assert (forced.import_run.rows_inserted, forced.import_run.rows_duplicate) == (0, 6)


def _failing(httpserver, kind: str, samples: Path) -> str:
    path = f"/{kind}.csv"
    if kind == "http":
        httpserver.expect_request(path).respond_with_data("busy", status=503)
    elif kind == "html":
        page = "<html><body>Maintenance</body></html>"
        httpserver.expect_request(path).respond_with_data(page, content_type="text/html")
    elif kind == "huge":
        body = (samples / "register_2024.csv").read_bytes()
        httpserver.expect_request(path).respond_with_data(body, content_type="text/csv")
    else:  # a file that is no register
        body = "name;price\nbike;100\n"
        httpserver.expect_request(path).respond_with_data(body, content_type="text/csv")
    return httpserver.url_for(path)


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("http", "HTTP 503"),
        ("html", "a web page (text/html)"),
        ("huge", "over the limit of 500 bytes"),
        ("not_a_register", "not a register file: header lacks OPER_CODE"),
    ],
)
def test_a_failed_look_keeps_nothing_and_says_why(httpserver, samples, kind, says) -> None:
    url = _failing(httpserver, kind, samples)
    [row] = register_fetch(url=url, max_bytes=500, enqueue_crosscheck=False)
    assert row.outcome == Outcome.FAILED
    assert says in row.error
    assert row.finished_at is not None
    assert RegisterRecord.objects.count() == 0
    if kind == "not_a_register":  # the import's own run says the same, FAILED
        assert row.import_run.status == ImportRun.Status.FAILED
    else:
        assert not ImportRun.objects.exists()


def test_a_body_longer_than_it_said_is_cut_off_at_the_limit(httpserver, samples: Path) -> None:
    # given a server that declares no length (chunked)
    body = (samples / "register_2024.csv").read_bytes()
    httpserver.expect_request("/chunked.csv").respond_with_response(
        Response(iter([body[:400], body[400:]]), content_type="text/csv")
    )
    [row] = register_fetch(
        url=httpserver.url_for("/chunked.csv"), max_bytes=500, enqueue_crosscheck=False
    )
    assert row.outcome == Outcome.FAILED
    assert "passed the limit of 500 bytes" in row.error
    assert not ImportRun.objects.exists()


def _dataset(httpserver, samples: Path) -> str:
    resources = [
        {"url": httpserver.url_for("/files/2024.zip"), "format": "ZIP", "created": "2024-02-01"},
        {"url": httpserver.url_for("/files/about.pdf"), "format": "PDF", "created": "2013-01-01"},
        {"url": httpserver.url_for("/files/2016.csv"), "format": "CSV", "created": "2016-02-01"},
    ]
    listing = {"success": True, "result": {"id": "register", "resources": resources}}
    httpserver.expect_request("/api/3/action/package_show").respond_with_json(listing)
    for name in ("2024.zip", "2016.csv"):
        source = samples / f"register_{name}"
        httpserver.expect_request(f"/files/{name}").respond_with_data(source.read_bytes())
    return httpserver.url_for("/api/3/action/package_show") + "?id=register"


def test_a_ckan_dataset_is_imported_file_by_file_oldest_first(httpserver, samples) -> None:
    url = _dataset(httpserver, samples)
    looks = [register_fetch(url=url, max_files=1, enqueue_crosscheck=False) for _ in range(3)]
    assert [[Path(row.file_url).name for row in rows] for rows in looks] == [
        ["2016.csv"],
        ["2024.zip"],
        [],
    ]
    assert all(rows[0].outcome == Outcome.IMPORTED for rows in looks[:2])
    assert looks[0][0].source_url == url
    assert RegisterRecord.objects.count() > 6


def _mutable_dataset(httpserver, files: dict[str, bytes], modified: dict[str, str]) -> str:
    """A CKAN dataset whose listing and files the test changes between looks: `files` by name,
    and each file's `last_modified` in the listing. Files are served with their sha256 as ETag
    (304 to a request that sends the current one)."""

    def listing(request: Request) -> Response:
        resources = [
            {
                "url": httpserver.url_for(f"/files/{name}"),
                "format": "CSV",
                "created": f"2024-0{i + 1}-01",
                "last_modified": modified[name],
            }
            for i, name in enumerate(files)
        ]
        return Response(json.dumps({"success": True, "result": {"resources": resources}}))

    def file(request: Request) -> Response:
        body = files[request.path.rsplit("/", 1)[-1]]
        etag = f'"{hashlib.sha256(body).hexdigest()}"'
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(body, headers={"ETag": etag}, content_type="text/csv")

    httpserver.expect_request("/api/3/action/package_show").respond_with_handler(listing)
    for name in files:
        httpserver.expect_request(f"/files/{name}").respond_with_handler(file)
    return httpserver.url_for("/api/3/action/package_show") + "?id=register"


def test_a_ckan_file_corrected_in_place_is_imported_again(httpserver, samples) -> None:
    # given a dataset of two monthly files, both imported
    month = (samples / "register_2024.csv").read_bytes()
    lines = month.splitlines(keepends=True)
    files = {
        "2024-01.csv": (samples / "register_2016.csv").read_bytes(),
        "2024-02.csv": b"".join(lines[:-1]),  # the month as first published: a row short
    }
    modified = dict.fromkeys(files, "2024-03-01T10:00:00")
    url = _mutable_dataset(httpserver, files, modified)
    first = register_fetch(url=url, enqueue_crosscheck=False)
    assert [row.outcome for row in first] == [Outcome.IMPORTED, Outcome.IMPORTED]
    assert first[1].listed == "2024-03-01T10:00:00||"
    held = RegisterRecord.objects.count()
    # when the ministry corrects February in place (same URL, a new last_modified)
    files["2024-02.csv"] = month
    modified["2024-02.csv"] = "2024-03-09T08:00:00"
    [corrected] = register_fetch(url=url, enqueue_crosscheck=False)
    # then only February is looked at again, and its new row is imported
    assert (Path(corrected.file_url).name, corrected.outcome) == ("2024-02.csv", Outcome.IMPORTED)
    assert corrected.import_run.rows_inserted == 1
    assert RegisterRecord.objects.count() == held + 1
    # and a listing that touches a file the server did not change costs one 304, once
    modified["2024-01.csv"] = "2024-03-10T00:00:00"
    [touched] = register_fetch(url=url, enqueue_crosscheck=False)
    assert (Path(touched.file_url).name, touched.outcome) == ("2024-01.csv", Outcome.NOT_MODIFIED)
    assert register_fetch(url=url, enqueue_crosscheck=False) == []
    assert ImportRun.objects.count() == 3


def test_a_file_imported_before_versions_were_kept_is_not_fetched_again(httpserver, samples):
    # given a file imported by a look that kept no listed version (before this field existed)
    files = {"2024-01.csv": (samples / "register_2024.csv").read_bytes()}
    modified = {"2024-01.csv": "2024-02-01T10:00:00"}
    url = _mutable_dataset(httpserver, files, modified)
    [old] = register_fetch(url=url, enqueue_crosscheck=False)
    RegisterFetch.objects.filter(pk=old.pk).update(listed="")
    # when the source is looked at
    again = register_fetch(url=url, enqueue_crosscheck=False)
    # then nothing is fetched: the listing's version becomes the look's, for later looks
    assert again == []
    old.refresh_from_db()
    assert old.listed == "2024-02-01T10:00:00||"
    modified["2024-01.csv"] = "2024-05-01T10:00:00"
    [changed] = register_fetch(url=url, enqueue_crosscheck=False)
    assert changed.outcome == Outcome.NOT_MODIFIED


@pytest.mark.parametrize(
    "answer",
    [{"success": False}, {"success": True, "result": {"resources": None}}, "<html>", 500],
    ids=["no-result", "no-resources", "not-json", "http-500"],
)
def test_an_unreadable_dataset_listing_is_a_failed_look(httpserver, answer) -> None:
    handler = httpserver.expect_request("/api/3/action/package_show")
    if answer == 500:
        handler.respond_with_data("down", status=500)
    else:
        body = answer if isinstance(answer, str) else json.dumps(answer)
        handler.respond_with_data(body, content_type="application/json")
    url = httpserver.url_for("/api/3/action/package_show") + "?id=gone"
    [row] = register_fetch(url=url, enqueue_crosscheck=False)
    assert row.outcome == Outcome.FAILED
    assert row.error.startswith(f"the dataset listing {url} could not be read: ")
    assert not ImportRun.objects.exists()


@pytest.fixture
def another_look():
    """Another process's look holding the lock, on PostgreSQL through a connection of its own,
    on SQLite in the cache; calling it ends that look the way a killed worker's ends (its
    connection closed, without unlocking)."""
    if connection.vendor != "postgresql":
        assert cache.add(LOCK_KEY, 1, 60)
        yield lambda: cache.delete(LOCK_KEY)
        cache.delete(LOCK_KEY)
        return
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", [LOCK_KEY])
        assert cursor.fetchone()[0]
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]

    def dies() -> None:
        # The server frees the lock as the backend exits, a moment after the client hangs up.
        other.close()
        deadline = time.monotonic() + 10
        with connection.cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
                if cursor.fetchone()[0] == 0:
                    return
                time.sleep(0.02)
        raise AssertionError(f"backend {pid} still running 10 s after its client hung up")

    yield dies
    other.close()


def test_one_look_at_a_time(another_look) -> None:
    # given another look running, in another process: a second one is refused, and leaves no row
    with pytest.raises(FetchBusy):
        register_fetch(url="http://127.0.0.1:9/register.csv")
    assert not RegisterFetch.objects.exists()
    # when that process dies mid-look
    another_look()
    # then the next look runs at once (and fails here only because nothing listens on port 9)
    [row] = register_fetch(url="http://127.0.0.1:9/register.csv")
    assert row.outcome == Outcome.FAILED
    assert "FetchBusy" not in row.error
    # and it let go of the lock: one more look runs too
    assert len(register_fetch(url="http://127.0.0.1:9/register.csv")) == 1


def test_the_command_says_what_each_look_did(httpserver, samples, capsys) -> None:
    _serve_file(httpserver, "/r.csv", (samples / "register_2024.csv").read_bytes())
    url = httpserver.url_for("/r.csv")
    call_command("register_fetch", url=url, no_crosscheck=True)
    call_command("register_fetch", url=url, no_crosscheck=True)
    out = capsys.readouterr().out.splitlines()
    run = ImportRun.objects.get()
    done = "read 6, new 6, rejected 0, listings re-checked 0"
    assert out[0] == f"{url}: imported in run {run.pk} (done): {done}"
    assert out[1] == f"{url}: unchanged: the same bytes as a file imported before"
    httpserver.expect_request("/gone.csv").respond_with_data("", status=404)
    with pytest.raises(CommandError, match="the fetch failed"):
        call_command("register_fetch", url=httpserver.url_for("/gone.csv"))
    assert "HTTP 404" in capsys.readouterr().out


def test_the_command_needs_a_source(settings) -> None:
    settings.REGISTER_SOURCE_URL = ""
    with pytest.raises(CommandError, match="REGISTER_SOURCE_URL"):
        call_command("register_fetch")


def test_the_daily_task_looks_at_the_configured_source(httpserver, samples, settings) -> None:
    from webapp.ops import tasks

    _serve_file(httpserver, "/r.csv", (samples / "register_2024.csv").read_bytes())
    settings.REGISTER_SOURCE_URL = ""
    assert tasks.register_fetch() == 0
    settings.REGISTER_SOURCE_URL = httpserver.url_for("/r.csv")
    assert tasks.register_fetch() == 1
    assert tasks.register_fetch() == 0  # unchanged
    assert list(RegisterFetch.objects.values_list("outcome", flat=True).order_by("id")) == [
        Outcome.IMPORTED,
        Outcome.UNCHANGED,
    ]


def _register_samples(client) -> dict[str, float]:
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(client.get("/metrics").content.decode())
        for sample in family.samples
        if sample.name.startswith("platecheck_register_")
        and not sample.name.startswith("platecheck_register_import_")
    }


def test_metrics_tell_how_current_the_register_is(httpserver, samples, client, moderator,
                                                  settings):  # fmt: skip
    settings.METRICS_ALLOWED_ADDRESSES = []
    client.force_login(moderator)
    assert _register_samples(client) == {
        "platecheck_register_fetch_failing": 0.0,
        "platecheck_register_fetch_failures_total": 0.0,
    }
    _serve_file(httpserver, "/r.csv", (samples / "register_2024.csv").read_bytes())
    [good] = register_fetch(url=httpserver.url_for("/r.csv"), enqueue_crosscheck=False)
    httpserver.expect_request("/down.csv").respond_with_data("", status=502)
    register_fetch(url=httpserver.url_for("/down.csv"))
    figures = _register_samples(client)
    assert figures["platecheck_register_last_import_timestamp_seconds"] == pytest.approx(
        good.import_run.finished_at.timestamp()
    )
    assert figures["platecheck_register_fetch_last_success_timestamp_seconds"] == pytest.approx(
        good.finished_at.timestamp()
    )
    assert figures["platecheck_register_fetch_failing"] == 1.0
    assert figures["platecheck_register_fetch_failures_total"] == 1.0
    # a look that goes through ends the failing state
    register_fetch(url=httpserver.url_for("/r.csv"), enqueue_crosscheck=False)
    assert _register_samples(client)["platecheck_register_fetch_failing"] == 0.0


def test_a_look_a_dead_worker_left_running_is_closed_by_the_next(httpserver, samples) -> None:
    # given a look left running by a worker killed mid-import
    dead = RegisterFetch.objects.create(
        source_url="https://x.example/r.csv", file_url="https://x.example/r.csv"
    )
    _serve_file(httpserver, "/r.csv", (samples / "register_2024.csv").read_bytes())
    # when the next look runs
    [row] = register_fetch(url=httpserver.url_for("/r.csv"), enqueue_crosscheck=False)
    # then the dead one is failed, saying why, and the new one went through
    dead.refresh_from_db()
    assert dead.outcome == Outcome.FAILED
    assert dead.error.startswith("interrupted:")
    assert dead.finished_at is not None
    assert row.outcome == Outcome.IMPORTED
