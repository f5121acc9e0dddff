"""One error shape for every 4xx: drf-standardized-errors' `{type, errors: [{code, detail, attr}]}`.

DRF's own errors go through the exception handler; the rest (Django's 404 for an unknown URL, a
body over the request bound, the login lockout) are shaped here with the same helper.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.log import log_response
from drf_standardized_errors.handler import ExceptionHandler
from rest_framework import exceptions, status

from webapp.listings.services import PhotosNotStored
from webapp.listings.validation import PhotoRejected
from webapp.storage import RETRY_AFTER_S

# Oversized uploads are 413 and unknown content 415; every other rejection is a plain 400.
_REJECTION_STATUS = {
    "too_large": status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    "unsupported_type": status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
}
# Valid photos that could not be kept: the listing is gone, or try again later.
_NOT_STORED_STATUS = {"listing_deleted": status.HTTP_404_NOT_FOUND}


class ApiError(exceptions.APIException):
    """An API error with a status and a stable code chosen where it is raised; `wait` (seconds)
    is sent as Retry-After."""

    def __init__(
        self,
        *,
        status_code: int,
        code: str,
        detail: str,
        wait: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status_code = status_code
        self.wait = wait
        self.headers = dict(headers or {})
        super().__init__(detail=detail, code=code)


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "the request is too large"
    default_code = "request_too_large"


def photo_rejected(exc: PhotoRejected) -> ApiError:
    return ApiError(
        status_code=_REJECTION_STATUS.get(exc.code, status.HTTP_400_BAD_REQUEST),
        code=exc.code,
        detail=exc.reason,
    )


def photos_not_stored(exc: PhotosNotStored) -> ApiError:
    status_code = _NOT_STORED_STATUS.get(exc.code, status.HTTP_503_SERVICE_UNAVAILABLE)
    return ApiError(
        status_code=status_code,
        code=exc.code,
        detail=exc.reason,
        wait=RETRY_AFTER_S if status_code == status.HTTP_503_SERVICE_UNAVAILABLE else None,
    )


class ApiExceptionHandler(ExceptionHandler):
    def should_not_handle(self, exc: Exception) -> bool:
        # A database outage is answered by webapp.outage's middleware, for every kind of client
        # alike (503 database_unavailable): DRF raises it on to there.
        if isinstance(exc, OperationalError | InterfaceError):
            return True
        return super().should_not_handle(exc)

    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, PhotoRejected):
            return photo_rejected(exc)
        if isinstance(exc, PhotosNotStored):
            return photos_not_stored(exc)
        if isinstance(exc, TooManyFilesSent):
            return PayloadTooLarge(
                f"at most {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files per request",
                code="too_many_files",
            )
        if isinstance(exc, RequestDataTooBig):
            return PayloadTooLarge()
        if isinstance(exc, TooManyFieldsSent):
            return exceptions.ParseError("too many fields in the request", code="too_many_fields")
        return super().convert_known_exceptions(exc)

    def get_headers(self, exc: exceptions.APIException) -> dict:
        return {**super().get_headers(exc), **getattr(exc, "headers", {})}

    def report_exception(self, exc: exceptions.APIException, response: Any) -> None:
        if isinstance(self.exc, PhotosNotStored):
            # Logged as an error once, with the OS's reason, where the store failed: the
            # request is a warning here, not a second error with a traceback, nor a crash
            # for error tracking.
            request = getattr(self.context.get("request"), "_request", None)
            log_response(
                "%s: %s", exc.detail, getattr(request, "path", ""), response=response,
                request=request, level="warning",
            )  # fmt: skip
            return
        super().report_exception(exc, response)


def error_body(
    *, status_code: int, code: str, detail: str, attr: str | None = None
) -> dict[str, Any]:
    kind = "server_error" if status_code >= 500 else "client_error"
    return {"type": kind, "errors": [{"code": code, "detail": detail, "attr": attr}]}


def error_response(*, status_code: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse(
        error_body(status_code=status_code, code=code, detail=detail), status=status_code
    )


def status_code_name(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials=None
) -> HttpResponse:
    """django-axes: too many failed logins from this user name or address (429, Retry-After)."""
    wait = int(settings.AXES_COOLOFF_TIME.total_seconds())
    detail = "too many failed login attempts; try again later"
    if request.path.startswith("/api/"):
        response: HttpResponse = error_response(
            status_code=status.HTTP_429_TOO_MANY_REQUESTS, code="locked_out", detail=detail
        )
    else:
        response = HttpResponse(
            f"{detail}.\n", status=status.HTTP_429_TOO_MANY_REQUESTS, content_type="text/plain"
        )
    response["Retry-After"] = str(wait)
    return response
