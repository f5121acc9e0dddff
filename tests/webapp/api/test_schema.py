"""The OpenAPI schema and its docs page; schemathesis against the live schema.

Bounded so the whole module stays under about two minutes on two busy cores: a few examples
per operation, no stateful phase.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from tests.fixtures.factories import FlagFactory, ListingFactory, PhotoFactory
from webapp.partners.tokens import token_create

# Everything the target names: no 5xx, and every answer as the schema documents it.
SCHEMA_CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]
EXAMPLES_PER_OPERATION = 15


@pytest.mark.django_db
def test_the_schema_and_docs_are_served(client):
    schema = client.get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in ("/api/v1/listings/", "/api/v1/recognize/", "/api/v1/webhooks/endpoints/",
                 "/api/v1/tokens/rotate/", "/api/v1/photos/{id}/file/"):  # fmt: skip
        assert path in paths
    listing_errors = paths["/api/v1/listings/"]["post"]["responses"]
    assert {"400", "401", "403", "413", "415", "429"} <= set(listing_errors)
    # any operation may find the database down (webapp/outage.py): 503, with Retry-After
    for path, operations in paths.items():
        for method, operation in operations.items():
            outage = operation["responses"].get("503", {})
            assert "database_unavailable" in outage.get("description", ""), (path, method)
            assert "Retry-After" in outage["headers"], (path, method)
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


@pytest.fixture
def live_schema(db, settings_fixture_rates):
    # Django's WSGI handler closes the database connection after each request; the test's
    # transaction lives on that connection, so keep it open as Django's own test client does.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application())
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def settings_fixture_rates(settings, engine_control):
    # Throttles are tested elsewhere; here they would only end the run early.
    settings.API_THROTTLE_RATES = {"token": "100000/min", "recognize": "100000/min"}
    settings.AXES_ENABLED = False


@pytest.fixture
def partner_key(db, partner):
    listing = ListingFactory(owner=partner)
    PhotoFactory(listing=listing)
    FlagFactory(listing=listing)
    return token_create(user=partner, name="schemathesis").key


def test_every_operation_conforms_to_its_schema(live_schema, partner_key):
    # Each operation in turn (schemathesis' pytest plugin does not run on pytest 9 yet).
    headers = {"Authorization": f"Bearer {partner_key}"}
    failures, tested = [], []
    for result in live_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case) -> None:
            case.call_and_validate(headers=headers, checks=SCHEMA_CHECKS)

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.label}: {exc}")
        tested.append(operation.label)
    assert len(tested) >= 15, tested
    assert not failures, "\n\n".join(failures)
