"""A database that is down or unreachable, as each kind of client is told: 503, retry shortly.

PostgreSQL restarting, refusing, resetting or not answering within DB_CONNECT_TIMEOUT makes
Django raise OperationalError (InterfaceError on a connection already closed) wherever a request
first needs it. Whichever view that is, the middleware answers `503` with `Retry-After` and the
stable code `database_unavailable`, in the shape its client reads: the API's error body, the
gate's refusal (the Pi keeps the frame and decides from its cached list), or a page. No row of
the request is kept (it failed before its transaction or rolled it back). A file written just
before the database went away is kept when the database cannot say whether its row committed
(`_orphans_delete` in webapp/listings/services.py): the daily orphan sweep (webapp/ops/media.py)
deletes it once no row claims it.

DRF views raise these on to here (webapp.api.errors.ApiExceptionHandler declines them), so this
is the one place they are answered and logged: once per request, as an error with the
database's reason, without a traceback; the outage is the news, not the stack. The next request
connects afresh (CONN_HEALTH_CHECKS drops a dead persistent connection), so nothing needs a
restart once the database is back.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.log import log_response

from webapp.api.errors import error_response
from webapp.api.middleware import API_PREFIX
from webapp.gates.auth import Refusal
from webapp.gates.views import refusal_response

CODE = "database_unavailable"
# A PostgreSQL restart takes seconds: a client that waits this long will usually find it back,
# and one that retries sooner only adds load to the reconnects.
RETRY_AFTER_S = 5
OUTAGE_ERRORS = (OperationalError, InterfaceError)
GATES_NAMESPACE = "gates_api"


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OUTAGE_ERRORS):
            return None
        response = _answer(request)
        response["Retry-After"] = str(RETRY_AFTER_S)
        reason = next(iter(str(exception).splitlines()), "") or type(exception).__name__
        log_response(
            "database unavailable: %s: %s", request.path, reason,
            response=response, request=request, level="error",
        )  # fmt: skip
        return response


def _answer(request: HttpRequest) -> HttpResponse:
    match = getattr(request, "resolver_match", None)
    if match is not None and match.namespace == GATES_NAMESPACE:
        # Not audited as other refusals are: the audit row would need the database too.
        return refusal_response(
            Refusal(503, CODE, "the database is briefly unavailable; send the frame again")
        )
    if request.path.startswith(API_PREFIX):
        return error_response(
            status_code=503,
            code=CODE,
            detail="the database is briefly unavailable; send the request again",
        )
    # Rendered without the request: its context processors would look up the session's user,
    # in the database.
    page = render_to_string("503.html", {"retry_after": RETRY_AFTER_S})
    return HttpResponse(page, status=503)
