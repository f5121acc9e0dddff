"""`manage.py load_sample`: the demo's register and listings give the review queue its kinds of
flag, a car taken off the register among them."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from registry.models import WatchEntry
from webapp.checks.models import Flag

pytestmark = pytest.mark.django_db

SKODA_VIN = "TMBJJ7NE0J0000007"


@pytest.mark.parametrize(
    "read",
    [
        pytest.param("KA7000BC", id="photos-read-as-the-listings-plate"),
        pytest.param("A123BC77", id="photos-read-as-no-registered-plate"),
    ],
)
def test_the_demo_shows_a_car_taken_off_the_register(
    tmp_path: Path, engine_control: Path, django_capture_on_commit_callbacks, read: str
):
    # given the engine reads every photo so
    (engine_control / "plates").write_text(read)

    # when the demo is loaded and its chain runs (photos read, listings cross-checked)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_sample", "--login-file", str(tmp_path / "login.txt"), stdout=StringIO())

    # then the Skoda of DEMO-009, taken off the register for sale, is flagged once: by its
    # declared VIN (the plate's removal is the same event)
    removals = Flag.objects.filter(
        listing__marketplace_id="DEMO-009",
        kind__in=[Flag.Kind.PLATE_DEREGISTERED, Flag.Kind.VIN_DEREGISTERED],
    )
    assert list(removals.values_list("kind", "key")) == [(Flag.Kind.VIN_DEREGISTERED, SKODA_VIN)]
    assert removals.get().evidence["reason"] == "sale"


def test_the_demo_shows_a_consistent_car_reported_stolen(
    tmp_path: Path, engine_control: Path, django_capture_on_commit_callbacks
):
    # given the engine reads the demo's BMW as its plate
    (engine_control / "plates").write_text("BC7777AX")
    # when the demo is loaded twice (the second run adds no second entry)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            call_command(
                "load_sample", "--login-file", str(tmp_path / "login.txt"), stdout=StringIO()
            )
    # then its listing, consistent with the register, is flagged by the watch list (and, here
    # where every photo of every listing reads the same, as on other listings: nothing else)
    kinds = dict(
        Flag.objects.filter(listing__marketplace_id="DEMO-005").values_list("kind", "severity")
    )
    assert kinds.pop(Flag.Kind.PLATE_WATCHED) == Flag.Severity.HIGH
    assert set(kinds) <= {Flag.Kind.PLATE_ON_OTHER_LISTING}
    assert WatchEntry.objects.count() == 1
