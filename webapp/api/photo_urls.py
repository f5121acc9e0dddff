"""Partner API: photos given by URL (`upload_url`, `photo_urls`), fetched by the server.

A marketplace holds its photos on its own CDN: it may send their URLs instead of their bytes.
Each is fetched the way a webhook is sent (webapp/partners/transport.py): https to public
addresses only, the address checked again as each connection is made (DNS rebinding), unless
PHOTO_URL_ALLOW_PRIVATE (tests, demos); each redirect, at most MAX_REDIRECTS, checked as a URL
of its own; the whole download within PHOTO_URL_TIMEOUT_S and PHOTO_MAX_BYTES. A request's URLs
are fetched at once, so a request waits for its slowest URL only, and a partner has at most
PHOTO_URL_REQUESTS_AT_ONCE requests fetching (`fetch_slot`).

A URL no photo came from is its request's 400, on the field that named it (`upload_url`,
`photo_urls.2`), with a stable code; nothing of the request is kept. What was fetched is then
checked as an upload is (an unknown format is 415 `unsupported_type`, and so on).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import PurePosixPath
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from django.core.cache import caches
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework import serializers, status
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.request import Request

from webapp.api.errors import ApiError
from webapp.partners.transport import (
    AttemptDeadline,
    EndpointRefused,
    outbound_session,
    public_url_check,
)

MAX_REDIRECTS = 3
CHUNK_BYTES = 64 * 1024
MAX_URL_LENGTH = 2000
# A slot count expires this long after it was first taken: longer than any fetch (the deadline
# covers every redirect), so a slot of a process killed mid-fetch is freed within it.
SLOT_TTL_S = 120


def url_field(**kwargs: object) -> serializers.URLField:
    return serializers.URLField(max_length=MAX_URL_LENGTH, **kwargs)  # type: ignore[arg-type]


def photo_urls_field() -> serializers.ListField:
    return serializers.ListField(
        child=url_field(), required=False, write_only=True,
        help_text="https URLs of JPEG, PNG or WebP photos, fetched by the server "
        f"(at most {MAX_REDIRECTS} redirects; PHOTO_URL_TIMEOUT_S, PHOTO_MAX_BYTES)",
    )  # fmt: skip


def photo_urls_of(request: Request) -> list[str]:
    """The request's `photo_urls`, each checked as a URL (a 400 on `photo_urls.N` if not)."""
    values = request.data.getlist("photo_urls") if hasattr(request.data, "getlist") else []
    return list(photo_urls_field().run_validation(values)) if values else []


class FetchFailed(Exception):
    """No photo came from the URL; `code` is stable, the message is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def photo_download(url: str) -> SimpleUploadedFile:
    """The body at `url`, as an upload; FetchFailed when there is none to read."""
    allow_private = bool(settings.PHOTO_URL_ALLOW_PRIVATE)
    limit = int(settings.PHOTO_MAX_BYTES)
    timeout = float(settings.PHOTO_URL_TIMEOUT_S)
    deadline = AttemptDeadline(timeout)
    try:
        with deadline, outbound_session(public_only=not allow_private) as session:
            for _hop in range(MAX_REDIRECTS + 1):
                public_url_check(url=url, allow_private=allow_private, noun="photo URLs")
                with session.get(
                    url,
                    headers={"Accept": "image/jpeg, image/png, image/webp"},
                    timeout=timeout,
                    allow_redirects=False,
                    stream=True,
                ) as response:
                    if response.is_redirect:
                        url = urljoin(url, response.headers["Location"])
                        continue
                    data = _body(response, limit=limit)
                    if deadline.expired:  # cut off mid-body: what came may look whole
                        raise FetchFailed("fetch_timeout", f"no photo within {timeout:g} s")
                    return SimpleUploadedFile(
                        _name(url), data, response.headers.get("Content-Type", "")
                    )
            raise FetchFailed("too_many_redirects", f"more than {MAX_REDIRECTS} redirects")
    except EndpointRefused as exc:
        raise FetchFailed(exc.code, str(exc)) from exc
    except requests.Timeout as exc:
        raise FetchFailed("fetch_timeout", f"no photo within {timeout:g} s") from exc
    except requests.RequestException as exc:
        if deadline.expired:
            raise FetchFailed("fetch_timeout", f"no photo within {timeout:g} s") from exc
        raise FetchFailed("fetch_failed", "the photo's server could not be reached") from exc


def _body(response: requests.Response, *, limit: int) -> bytes:
    if response.status_code != 200:
        raise FetchFailed("fetch_failed", f"the photo's server answered {response.status_code}")
    too_large = FetchFailed("too_large", f"the photo is larger than {limit} bytes")
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    data = bytearray()
    for chunk in response.iter_content(CHUNK_BYTES):
        data += chunk
        if len(data) > limit:  # the body, decoded: a compressed bomb stops here too
            raise too_large
    return bytes(data)


@contextmanager
def fetch_slot(owner_id: int) -> Iterator[None]:
    """Hold one of the partner's PHOTO_URL_REQUESTS_AT_ONCE slots while its URLs are fetched,
    or refuse the request: 429 `too_many_fetches`.

    A web worker waits on the partner's servers while it fetches, so without a bound one
    partner with a slow CDN could hold every worker. The slots are counted in the throttles'
    shared cache (Redis in production), so every web process agrees. The count lives
    SLOT_TTL_S at most: a process killed mid-fetch frees its slot within that time.
    """
    limit = int(settings.PHOTO_URL_REQUESTS_AT_ONCE)
    if limit <= 0:
        yield
        return
    cache = caches["api-throttle"]
    key = f"photo-url-fetches:{int(owner_id)}"
    cache.add(key, 0, timeout=SLOT_TTL_S)
    try:
        held = cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.add(key, 1, timeout=SLOT_TTL_S)
        held = 1
    try:
        if held > limit:
            raise ApiError(
                status_code=status.HTTP_429_TOO_MANY_REQUESTS,
                code="too_many_fetches",
                detail=f"at most {limit} requests with photo URLs at once per account; "
                "send this one when one of them has answered",
                wait=int(settings.PHOTO_URL_TIMEOUT_S),
            )
        yield
    finally:
        try:
            cache.decr(key)
        except ValueError:
            pass  # expired meanwhile: nothing left to free


def _name(url: str) -> str:
    return PurePosixPath(urlsplit(url).path).name[:100] or "photo"


def photos_download(
    urls: list[str], *, field: str, owner_id: int, many: bool = True
) -> list[SimpleUploadedFile]:
    """Every URL's photo, fetched at once; a 400 naming the first URL that gave none
    (`field.N` of a list, `field` of one URL when not `many`). One of the partner's
    `PHOTO_URL_REQUESTS_AT_ONCE` slots is held meanwhile (`fetch_slot`)."""
    if not urls:
        return []
    with (
        fetch_slot(owner_id),
        ThreadPoolExecutor(max_workers=len(urls), thread_name_prefix="photo-url") as pool,
    ):
        futures = [pool.submit(photo_download, url) for url in urls]
    photos = []
    for index, future in enumerate(futures):
        try:
            photos.append(future.result())
        except FetchFailed as exc:
            detail = [ErrorDetail(str(exc), code=exc.code)]
            raise ValidationError({field: {index: detail} if many else detail}) from exc
    return photos


__all__ = [
    "MAX_REDIRECTS",
    "FetchFailed",
    "fetch_slot",
    "photo_download",
    "photo_urls_field",
    "photo_urls_of",
    "photos_download",
    "url_field",
]
