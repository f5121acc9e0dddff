"""The register kept current from where it is published.

The Ministry of Internal Affairs publishes the register as open data (data.gov.ua, a CKAN
portal), a new file each month. `register_fetch` looks at the source once:
- the URL of one file (.csv or .zip): fetched with the validators of its last good fetch
  (If-None-Match, If-Modified-Since), so a file that has not changed costs one 304;
- a CKAN dataset's `package_show` URL (`.../api/3/action/package_show?id=...`): each CSV or ZIP
  resource of the dataset not yet imported, oldest first, at most `max_files` a look (the full
  history is tens of GB: a first look imports the oldest ones, the next days the rest). A file
  imported before is looked at again when the listing says it changed (its `last_modified`,
  `size` or `hash`): the ministry corrects a month's file in place, under the same URL. That look
  sends the validators too, so a file the listing touched but the server did not change costs
  one 304, and the same bytes are not imported again.

Each file is streamed into a temporary file (at most `max_bytes`, refused whole above), imported
in one transaction by `services.register_import` (all or nothing) and deleted. A file whose
bytes were imported before is not imported again. Every look at a file is a `RegisterFetch`
row saying what the server answered and the import it led to; the first file that fails stops
the look (the next one starts there again), and no failure leaves a row of the register
behind.

    fetches = register_fetch(url=settings.REGISTER_SOURCE_URL)   # beat, daily; or the command
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit

import requests
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.utils import timezone

from registry.importers import printable
from registry.models import ImportRun, RegisterFetch
from registry.selectors import register_file_imported
from registry.services import register_import

logger = logging.getLogger(__name__)

USER_AGENT = "platecheck-register-fetch"
CONNECT_TIMEOUT_S = 10.0
CHUNK = 1 << 20
# One look at a time, across workers and the command: a second one would fetch the same files.
# The key is hashed into PostgreSQL's advisory-lock space (a key space of its own: see
# webapp/partners/ordering.py); LOCK_S bounds the cache's lock, on SQLite only.
LOCK_KEY = "platecheck.registry.fetch"
LOCK_S = 6 * 3600
BUSY = "another fetch of the register's source is running"
DONE = (RegisterFetch.Outcome.IMPORTED, RegisterFetch.Outcome.UNCHANGED)
# The looks after which the file is what the register holds (a 304 says it still is).
SETTLED = (*DONE, RegisterFetch.Outcome.NOT_MODIFIED)
# What a CKAN resource says of its file's version, in the order it is written on a look's row.
LISTED_FIELDS = ("last_modified", "size", "hash")
CKAN_ACTION = "/api/3/action/package_show"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class FetchFailed(Exception):
    """The source could not be read (a refused listing, a wrong answer): nothing was imported."""


class FetchBusy(Exception):
    """Another look at the source is running."""


def register_fetch(
    *,
    url: str,
    force: bool = False,
    max_files: int | None = None,
    max_bytes: int | None = None,
    timeout_s: float | None = None,
    enqueue_crosscheck: bool = True,
) -> list[RegisterFetch]:
    """Look at the source once (see the module); a row per file looked at, in order. The limits
    default to the settings (REGISTER_FETCH_FILES, _MAX_MB, _TIMEOUT_S).

    `force`: fetch without validators and import even bytes imported before. A listing that
    cannot be read is a FAILED row of its own. Raises FetchBusy when another look is running.
    """
    max_files = settings.REGISTER_FETCH_FILES if max_files is None else max_files
    max_bytes = settings.REGISTER_FETCH_MAX_MB << 20 if max_bytes is None else max_bytes
    timeout_s = settings.REGISTER_FETCH_TIMEOUT_S if timeout_s is None else timeout_s
    with _single_flight(), requests.Session() as session:
        _interrupted_close()
        session.headers["User-Agent"] = USER_AGENT
        timeout = (CONNECT_TIMEOUT_S, timeout_s)
        rows: list[RegisterFetch] = []
        try:
            files = _files(url, session, timeout, force=force)
        except FetchFailed as exc:
            logger.warning("register fetch: %s", exc)
            failed = RegisterFetch.objects.create(
                source_url=url,
                file_url=url,
                outcome=RegisterFetch.Outcome.FAILED,
                error=printable(str(exc)),
                finished_at=timezone.now(),
            )
            return [failed]
        for file_url, listed in files[:max_files]:
            row = _fetch_file(
                source_url=url,
                file_url=file_url,
                listed=listed,
                session=session,
                timeout=timeout,
                force=force,
                max_bytes=max_bytes,
                enqueue_crosscheck=enqueue_crosscheck,
            )
            rows.append(row)
            if row.outcome == RegisterFetch.Outcome.FAILED:
                break
        return rows


@contextmanager
def _single_flight() -> Iterator[None]:
    """One look at a time. On PostgreSQL a session advisory lock, which every process shares
    and which the server frees the moment the holder's connection ends (a worker killed mid-look
    blocks no later look). On SQLite, the embedded single-process default, the cache."""
    if connection.vendor != "postgresql":
        if not cache.add(LOCK_KEY, 1, LOCK_S):
            raise FetchBusy(BUSY)
        try:
            yield
        finally:
            cache.delete(LOCK_KEY)
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", [LOCK_KEY])
        if not cursor.fetchone()[0]:
            raise FetchBusy(BUSY)
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [LOCK_KEY])
        except DatabaseError:  # the connection is gone, and the lock with it
            logger.warning("register fetch: the lock's connection was lost", exc_info=True)


def _interrupted_close() -> None:
    """Looks left RUNNING by a worker that died mid-look (killed, or the machine stopped): with
    this look holding the lock, no other runs, so each of them is over. FAILED, saying so (its
    import, in the dead connection's transaction, was rolled back with it)."""
    stale = RegisterFetch.objects.filter(outcome=RegisterFetch.Outcome.RUNNING)
    closed = stale.update(
        outcome=RegisterFetch.Outcome.FAILED,
        error="interrupted: the look stopped before it finished (the worker died); nothing of "
        "the file was imported",
        finished_at=timezone.now(),
    )
    if closed:
        logger.warning("register fetch: %d interrupted look(s) marked failed", closed)


def _files(
    url: str, session: requests.Session, timeout: tuple[float, float], *, force: bool
) -> list[tuple[str, str]]:
    """The files to look at, each with what the listing says of its version: the URL itself,
    or a CKAN dataset's register files not yet imported or listed otherwise since, oldest
    first."""
    if not urlsplit(url).path.rstrip("/").endswith(CKAN_ACTION):
        return [(url, "")]
    try:
        answer = session.get(url, timeout=timeout)
        answer.raise_for_status()
        resources = answer.json()["result"]["resources"]
        if not isinstance(resources, list):
            raise TypeError("its resources are not a list")
    except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
        raise FetchFailed(f"the dataset listing {url} could not be read: {exc}") from exc
    listed = [
        r
        for r in resources
        if isinstance(r, dict) and isinstance(r.get("url"), str) and _is_register(r)
    ]
    listed.sort(key=lambda r: (str(r.get("created") or ""), str(r["url"])))
    files = [(str(r["url"]), _listed_version(r)) for r in listed]
    if force:
        return files
    settled = _settled_versions([file_url for file_url, _ in files])
    _adopt_listed(files, settled)
    return [(u, version) for u, version in files if _changed(u, version, settled)]


def _listed_version(resource: dict[str, object]) -> str:
    """What the listing says of a resource's file: "last_modified|size|hash" ("" when it says
    nothing of them)."""
    said = [str(resource.get(name) or "").strip() for name in LISTED_FIELDS]
    return "|".join(said)[:255] if any(said) else ""


def _settled_versions(file_urls: list[str]) -> dict[str, tuple[int, str]]:
    """Each imported file's newest look that left it settled (imported, unchanged or not
    modified): its id and what the listing said then. A few rows a file: one per version."""
    imported = RegisterFetch.objects.filter(file_url__in=file_urls, outcome__in=DONE)
    rows = RegisterFetch.objects.filter(
        file_url__in=imported.values("file_url"), outcome__in=SETTLED
    ).order_by("started_at", "id")
    return {
        file_url: (pk, listed)
        for pk, file_url, listed in rows.values_list("pk", "file_url", "listed")
    }


def _adopt_listed(files: list[tuple[str, str]], settled: dict[str, tuple[int, str]]) -> None:
    """Looks from before versions were kept take the listing's version as their own (the file
    was imported, and nothing says it changed since): no look now, and a later change of the
    listing leads to one. Updates `settled` to match."""
    for file_url, version in files:
        last = settled.get(file_url)
        if last is not None and not last[1] and version:
            RegisterFetch.objects.filter(pk=last[0]).update(listed=version)
            settled[file_url] = (last[0], version)


def _changed(file_url: str, version: str, settled: dict[str, tuple[int, str]]) -> bool:
    """Whether to look at a file: never imported, or listed otherwise than at its last settled
    look (a listing that says nothing of versions changes nothing)."""
    if file_url not in settled:
        return True
    return bool(version) and version != settled[file_url][1]


def _is_register(resource: dict[str, object]) -> bool:
    kind = str(resource.get("format") or "").strip().lower()
    path = urlsplit(str(resource["url"])).path.lower()
    return kind in ("csv", "zip") or path.endswith((".csv", ".zip"))


def _fetch_file(
    *,
    source_url: str,
    file_url: str,
    listed: str,
    session: requests.Session,
    timeout: tuple[float, float],
    force: bool,
    max_bytes: int,
    enqueue_crosscheck: bool,
) -> RegisterFetch:
    row = RegisterFetch.objects.create(source_url=source_url, file_url=file_url, listed=listed)
    folder = Path(tempfile.mkdtemp(prefix="register-fetch-"))
    sha256 = ""
    try:
        validators = {} if force else _validators(file_url)
        path, sha256 = _download(row, session, timeout, validators, max_bytes, folder)
        if path is None:
            row.outcome = RegisterFetch.Outcome.NOT_MODIFIED
        elif not force and register_file_imported(sha256=sha256):
            row.outcome = RegisterFetch.Outcome.UNCHANGED
        else:
            row.import_run = register_import(
                path=path, force=force, enqueue_crosscheck=enqueue_crosscheck
            )
            row.outcome = RegisterFetch.Outcome.IMPORTED
    except Exception as exc:  # noqa: BLE001 - any failure is the row's, and stops the look
        logger.warning("register fetch of %s failed: %s", file_url, exc)
        row.outcome = RegisterFetch.Outcome.FAILED
        row.error = printable(str(exc)) if str(exc) else type(exc).__name__
        # An import that failed has its own run, FAILED with the reason (nothing kept).
        row.import_run = _run_of(sha256, since=row.started_at) if sha256 else None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    row.finished_at = timezone.now()
    row.save()
    return row


def _validators(file_url: str) -> dict[str, str]:
    """If-None-Match and If-Modified-Since from the file's last fetch that got it whole."""
    last = (
        RegisterFetch.objects.filter(file_url=file_url, outcome__in=DONE)
        .order_by("-started_at", "-id")
        .first()
    )
    headers: dict[str, str] = {}
    if last is not None and last.etag:
        headers["If-None-Match"] = last.etag
    if last is not None and last.last_modified:
        headers["If-Modified-Since"] = last.last_modified
    return headers


def _download(
    row: RegisterFetch,
    session: requests.Session,
    timeout: tuple[float, float],
    headers: dict[str, str],
    max_bytes: int,
    folder: Path,
) -> tuple[Path | None, str]:
    """The file streamed into `folder` and its sha256; (None, "") for a 304. The answer's
    status and validators go on `row`."""
    with session.get(row.file_url, headers=headers, timeout=timeout, stream=True) as answer:
        row.http_status = answer.status_code
        row.etag = answer.headers.get("ETag", "")[:255]
        row.last_modified = answer.headers.get("Last-Modified", "")[:64]
        if answer.status_code == 304:
            return None, ""
        if answer.status_code != 200:
            raise FetchFailed(f"the server answered HTTP {answer.status_code}")
        if answer.headers.get("Content-Type", "").lower().startswith("text/html"):
            raise FetchFailed("the server answered a web page (text/html), not a register file")
        declared = int(answer.headers.get("Content-Length") or 0)
        if declared > max_bytes:
            raise FetchFailed(
                f"the file is {declared:,} bytes, over the limit of {max_bytes:,} bytes"
            )
        path = folder / _file_name(row.file_url)
        digest = hashlib.sha256()
        with path.open("wb") as out:
            for chunk in answer.iter_content(CHUNK):
                row.bytes += len(chunk)
                if row.bytes > max_bytes:
                    raise FetchFailed(f"the file passed the limit of {max_bytes:,} bytes")
                digest.update(chunk)
                out.write(chunk)
    return path, digest.hexdigest()


def _file_name(file_url: str) -> str:
    """The URL's last path segment, made safe as a file name (the import run shows it)."""
    name = _SAFE_NAME.sub("_", unquote(urlsplit(file_url).path.rsplit("/", 1)[-1])).strip("._")
    return name[:200] or "register.csv"


def _run_of(sha256: str, *, since: object) -> ImportRun | None:
    return (
        ImportRun.objects.filter(file_sha256=sha256, started_at__gte=since).order_by("-id").first()
    )


__all__ = ["FetchBusy", "FetchFailed", "register_fetch"]
