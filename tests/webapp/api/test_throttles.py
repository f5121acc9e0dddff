"""Throttles: per token on Redis (429 + Retry-After); django-axes on the token endpoint and the
login page: the 31st wrong password within a minute is 429 and no password is hashed for it."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from rest_framework.test import APIClient

from tests.fixtures import images
from tests.fixtures.factories import UserFactory

pytestmark = pytest.mark.django_db


class CountingHasher(MD5PasswordHasher):
    """A real hasher that counts how often a password is checked."""

    algorithm = "counting_md5"
    checks = 0

    def verify(self, password: str, encoded: str) -> bool:
        CountingHasher.checks += 1
        return super().verify(password, encoded)


@pytest.fixture
def counted_user(settings):
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    CountingHasher.checks = 0
    return UserFactory(username="victim")


def test_tokens_are_throttled_each_on_its_own(token_client, partner, other_partner, settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "token": "5/min"}
    first, second = token_client(partner), token_client(other_partner)
    statuses = [first.get("/api/v1/listings/").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    assert second.get("/api/v1/listings/").status_code == 200


def test_the_snapshot_endpoint_has_its_own_lower_rate(token_client, partner, settings):
    settings.API_THROTTLE_RATES = {"token": "100/min", "recognize": "2/min"}
    client = token_client(partner)

    def recognise():
        from django.core.files.uploadedfile import SimpleUploadedFile

        upload = SimpleUploadedFile("a.jpg", images.jpeg(), content_type="image/jpeg")
        return client.post("/api/v1/recognize/", {"upload": upload}, format="multipart")

    assert [recognise().status_code for _ in range(3)] == [200, 200, 429]
    assert client.get("/api/v1/listings/").status_code == 200


def test_the_31st_wrong_password_on_the_token_endpoint_is_429_without_hashing(counted_user):
    client = APIClient()
    wrong = {"username": "victim", "password": "guess"}
    statuses = [client.post("/api/v1/token/", wrong).status_code for _ in range(30)]
    assert statuses[:29] == [400] * 29
    assert CountingHasher.checks == 30
    started = time.perf_counter()
    response = client.post("/api/v1/token/", wrong)
    elapsed = time.perf_counter() - started
    assert response.status_code == 429
    assert response.json()["errors"][0]["code"] == "locked_out"
    assert int(response["Retry-After"]) > 0
    assert CountingHasher.checks == 30  # the locked request never reached a hasher
    assert elapsed < 0.5
    # the right password is refused too while locked: guessing gains nothing
    right = {"username": "victim", "password": "correct-horse-battery"}
    assert client.post("/api/v1/token/", right).status_code == 429


def test_the_lock_is_per_address_too(counted_user):
    client = APIClient()
    for n in range(30):
        client.post("/api/v1/token/", {"username": f"nobody{n}", "password": "x"})
    assert client.post("/api/v1/token/", {"username": "victim", "password": "x"}).status_code == 429
    elsewhere = APIClient(REMOTE_ADDR="10.1.2.3")
    right = {"username": "victim", "password": "correct-horse-battery"}
    assert elsewhere.post("/api/v1/token/", right).status_code == 201


def test_the_login_page_locks_after_30_failures(client, counted_user):
    for _ in range(30):
        client.post("/accounts/login/", {"username": "victim", "password": "guess"})
    checks = CountingHasher.checks
    response = client.post("/accounts/login/", {"username": "victim", "password": "guess"})
    assert response.status_code == 429
    assert CountingHasher.checks == checks
