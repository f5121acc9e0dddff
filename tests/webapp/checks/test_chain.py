"""The chain's links that are sent by name or by signal are really connected."""

from __future__ import annotations

from registry.signals import register_imported
from webapp.celery import app
from webapp.listings.signals import photo_stored


def test_every_task_sent_by_name_is_a_registered_task() -> None:
    from recognition.dispatch import CROSSCHECK_TASK, RECOGNIZE_PHOTO_TASK, RECOGNIZE_PHOTOS_TASK
    from webapp.partners.webhooks import DELIVER_TASK

    names = (CROSSCHECK_TASK, RECOGNIZE_PHOTO_TASK, RECOGNIZE_PHOTOS_TASK, DELIVER_TASK)
    assert [name for name in names if name not in app.tasks] == []
    assert app.tasks[CROSSCHECK_TASK].__module__ == "webapp.checks.tasks"


def test_the_lower_apps_announcements_have_their_receivers() -> None:
    from registry.models import ImportRun
    from webapp.listings.models import Photo

    assert photo_stored.has_listeners(Photo)
    assert register_imported.has_listeners(ImportRun)
