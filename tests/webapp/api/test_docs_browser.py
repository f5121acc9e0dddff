"""The docs page renders in headless Chromium under the production CSP, with every endpoint."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_docs_page_lists_the_endpoints_without_csp_violations(live_server, page):
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/api/v1/docs/")
    page.wait_for_selector(".opblock-summary-path", timeout=30_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    for path in ("/api/v1/listings/", "/api/v1/recognize/", "/api/v1/webhooks/endpoints/"):
        assert any(path in p for p in paths), paths
    assert not [p for p in problems if "Content Security Policy" in p], problems
