"""Partner API: conditional requests on a listing (RFC 9110, section 13), so that a partner's
change never overwrites one it has not seen, and a partner polling a listing, or a page of its
listings, downloads it only when it changed.

A listing's ETag is a digest of its JSON representation, so it changes whenever anything a
partner can read of it changes: what the seller declares, a photo read, a flag raised or decided,
the check's verdict. GET answers 304 to an If-None-Match that holds it. PATCH and DELETE with
If-Match go ahead only while the listing is as the partner read it, and answer 412
`precondition_failed` otherwise. That comparison runs under the listing's row lock, in the
transaction that writes (the `precondition` of the listing services): the declared fields and
the flags change only under that lock, so none of them can change between the comparison and the
write. Without If-Match the last write wins, each kept as an edit all the same.

Django's own `get_conditional_response` evaluates the headers (strong comparison for If-Match,
`*`, lists of tags, weak tags for If-None-Match).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.utils.cache import get_conditional_response, quote_etag
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from webapp.api import selectors
from webapp.api.errors import ApiError
from webapp.api.schema import ErrorResponseSerializer
from webapp.api.serializers import ListingSerializer
from webapp.listings.models import Listing

CONDITIONAL_HEADERS = ("HTTP_IF_MATCH", "HTTP_IF_NONE_MATCH")


class NotModified(Exception):
    """GET with an If-None-Match that holds the listing's current ETag."""


def body_etag(body: object, *, request: Request) -> str:
    """A strong ETag for a JSON body: a digest of its bytes, less the scheme and host that begin
    its links, so that one program reaching the API under two names, or over http behind a
    proxy and https, gets one tag for one body."""
    origin = request.build_absolute_uri("/").rstrip("/").encode()
    digest = hashlib.sha256(JSONRenderer().render(body).replace(origin, b"")).hexdigest()[:32]
    return quote_etag(digest)


def listing_representation(listing: Listing, *, request: Request) -> tuple[dict, str]:
    """The listing as the API shows it, and its ETag."""
    body = ListingSerializer(listing, context={"request": request}).data
    return body, body_etag(body, request=request)


def listing_conditions_check(request: Request, *, etag: str) -> None:
    """Raise NotModified (GET, HEAD) or a 412 ApiError if the request's If-Match or
    If-None-Match does not hold for `etag`, the listing's current one."""
    refused = get_conditional_response(request, etag=etag)
    if refused is None:
        return
    if refused.status_code == status.HTTP_304_NOT_MODIFIED:
        raise NotModified
    raise ApiError(
        status_code=status.HTTP_412_PRECONDITION_FAILED,
        code="precondition_failed",
        detail="the listing is no longer as you read it (If-Match or If-None-Match did not "
        "hold): GET it again, and send its new ETag with your change",
    )


def listing_precondition(request: Request) -> Callable[[Listing], None] | None:
    """For a listing service's `precondition`: the request's conditions checked against the
    listing as it is under the service's row lock; None if the request sends none (then nothing
    is serialised under the lock)."""
    if not any(request.META.get(name) for name in CONDITIONAL_HEADERS):
        return None

    def still_as_read(locked: Listing) -> None:
        listing = selectors.listing_list_visible(user=request.user).get(pk=locked.pk)
        listing_conditions_check(request, etag=listing_representation(listing, request=request)[1])

    return still_as_read


IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="the ETag of the listing as you read it: the change is made only if the "
    "listing is still so (412 otherwise)",
)


def _if_none_match(what: str) -> OpenApiParameter:
    return OpenApiParameter(
        "If-None-Match",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        description=f"ETags you hold: 304 with no body if {what}'s is among them",
    )


def _etag(what: str) -> OpenApiParameter:
    return OpenApiParameter(
        "ETag",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=[200, 304],
        description=f"{what}'s version: it changes whenever anything in the body changes",
    )


IF_NONE_MATCH, ETAG = _if_none_match("the listing"), _etag("the listing")
LIST_IF_NONE_MATCH, LIST_ETAG = _if_none_match("the page"), _etag("the page")
NOT_MODIFIED = OpenApiResponse(description="If-None-Match holds the listing's current ETag")
PAGE_NOT_MODIFIED = OpenApiResponse(description="If-None-Match holds the page's current ETag")
PRECONDITION_FAILED = OpenApiResponse(
    ErrorResponseSerializer,
    description="precondition_failed: the listing changed since the ETag sent in If-Match (or "
    "If-None-Match holds its ETag); nothing was changed. GET it again.",
)
