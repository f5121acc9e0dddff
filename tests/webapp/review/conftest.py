from __future__ import annotations

import os

import cv2
import numpy as np
import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.test import Client

from tests.fixtures.factories import FlagFactory, ListingFactory, PhotoFactory, ReadingFactory
from webapp.review.models import MODERATORS_GROUP

# Playwright's sync API runs an event loop in the test thread; Django refuses ORM calls from a
# thread with a running loop unless told the test knows what it is doing.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PHOTO_W, PHOTO_H = 640, 480
PLATE_CORNERS = [[200.0, 300.0], [430.0, 290.0], [432.0, 340.0], [202.0, 352.0]]


def car_photo_bytes(text: str = "AA1234BB") -> bytes:
    """A grey 'car' with a white, slightly rotated plate carrying ``text``, as JPEG."""
    image = np.full((PHOTO_H, PHOTO_W, 3), 90, dtype=np.uint8)
    cv2.rectangle(image, (80, 120), (560, 420), (40, 40, 160), -1)
    plate = np.array(PLATE_CORNERS, dtype=np.int32)
    cv2.fillPoly(image, [plate], (250, 250, 250))
    cv2.polylines(image, [plate], isClosed=True, color=(0, 0, 0), thickness=2)
    cv2.putText(image, text, (215, 338), cv2.FONT_HERSHEY_SIMPLEX, 1.1, (10, 10, 10), 3)
    ok, jpeg = cv2.imencode(".jpg", image)
    assert ok
    return jpeg.tobytes()


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    # The queue's counts are cached; a test must not see another test's numbers.
    cache.clear()


@pytest.fixture
def moderator(moderator):
    moderator.groups.add(Group.objects.get_or_create(name=MODERATORS_GROUP)[0])
    return moderator


@pytest.fixture
def second_moderator(django_user_model):
    from tests.fixtures.factories import UserFactory

    user = UserFactory(username="moderator2")
    user.groups.add(Group.objects.get_or_create(name=MODERATORS_GROUP)[0])
    return user


@pytest.fixture
def mod_client(moderator) -> Client:
    client = Client()
    client.force_login(moderator)
    return client


def done_photo(listing, *, plate: str = "AA1234BB"):
    """A recognised photo of `listing`: a drawn car whose plate shows `plate`."""
    content = car_photo_bytes(plate)
    return PhotoFactory(
        listing=listing,
        content=content,
        image=ContentFile(content, name="car.jpg"),
        width=PHOTO_W,
        height=PHOTO_H,
        status="done",
        model_version="test-1",
    )


@pytest.fixture
def flagged_listing():
    """A listing whose photo reads AA1234B8 while the seller declared AA1234BB."""
    listing = ListingFactory(
        declared_plate="AA1234BB", declared_make="Toyota", declared_model="Corolla"
    )
    photo = done_photo(listing)
    reading = ReadingFactory(
        photo=photo,
        plate_text="AA1234B8",
        plate_format="ua",
        confidence=0.81,
        corners=PLATE_CORNERS,
        box=[200.0, 290.0, 432.0, 352.0],
    )
    flag = FlagFactory(
        listing=listing,
        kind="declared_plate_mismatch",
        key="AA1234B8",
        plate_text="AA1234B8",
        plate_format="ua",
        severity=2,
        evidence={"declared": "AA1234BB", "read": "AA1234B8", "model_version": "test-1"},
    )
    return {"listing": listing, "photo": photo, "reading": reading, "flag": flag}
