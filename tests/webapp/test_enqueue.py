from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.utils import timezone

from recognition.selectors import photo_ids_stale
from tests.fixtures import images
from tests.fixtures.worker import drop_broker_connections
from webapp.celery import app as celery_app
from webapp.listings.models import Photo
from webapp.listings.services import listing_create


@pytest.fixture
def dead_broker():
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    celery_app.conf.update(broker_url="redis://127.0.0.1:1/0", task_always_eager=False)
    drop_broker_connections()
    yield
    celery_app.conf.update(**saved)
    drop_broker_connections()


@pytest.mark.django_db(transaction=True)
def test_an_upload_is_kept_when_the_broker_is_down_and_swept_up_later(dead_broker, caplog):
    # given a broker nobody listens on (dead_broker)
    # when a photo is uploaded
    _, added = listing_create(
        marketplace_id="MP-DOWN", owner=None, photos=[io.BytesIO(images.jpeg())]
    )
    # then the photo is stored, pending, the failure is logged, and the sweep will resend it
    photo = Photo.objects.get(pk=added[0].photo.pk)
    assert photo.status == Photo.Status.PENDING
    assert photo.queued_at is None  # the mark is undone: nothing is on its way
    assert "in on_commit()" in caplog.text
    later = timezone.now() + timedelta(hours=1)
    assert photo_ids_stale(older_than=later) == [photo.pk]
