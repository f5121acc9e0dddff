"""A register import asks for the cross-check of every listing its new records touch."""

from __future__ import annotations

from pathlib import Path

import pytest

from recognition.models import CrosscheckRequest
from registry.services import register_import
from tests.fixtures.factories import ListingFactory, PhotoFactory, ReadingFactory

pytestmark = pytest.mark.django_db


def test_every_listing_whose_plate_or_vin_changed_is_asked_for_a_cross_check(
    samples: Path, django_capture_on_commit_callbacks
):
    read = PhotoFactory()
    ReadingFactory(photo=read, plate_text="AX1312KK")
    declared = ListingFactory(declared_plate="вс 7777 ах")  # typed by a seller
    by_vin = ListingFactory(declared_plate="", declared_vin="jthck262882026114")
    untouched = ListingFactory(declared_plate="ZZ0000ZZ", declared_vin="")
    with django_capture_on_commit_callbacks(execute=True):
        run = register_import(path=samples / "register_2024.csv")
    wanted = {read.listing_id, declared.pk, by_vin.pk}
    assert run.listings_touched == len(wanted)
    requested = set(CrosscheckRequest.objects.values_list("listing_id", flat=True))
    assert requested == wanted
    assert untouched.pk not in requested
    # eager here: sent once committed, and done
    assert all(not r.is_due for r in CrosscheckRequest.objects.all())
    # a second import of the same rows changes no plate, so asks for nothing new
    again = register_import(path=samples / "register_2024.csv", force=True)
    assert again.listings_touched == 0
