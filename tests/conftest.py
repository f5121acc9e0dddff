from __future__ import annotations

import os
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from tests.fixtures.factories import UserFactory
from webapp.listings.partners import partners_group

pytest_plugins = [
    "tests.fixtures.worker",
    "tests.fixtures.browser",
    "tests.fixtures.disk",
    "tests.fixtures.db_proxy",
    "tests.fixtures.netns",
]


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings

    # Several test runs may share one PostgreSQL server (developers, CI, parallel sessions):
    # give each run its own test database unless TEST_DATABASE_NAME pins one (for --reuse-db).
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("postgresql"):
        name = os.environ.get("TEST_DATABASE_NAME") or f"test_{database['NAME']}_{os.getpid()}"
        database.setdefault("TEST", {})["NAME"] = name


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path: Path) -> None:
    # Each test writes uploads into its own folder, never into the demo's var/media.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def reader_unsure_below(settings, tmp_path: Path) -> float:
    """Pages mark a character under the reader's fitted bar (its manifest's `unsure_below`):
    pinned here to 0.6, whatever the shipped reader's fit chose."""
    folder = tmp_path / "models" / "ocr"
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text('{"file": "platereader.pth", "unsure_below": 0.6}')
    settings.PLATECHECK_MODELS_DIR = str(tmp_path / "models")
    return 0.6


@pytest.fixture
def moderator():
    return UserFactory(username="moderator", is_staff=True)


@pytest.fixture
def partner():
    user = UserFactory(username="partner")
    user.groups.add(partners_group())
    return user


@pytest.fixture
def outsider():
    return UserFactory(username="outsider")


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for():
    def make(user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user=user)
        return client

    return make
