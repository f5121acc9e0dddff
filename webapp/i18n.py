"""The staff pages' language: negotiated per request; machine-facing paths stay in English."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

from webapp.api.middleware import API_PREFIX

# The partner API and the gate device API answer programs, whose texts must not change with a
# client's Accept-Language (their error codes are stable, their messages stay English too);
# /healthz, /metrics and the media files are read by monitors and nginx.
MACHINE_PATHS = (API_PREFIX, "/healthz", "/metrics", "/media/")


class StaffLocaleMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware (cookie of the language switcher, then Accept-Language, then
    LANGUAGE_CODE) for the pages people read; LANGUAGE_CODE for the paths programs read."""

    def process_request(self, request: HttpRequest) -> None:
        if request.path_info.startswith(MACHINE_PATHS):
            translation.activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = translation.get_language()
            return
        super().process_request(request)

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if request.path_info.startswith(MACHINE_PATHS):
            return response
        return super().process_response(request, response)
