"""What the register tells the apps above it, without knowing them.

``register_imported(run, enqueue_crosscheck)`` is sent inside an import's transaction, after its
rows are written: a receiver that raises fails the whole import (nothing is kept). The
cross-check (``webapp.checks``) listens, to re-check the listings the new records touch; it does
the same for ``watchlist_changed`` (below).
"""

from __future__ import annotations

from django.dispatch import Signal

register_imported = Signal()

watchlist_changed = Signal()
"""``watchlist_changed(plates, vins)``: sent inside the transaction that adds, changes or deletes a
watch-list entry, with the plate keys and VIN keys it covered before and after. The cross-check
listens, to re-check the listings that show or declare them."""
