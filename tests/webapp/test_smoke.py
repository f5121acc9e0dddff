from __future__ import annotations

import pytest

from tests.fixtures.factories import FlagFactory, PhotoFactory, ReadingFactory


@pytest.mark.django_db
def test_it_creates_core_rows_with_factories():
    reading = ReadingFactory()
    flag = FlagFactory(listing=reading.photo.listing)
    assert reading.photo.image.name.startswith("photos/")
    assert flag.listing.photos.count() == 1
    assert PhotoFactory().sha256 != reading.photo.sha256


@pytest.mark.django_db
def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}
