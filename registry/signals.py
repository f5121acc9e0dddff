"""What the register tells the apps above it, without knowing them.

``register_imported(run, enqueue_crosscheck)`` is sent inside an import's transaction, after its
rows are written: a receiver that raises fails the whole import (nothing is kept). The
cross-check (``webapp.checks``) listens, to re-check the listings the new records touch.
"""

from __future__ import annotations

from django.dispatch import Signal

register_imported = Signal()
