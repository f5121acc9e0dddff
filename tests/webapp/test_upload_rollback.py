"""A photo's file is written before its row commits: when the transaction then fails, the file
must go too, and the partner must hear that nothing was kept."""

from __future__ import annotations

import hashlib
import os
import resource
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from PIL import Image

from tests.fixtures import images
from tests.fixtures.factories import ListingFactory
from tests.webapp.test_api import create_listing, upload
from webapp.listings.models import Listing, Photo
from webapp.listings.partners import partners_group

# How long the deleting session waits for the upload's commit to queue behind its row lock.
LOCK_WAIT_S = 20
# What a "full" disk still takes of one file: well under the photo, over anything else this
# process writes meanwhile.
DISK_LEFT_BYTES = 512 * 1024


def stored_files(settings) -> list[Path]:
    media = Path(settings.MEDIA_ROOT)
    return sorted(p for p in media.rglob("*") if p.is_file()) if media.exists() else []


@pytest.mark.django_db
def test_a_photo_store_failing_midway_keeps_nothing_and_answers_503(client_for, partner, settings):
    # given two valid photos, the folder of the second blocked by a plain file: the disk
    # refuses it after the first photo's file was written
    first, second = images.jpeg(), images.png()
    shard = hashlib.sha256(second).hexdigest()[:2]
    assert shard != hashlib.sha256(first).hexdigest()[:2]
    blocker = Path(settings.MEDIA_ROOT) / "photos" / shard
    blocker.parent.mkdir(parents=True)
    blocker.write_text("not a folder")
    client = client_for(partner)
    client.raise_request_exception = False  # a 5xx is reported as an exception; see the answer
    # when
    response = create_listing(client, first, second)
    # then the partner is told, in the API's error shape, without the server's paths
    assert response.status_code == 503, response.content
    error = response.json()["errors"][0]
    assert error["code"] == "storage_unavailable"
    assert "nothing was kept" in error["detail"]
    assert str(settings.MEDIA_ROOT) not in error["detail"]
    # and neither rows nor the first photo's file are left
    assert not Listing.objects.exists()
    assert not Photo.objects.exists()
    assert stored_files(settings) == [blocker]


def _commit_once_a_session_waits(deleting: psycopg.Connection, watcher: psycopg.Connection):
    """Commits `deleting` as soon as another session of this database waits for a lock (the
    upload's commit, checking its listing), or after LOCK_WAIT_S."""
    deadline = time.monotonic() + LOCK_WAIT_S
    while time.monotonic() < deadline:
        waiting = watcher.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()
        if waiting and waiting[0]:
            break
        time.sleep(0.02)
    deleting.commit()


@contextmanager
def _deleted_in_another_session(listing: Listing) -> Iterator[None]:
    """A moderator deletes `listing` in another session, committed once the block's upload
    checks its listing (it waits for the row the delete took)."""
    db = connection.settings_dict
    params = {
        "dbname": db["NAME"],
        "user": db["USER"],
        "password": db["PASSWORD"],
        "host": db["HOST"],
        "port": db["PORT"],
    }
    with (
        psycopg.connect(**params) as deleting,
        psycopg.connect(**params, autocommit=True) as watcher,
    ):
        deleting.execute("DELETE FROM listings_listing WHERE id = %s", [listing.pk])
        committer = threading.Thread(target=_commit_once_a_session_waits, args=(deleting, watcher))
        committer.start()
        try:
            yield
        finally:
            committer.join()


# Committed for real: the foreign key is checked at the commit.
@pytest.mark.django_db(transaction=True)
def test_photos_for_a_listing_deleted_meanwhile_keep_no_file_and_answer_404(
    client_for, partner, settings
):
    # given a listing that a moderator deletes, in another session, while photos are uploaded
    # (an earlier transactional test's flush may have taken the partners group's permission)
    partners_group().permissions.add(
        Permission.objects.get(content_type__app_label="listings", codename="add_listing")
    )
    listing = ListingFactory(owner=partner)
    # when the upload's commit checks its listing, after the delete took the row
    with _deleted_in_another_session(listing):
        response = client_for(partner).post(
            f"/api/v1/listings/{listing.pk}/photos/",
            {"photos": [upload(images.jpeg())]},
            format="multipart",
        )
    # then
    assert response.status_code == 404, response.content
    error = response.json()["errors"][0]
    assert error["code"] == "listing_deleted"
    assert not Photo.objects.exists()
    assert stored_files(settings) == []


@pytest.mark.django_db(transaction=True)
def test_a_photo_added_in_the_admin_to_a_listing_deleted_meanwhile_is_refused_with_a_reason(
    client, admin_user, settings
):
    # given a listing that a moderator deletes, in another session, while staff add a photo to
    # it in the admin (whose add view runs in a transaction of its own around the upload's)
    listing = ListingFactory()
    client.force_login(admin_user)
    client.raise_request_exception = False  # a 5xx is reported as an exception; see the answer
    # when the upload checks its listing, after the delete took the row
    with _deleted_in_another_session(listing):
        response = client.post(
            "/admin/listings/photo/add/", {"listing": listing.pk, "upload": upload(images.jpeg())}
        )
    # then the form says why, instead of a server error, and neither row nor file is left
    assert response.status_code == 200, response.content[:2000]
    assert b"the listing was deleted while its photos were being stored" in response.content
    assert not Photo.objects.exists()
    assert stored_files(settings) == []


def _noisy_png(side: int) -> bytes:
    """A PNG that does not compress: random pixels, about 3 x side x side bytes."""
    return images.encode(Image.frombytes("RGB", (side, side), os.urandom(3 * side * side)), "PNG")


@contextmanager
def _disk_full_beyond(limit: int) -> Iterator[None]:
    """Writes past `limit` bytes of a file fail (EFBIG) in this process, as on a full disk."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


@pytest.mark.django_db
def test_a_disk_filling_up_midway_through_a_photo_leaves_no_part_of_it(
    client_for, partner, settings
):
    # given a photo larger than what the disk still takes
    photo = _noisy_png(700)
    assert len(photo) > 2 * DISK_LEFT_BYTES
    client = client_for(partner)
    client.raise_request_exception = False
    # when it is uploaded and the write fails midway
    with _disk_full_beyond(DISK_LEFT_BYTES):
        response = create_listing(client, photo)
    # then the partner is told nothing was kept, and nothing was: no row, no partial file
    assert response.status_code == 503, response.content
    assert response.json()["errors"][0]["code"] == "storage_unavailable"
    assert not Photo.objects.exists()
    assert stored_files(settings) == []
