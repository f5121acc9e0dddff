"""The chain from a photo to its flags, wired here and only here.

    photo stored (upload, API, admin, ingest, sample)      webapp.listings.signals.photo_stored
      -> recognition message, upload queue                  recognition.dispatch.photo_send_upload
    backlog (recognize_backlog) and requeue sweeper         recognition.dispatch.photos_send
      -> recognize_photo(s): readings + outbox row, one commit          recognition.tasks
      -> cross-check by name (CROSSCHECK_TASK), swept if lost      recognition.dispatch
      -> facts -> rules -> flags, webhook                   webapp.checks.tasks.crosscheck_listing
    register import (same transaction)                      registry.signals.register_imported
      -> outbox rows for the listings the new records touch  webapp.checks.services
    watch list changed (same transaction)                   registry.signals.watchlist_changed
      -> outbox rows for the listings showing or declaring it  webapp.checks.services
    seller's change (declared, a photo removed)  webapp.listings.signals.listing_changed
      -> the listing's outbox row                            webapp.checks.services

Every entry point (upload, backlog, requeue, import, watch list, an edit) ends in the same two
tasks. The lower apps only announce (signals) or send by name; this module, in the highest app
the chain needs, connects them, so no app imports one above it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from recognition.dispatch import photo_send_upload
from registry.models import ImportRun, WatchEntry
from registry.signals import register_imported, watchlist_changed
from webapp.checks import services

# Imported for its side effect: it registers the cross-check task under CROSSCHECK_TASK in
# every process (web, worker, commands), so an eager or in-process send finds it.
from webapp.checks import tasks as _tasks  # noqa: F401
from webapp.listings.models import Listing, Photo
from webapp.listings.signals import listing_changed, photo_stored


def _photo_stored(sender: Any, *, photo_id: int, **kwargs: Any) -> None:
    photo_send_upload(photo_id=photo_id)


def _register_imported(
    sender: Any, *, run: ImportRun, enqueue_crosscheck: bool, **kwargs: Any
) -> None:
    services.register_import_crosscheck(run=run, enqueue=enqueue_crosscheck)


def _watchlist_changed(
    sender: Any, *, plates: Sequence[str], vins: Sequence[str], **kwargs: Any
) -> None:
    services.watchlist_crosscheck(plates=plates, vins=vins)


def _listing_changed(sender: Any, *, listing_id: int, **kwargs: Any) -> None:
    services.listings_crosscheck_ask(listing_ids=[listing_id])


def connect() -> None:
    """Called once by ``ChecksConfig.ready``; dispatch_uid keeps a second call harmless."""
    photo_stored.connect(_photo_stored, sender=Photo, dispatch_uid="chain-photo-stored")
    register_imported.connect(
        _register_imported, sender=ImportRun, dispatch_uid="chain-register-imported"
    )
    watchlist_changed.connect(
        _watchlist_changed, sender=WatchEntry, dispatch_uid="chain-watchlist-changed"
    )
    listing_changed.connect(_listing_changed, sender=Listing, dispatch_uid="chain-listing-changed")
