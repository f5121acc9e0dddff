from __future__ import annotations

import os

import pytest
import redis
from django.core.cache import caches
from rest_framework.test import APIClient

from tests.fixtures.factories import UserFactory
from webapp.listings.partners import partners_group
from webapp.partners.models import ALL_SCOPES
from webapp.partners.tokens import token_create

# The API throttles count in Redis in production; the tests use their own database on it.
THROTTLE_REDIS_URL = os.environ.get("TEST_THROTTLE_REDIS_URL", "redis://127.0.0.1:6379/4")


@pytest.fixture(autouse=True)
def _throttle_cache(settings):
    settings.CACHES = {
        **settings.CACHES,
        "api-throttle": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": THROTTLE_REDIS_URL,
        },
    }
    redis.Redis.from_url(THROTTLE_REDIS_URL).flushdb()
    yield
    caches["api-throttle"].clear()


@pytest.fixture(autouse=True)
def _webhooks_on_loopback(settings):
    # The receivers in these tests listen on 127.0.0.1, which production refuses.
    settings.WEBHOOK_ALLOW_PRIVATE = True


@pytest.fixture
def other_partner():
    user = UserFactory(username="other-partner", email="other@example.test")
    user.groups.add(partners_group())
    return user


@pytest.fixture
def token_client():
    """An API client that sends a real partner token with the given scopes."""

    def make(user, scopes=ALL_SCOPES, days: int = 30) -> APIClient:
        client = APIClient()
        issued = token_create(user=user, name="test", scopes=scopes, days=days)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.key}")
        client.token = issued.token  # type: ignore[attr-defined]
        client.key = issued.key  # type: ignore[attr-defined]
        return client

    return make
