from __future__ import annotations

import json
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from webapp.api.errors import error_body, error_response, status_code_name

API_PREFIX = "/api/"


class ApiRequestMiddleware:
    """For the API: refuse a body over API_MAX_REQUEST_BYTES before reading it, and give the
    4xx answers Django makes itself (unknown URL, bad host, CSRF) the API's one error shape."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.API_MAX_REQUEST_BYTES:
            response = error_response(
                status_code=413,
                code="request_too_large",
                detail=f"the request body is larger than {settings.API_MAX_REQUEST_BYTES} bytes",
            )
            # The client may still be sending; do not keep the connection for the rest.
            response["Connection"] = "close"
            return response
        response = self.get_response(request)
        if 400 <= response.status_code < 500 and "json" not in response.get("Content-Type", ""):
            response.content = json.dumps(
                error_body(
                    status_code=response.status_code,
                    code=status_code_name(response.status_code),
                    detail=response.reason_phrase,
                )
            ).encode()
            response["Content-Type"] = "application/json"
            if response.has_header("Content-Length"):
                # CommonMiddleware, inside this one, measured Django's HTML page: a length that
                # disagrees with the body leaves the client waiting for bytes that never come.
                response["Content-Length"] = str(len(response.content))
        return response
