"""Flag moved from listings to checks without moving a row: a database at the old state
migrates forward and keeps its flags, their permissions and their audit links."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [
    ("listings", "0003_photo_lease"),
    ("review", "0005_plate_search_indexes"),
    ("checks", None),  # the app did not exist yet
]
AFTER = [("listings", "0004_flag_moved_to_checks"), ("checks", "0001_initial")]


def _migrate(targets: list[tuple[str, str | None]]):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


def test_a_database_at_the_old_state_keeps_its_flags() -> None:
    # given a database where Flag still belongs to listings, with a flag and its audit entry
    old = _migrate(BEFORE)
    listing = old.get_model("listings", "Listing").objects.create(marketplace_id="MP-OLD")
    flag = old.get_model("listings", "Flag").objects.create(
        listing=listing, kind="vin_mismatch", severity=3, evidence={"a": 1}, evidence_hash="h"
    )
    old.get_model("review", "AuditEntry").objects.create(
        action="dismiss", flag=flag, flag_ref=flag.pk, listing=listing
    )
    # (an earlier transactional test may have flushed what the data migrations wrote)
    flag_type, _ = old.get_model("contenttypes", "ContentType").objects.get_or_create(
        app_label="listings", model="flag"
    )
    view_flag, _ = old.get_model("auth", "Permission").objects.get_or_create(
        content_type=flag_type, codename="view_flag", defaults={"name": "Can view flag"}
    )
    group, _ = old.get_model("auth", "Group").objects.get_or_create(name="partners")
    group.permissions.add(view_flag)
    # when it migrates forward
    new = _migrate(AFTER)
    # then the same row is a checks.Flag, its audit entry still points at it
    moved = new.get_model("checks", "Flag").objects.get(pk=flag.pk)
    assert (moved.kind, moved.evidence, moved.listing_id) == ("vin_mismatch", {"a": 1}, listing.pk)
    entry = new.get_model("review", "AuditEntry").objects.get(flag_ref=flag.pk)
    assert entry.flag_id == flag.pk
    content_types = new.get_model("contenttypes", "ContentType").objects
    assert not content_types.filter(app_label="listings", model="flag").exists()
    partners = new.get_model("auth", "Group").objects.get(name="partners")
    assert partners.permissions.filter(
        codename="view_flag", content_type__app_label="checks"
    ).exists()
    # (back to the latest state for the tests after this one)
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
