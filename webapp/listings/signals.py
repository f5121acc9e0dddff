"""What the listings app tells the apps above it, without knowing them.

``photo_stored(photo_id)`` is sent once the transaction that stored a photo (or asked for it to
be read again) commits. Recognition is connected to it by ``webapp.checks.chain``; with nothing
connected the photo simply waits, and the requeue sweeper sends it.

``listing_changed(listing_id)`` is sent inside the transaction in which the seller changed the
listing (what it declares, or a photo removed); the cross-check is asked for again in that
transaction (``webapp.checks.chain``).
"""

from __future__ import annotations

from django.dispatch import Signal

photo_stored = Signal()
listing_changed = Signal()
