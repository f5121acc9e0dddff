"""Uploads never wait behind the nightly backlog: a worker takes the upload queue first."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from recognition import dispatch
from tests.fixtures import images
from tests.fixtures.factories import PhotoFactory
from tests.fixtures.worker import Worker, wait_for
from webapp.listings.models import Photo
from webapp.listings.services import listing_create

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_an_upload_is_read_before_the_backlog_queued_ahead_of_it(
    celery_worker: Worker, engine_control: Path, settings
):
    settings.RECOGNITION_BATCH = 2
    (engine_control / "mode").write_text("block")
    backlog = PhotoFactory.create_batch(8, status=Photo.Status.DONE, model_version="double-0")
    dispatch.backlog_enqueue(engine_version="double-1")  # 4 messages; the worker blocks on one
    wait_for((engine_control / "started").exists, timeout=60, what="the first backlog batch")
    _, added = listing_create(marketplace_id="MP-Q", owner=None, photos=[io.BytesIO(images.jpeg())])
    upload = added[0].photo
    (engine_control / "release").touch()

    def all_done() -> bool:
        ids = [p.pk for p in backlog] + [upload.pk]
        return Photo.objects.filter(pk__in=ids, status=Photo.Status.DONE).count() == len(ids)

    wait_for(all_done, timeout=90, what="every photo to be read")
    order = list(Photo.objects.order_by("processed_at", "pk").values_list("pk", flat=True))
    first_batch = 2  # the batch the worker was already reading
    assert order.index(upload.pk) == first_batch  # next, ahead of 3 queued backlog batches
