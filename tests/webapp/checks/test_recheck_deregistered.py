"""`manage.py crosscheck_listings --deregistered`: listings checked before the removal rules
existed are asked again, through the outbox, for their cross-check."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from recognition.models import CrosscheckRequest
from registry.services import register_import
from tests.fixtures.factories import ListingFactory, PhotoFactory, ReadingFactory
from webapp.checks.models import Flag
from webapp.checks.selectors import listings_deregistered
from webapp.checks.services import listing_crosscheck

pytestmark = pytest.mark.django_db

CAMRY_VIN = "JTNB11HK0J3000001"
LEXUS_VIN = "JTHCK262882026114"


def _removals(samples: Path, folder: Path) -> Path:
    """The Camry (АА1234ВВ) exported; the Lexus (АХ1312КК) taken off for sale and registered to
    its buyer the same day, the removal's row last: on the register again."""
    lines = (samples / "register_2024.csv").read_text(encoding="utf-8").splitlines()
    header, camry, lexus = lines[0], lines[1].split(";"), lines[4].split(";")
    exported = [*camry[:2], '"520"', '"ЗНЯТТЯ З ОБЛІКУ ПРИ ВИВЕЗЕННІ ЗА КОРДОН"', "02.05.24"]
    sold = [*lexus[:2], '"530"', '"ЗНЯТТЯ З ОБЛІКУ ДЛЯ РЕАЛІЗАЦІЇ"', "01.03.24"]
    bought = [*lexus[:2], '"315"', '"ПЕРЕРЕЄСТРАЦІЯ НА НОВОГО ВЛАСНИКА"', "01.03.24"]
    rows = [exported + camry[5:], bought + lexus[5:], sold + lexus[5:]]
    path = folder / "removals.csv"
    path.write_text("\n".join([header, *(";".join(r) for r in rows)]) + "\n", encoding="utf-8")
    return path


def _read(plate: str, **declared: object):
    listing = ListingFactory(**declared)
    ReadingFactory(photo=PhotoFactory(listing=listing), plate_text=plate, confidence=0.95)
    return listing


@pytest.fixture
def checked_before_the_removals(samples: Path, tmp_path: Path) -> dict[str, object]:
    """Listings cross-checked against the register before its removals were imported (an
    import that, like those before the rules existed, asked for no cross-check)."""
    register_import(path=samples / "register_2016.csv", enqueue_crosscheck=False)
    register_import(path=samples / "register_2024.csv", enqueue_crosscheck=False)
    listings = {
        "read": _read("AA1234BB", declared_make="Honda", declared_model="Accord"),
        "declared": ListingFactory(declared_plate="аа 1234 вв", declared_make="Honda"),
        "vin": ListingFactory(declared_vin=CAMRY_VIN.lower(), declared_model="Camry"),
        "registered_again": _read(
            "AX1312KK", declared_make="Lexus", declared_model="IS250", declared_vin=LEXUS_VIN
        ),
        "current": ListingFactory(declared_plate="ВС7777АХ", declared_make="BMW"),
        "unknown": ListingFactory(declared_plate="ZZ0000ZZ"),
    }
    for listing in listings.values():
        listing_crosscheck(listing_id=listing.pk)
    register_import(path=_removals(samples, tmp_path), enqueue_crosscheck=False)
    return listings


def _kinds(listing) -> set[str]:
    return set(Flag.objects.filter(listing=listing).values_list("kind", flat=True))


def test_listings_whose_plate_or_vin_is_off_the_register_are_checked_again(
    checked_before_the_removals, django_capture_on_commit_callbacks, capsys
) -> None:
    listings = checked_before_the_removals
    # given flags of the car the plate has left since
    assert _kinds(listings["read"]) == {"make_mismatch"}
    assert _kinds(listings["declared"]) == {"make_mismatch", "plate_on_other_listing"}
    stdout = io.StringIO()
    # when the engineer asks for the listings with a deregistered plate or VIN
    with django_capture_on_commit_callbacks(execute=True):
        call_command("crosscheck_listings", "--deregistered", stdout=stdout)
    # then exactly those are asked for, through the outbox, and checked (eager here)
    wanted = {listings[name].pk for name in ("read", "declared", "vin")}
    requested = set(CrosscheckRequest.objects.values_list("listing_id", flat=True))
    assert requested == wanted
    assert all(not r.is_due for r in CrosscheckRequest.objects.all())
    assert _kinds(listings["read"]) == {"plate_deregistered"}
    # (the plate is on the first listing's photos too)
    assert _kinds(listings["declared"]) == {"plate_deregistered", "plate_on_other_listing"}
    assert _kinds(listings["vin"]) == {"vin_deregistered"}
    # with its progress, and what it did
    assert "6/6" in capsys.readouterr().err
    summary = stdout.getvalue()
    assert "6 listings scanned" in summary
    assert "3 with a deregistered plate or VIN asked for a cross-check" in summary


def test_the_listings_are_read_a_batch_at_a_time(checked_before_the_removals) -> None:
    listings = checked_before_the_removals
    batches = list(listings_deregistered(batch=4))
    assert [b.scanned for b in batches] == [4, 2]
    found = {pk for b in batches for pk in b.listing_ids}
    assert found == {listings[name].pk for name in ("read", "declared", "vin")}


def test_a_dry_run_counts_and_asks_for_nothing(checked_before_the_removals) -> None:
    stdout = io.StringIO()
    call_command(
        "crosscheck_listings", "--deregistered", "--dry-run", "--no-progress", stdout=stdout
    )
    assert "3 with a deregistered plate or VIN (dry run: nothing asked)" in stdout.getvalue()
    assert not CrosscheckRequest.objects.exists()


def test_the_command_asks_which_listings() -> None:
    with pytest.raises(CommandError, match="--deregistered"):
        call_command("crosscheck_listings")
