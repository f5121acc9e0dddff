"""Backups: pg_dump of one snapshot and the media store, proven by a real restore (PostgreSQL)."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from prometheus_client.parser import text_string_to_metric_families

from tests.fixtures.factories import ListingFactory, PhotoFactory
from webapp.listings.models import Listing, Photo
from webapp.ops.backup import MANIFEST, BackupFailed, backup_create, backups_in
from webapp.ops.backup_verify import backup_verify
from webapp.ops.models import Backup

# pg_dump's connection sees only committed rows, as in production: no test transaction around.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def root(tmp_path) -> Path:
    return tmp_path / "backups"


def _photos(n: int) -> list[Photo]:
    listing = ListingFactory()
    return [PhotoFactory(listing=listing) for _ in range(n)]


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_a_backup_restores_every_tables_rows_and_holds_every_media_file(media, root):
    # given: listings with photos, their files in the media store
    _photos(3)
    # when
    row = backup_create(root=root, keep=7)
    # then: one complete folder, its manifest counting the rows as they are
    (folder,) = backups_in(root)
    assert row.ok
    assert Path(row.folder) == folder
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["row_counts"]["listings_photo"] == Photo.objects.count() == 3
    assert manifest["row_counts"]["listings_listing"] == Listing.objects.count()
    assert "gates.0002_site_visits" in manifest["migrations"]
    assert _files(folder / "media") == _files(media)
    assert manifest["media_files"] == 3
    # and: restored into a scratch database, every table has the rows dumped
    verified = backup_verify(folder)
    assert verified.problems == []
    assert verified.tables == len(manifest["row_counts"])
    assert verified.rows == sum(manifest["row_counts"].values())
    row.refresh_from_db()
    assert row.verify_ok is True


def test_the_next_backup_links_unchanged_files_and_copies_new_ones(media, root):
    # given: a backup of two photos
    first_photos = _photos(2)
    backup_create(root=root, keep=7)
    # when: a photo more, and a second backup
    _photos(1)
    row = backup_create(root=root, keep=7)
    # then: the two old files are the first backup's (one inode), the new one a copy
    first, second = backups_in(root)
    for photo in first_photos:
        name = Path("media") / photo.image.name
        assert (first / name).stat().st_ino == (second / name).stat().st_ino
    assert (row.media_files, row.media_linked) == (3, 2)
    assert _files(second / "media") == _files(media)
    assert backup_verify(second).ok


def test_only_the_newest_backups_are_kept(media, root):
    _photos(1)
    made = [Path(backup_create(root=root, keep=2).folder) for _ in range(3)]
    assert backups_in(root) == made[1:]


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
def test_a_backup_the_database_refuses_leaves_no_folder_and_says_why(media, root, settings):
    # given: the backup's own connection is refused (a password changed under it)
    _photos(1)
    wrong = {**settings.DATABASES["default"], "PASSWORD": "not-it"}
    settings.DATABASES = {**settings.DATABASES, "default": wrong}  # restored after the test
    # when
    with pytest.raises(BackupFailed, match="password"):
        backup_create(root=root, keep=7)
    # then: nothing that looks like a backup, nor a part of one; the row says why
    assert backups_in(root) == []
    assert [path.name for path in root.iterdir()] == [".lock"]
    failed = Backup.objects.get()
    assert failed.ok is False
    assert "password" in failed.error
    assert failed.finished_at is not None


def test_a_second_backup_at_once_is_refused(media, root):
    root.mkdir()
    with (root / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a backup running elsewhere
        with pytest.raises(BackupFailed, match="another backup is running"):
            backup_create(root=root, keep=7)
    assert backups_in(root) == []
    assert not Backup.objects.exists()


def test_verify_finds_a_damaged_dump_a_lost_file_rows_that_do_not_restore(media, root):
    # given: a good backup
    _photos(2)
    folder = Path(backup_create(root=root, keep=7).folder)
    # when: its manifest says a table held a row more than the dump restores
    manifest_path = folder / MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest["row_counts"]["listings_photo"] += 1
    manifest_path.write_text(json.dumps(manifest))
    # then
    assert backup_verify(folder).problems == ["table listings_photo: 2 rows restored, 3 dumped"]
    # when: a media file is lost and a byte of the dump changes
    os.remove(next((folder / "media").rglob("*.jpg")))
    dump = folder / "db.dump"
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    # then
    problems = backup_verify(folder).problems
    assert "db.dump is not the file the backup wrote (sha256 differs)" in problems
    assert any(p.startswith("media: 1 files") for p in problems)
    assert Backup.objects.get().verify_ok is False


def test_the_commands_back_up_verify_and_fail_loudly(media, root, capsys):
    _photos(1)
    call_command("backup", "--dir", str(root), "--keep", "3", "--verify")
    out = capsys.readouterr().out
    assert "1 media files" in out
    assert "restored" in out
    (folder,) = backups_in(root)
    (folder / MANIFEST).unlink()
    with pytest.raises(CommandError, match="no complete backup"):
        call_command("backup_verify", "--dir", str(root))
    with pytest.raises(CommandError, match="not a complete backup"):
        call_command("backup_verify", str(folder))


def test_metrics_tell_the_last_good_backup_and_the_failures(client, moderator, media, root,
                                                            settings):  # fmt: skip
    settings.METRICS_ALLOWED_ADDRESSES = []
    row = backup_create(root=root, keep=7)
    backup_verify(Path(row.folder))
    Backup.objects.create(folder="x", ok=False, finished_at=row.finished_at, error="disk full")
    client.force_login(moderator)
    samples = {
        (sample.name, sample.labels.get("stage")): sample.value
        for family in text_string_to_metric_families(client.get("/metrics").content.decode())
        for sample in family.samples
        if sample.name.startswith("platecheck_backup")
    }
    assert samples[("platecheck_backup_last_success_timestamp_seconds", None)] == pytest.approx(
        row.finished_at.timestamp()
    )
    assert ("platecheck_backup_last_verified_timestamp_seconds", None) in samples
    assert samples[("platecheck_backup_failures_total", "failed")] == 1.0
    assert samples[("platecheck_backup_failures_total", "verify")] == 0.0


def test_the_daily_task_backs_up_into_backup_dir_and_verifies(media, root, settings):
    from webapp.ops import tasks

    _photos(1)
    settings.BACKUP_DIR, settings.BACKUP_KEEP, settings.BACKUP_VERIFY = root, 2, True
    assert tasks.backup() is True
    assert Backup.objects.get().verify_ok is True
    settings.BACKUP_DIR = None  # scheduled backups off
    assert tasks.backup() is False
    assert Backup.objects.count() == 1


def test_the_beat_schedule_backs_up_daily_before_the_retention_purge(settings):
    from celery.schedules import crontab

    from webapp.celery import app
    from webapp.ops.tasks import BACKUP_TASK

    entry = settings.CELERY_BEAT_SCHEDULE["backup"]
    assert entry["task"] == BACKUP_TASK
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks
    assert entry["schedule"] == crontab(hour=3, minute=15)
    assert settings.CELERY_BEAT_SCHEDULE["purge-expired"]["schedule"] == crontab(hour=4, minute=0)
