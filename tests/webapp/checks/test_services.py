from __future__ import annotations

from pathlib import Path

import pytest

from registry.services import register_import
from tests.fixtures.factories import ListingFactory, PhotoFactory, ReadingFactory, UserFactory
from webapp.checks.models import Flag
from webapp.checks.services import listing_crosscheck
from webapp.checks.tasks import crosscheck_listing

pytestmark = pytest.mark.django_db


@pytest.fixture
def register(samples: Path) -> None:
    register_import(path=samples / "register_2016.csv", enqueue_crosscheck=False)
    register_import(path=samples / "register_2024.csv", enqueue_crosscheck=False)


def listing_with_photos(*plates: tuple[str, float], **declared: object):
    fields = {
        "declared_make": "Toyota",
        "declared_model": "Camry",
        "declared_colour": "white",
        "declared_year": 2018,
        **declared,
    }
    listing = ListingFactory(**fields)
    for text, confidence in plates:
        ReadingFactory(
            photo=PhotoFactory(listing=listing),
            plate_text=text,
            plate_format="ua_2015",
            confidence=confidence,
        )
    return listing


def flag_map(listing) -> dict[tuple[str, str], tuple[int, str]]:
    return {(f.kind, f.key): (f.severity, f.status) for f in Flag.objects.filter(listing=listing)}


def test_a_matching_car_raises_no_flags(register: None) -> None:
    listing = listing_with_photos(("AA1234BB", 0.95), ("AA1234BB", 0.9))
    assert listing_crosscheck(listing_id=listing.pk) == []


def test_findings_become_flags_with_evidence(register: None) -> None:
    listing = listing_with_photos(("AA1234BB", 0.95), declared_make="Honda", declared_colour="red")
    flags = listing_crosscheck(listing_id=listing.pk)
    assert flag_map(listing) == {
        ("make_mismatch", ""): (3, "open"),
        ("colour_mismatch", ""): (2, "open"),
    }
    make = next(f for f in flags if f.kind == Flag.Kind.MAKE_MISMATCH)
    assert make.plate_text == "AA1234BB"
    assert make.plate_format == "ua_2015"
    assert make.evidence["registered"] == "TOYOTA"
    assert make.evidence["record"]["plate"] == "АА1234ВВ"
    assert [r["brand"] for r in make.evidence["history"]] == ["DAEWOO"]
    assert len(make.evidence_hash) == 64


def test_rerunning_never_duplicates(register: None) -> None:
    listing = listing_with_photos(("KA9999XX", 0.95), declared_make="Honda")
    first = listing_crosscheck(listing_id=listing.pk)
    second = listing_crosscheck(listing_id=listing.pk)
    assert [f.pk for f in first] == [f.pk for f in second]
    assert Flag.objects.filter(listing=listing).count() == 1
    assert Flag.objects.get(listing=listing).version == 1


def test_a_dismissed_flag_stays_dismissed_while_the_evidence_is_unchanged(register: None) -> None:
    listing = listing_with_photos(("AA1234BB", 0.95), declared_make="Honda")
    [flag] = listing_crosscheck(listing_id=listing.pk)
    Flag.objects.filter(pk=flag.pk).update(status=Flag.Status.DISMISSED, note="seller's typo")
    # a newer model re-reads the photo with another confidence: not a material change
    ReadingFactory(
        photo=listing.photos.get(), plate_text="AA1234BB", confidence=0.99, model_version="test-2"
    )
    listing_crosscheck(listing_id=listing.pk)
    flag.refresh_from_db()
    assert (flag.status, flag.note, flag.version) == ("dismissed", "seller's typo", 1)


def test_a_dismissed_flag_reopens_when_the_evidence_changes(
    register: None, samples: Path, tmp_path: Path
) -> None:
    moderator = UserFactory(username="mod", is_staff=True)
    listing = listing_with_photos(("AA1234BB", 0.95), declared_make="Honda")
    [flag] = listing_crosscheck(listing_id=listing.pk)
    Flag.objects.filter(pk=flag.pk).update(status=Flag.Status.DISMISSED, reviewer=moderator)
    # the plate is registered to another car later on
    lines = (samples / "register_2024.csv").read_text(encoding="utf-8").splitlines()
    newer = lines[1].replace("14.03.24", "01.10.24").replace('"TOYOTA"', '"LEXUS"')
    path = tmp_path / "newer.csv"
    path.write_text("\n".join([lines[0], newer]) + "\n", encoding="utf-8")
    register_import(path=path, enqueue_crosscheck=False)
    listing_crosscheck(listing_id=listing.pk)
    flag.refresh_from_db()
    assert (flag.status, flag.reviewer_id, flag.version) == ("open", None, 2)
    assert flag.evidence["registered"] == "LEXUS"


def test_open_flags_whose_finding_disappeared_are_removed_but_reviewed_ones_stay(
    register: None,
) -> None:
    listing = listing_with_photos(("AA1234BB", 0.95), declared_make="Honda", declared_colour="red")
    listing_crosscheck(listing_id=listing.pk)
    Flag.objects.filter(listing=listing, kind=Flag.Kind.COLOUR_MISMATCH).update(
        status=Flag.Status.CONFIRMED
    )
    listing.declared_make, listing.declared_colour = "Toyota", "white"
    listing.save()
    assert listing_crosscheck(listing_id=listing.pk) == []
    assert flag_map(listing) == {("colour_mismatch", ""): (2, "confirmed")}


def test_a_confirmed_flag_stays_confirmed_with_fresh_evidence(register: None) -> None:
    listing = listing_with_photos(("KA9999XX", 0.7))
    [flag] = listing_crosscheck(listing_id=listing.pk)
    Flag.objects.filter(pk=flag.pk).update(status=Flag.Status.CONFIRMED)
    ReadingFactory(
        photo=PhotoFactory(listing=listing),
        plate_text="KA9999XX",
        confidence=0.9,
        plate_format="ua_2015",
    )
    [again] = listing_crosscheck(listing_id=listing.pk)
    assert (again.pk, again.status, again.severity) == (flag.pk, "confirmed", 3)


def test_a_low_confidence_reading_gives_a_low_flag(register: None) -> None:
    listing = listing_with_photos(("KA9999XX", 0.4))
    listing_crosscheck(listing_id=listing.pk)
    assert flag_map(listing) == {("plate_not_in_register", "KA9999XX"): (1, "open")}


def test_the_same_plate_on_another_listing_is_evidence(register: None) -> None:
    other = listing_with_photos(("AA1234BB", 0.95))
    listing = listing_with_photos(("AA1234BB", 0.95))
    [flag] = listing_crosscheck(listing_id=listing.pk)
    assert (flag.kind, flag.key, flag.severity) == ("plate_on_other_listing", "AA1234BB", 2)
    assert flag.evidence["listings"][0]["listing_id"] == other.pk


def test_declared_plate_in_cyrillic_finds_other_listings(register: None) -> None:
    other = ListingFactory(declared_plate="АА1234ВВ")
    listing = listing_with_photos(("AA1234BB", 0.95))
    [flag] = listing_crosscheck(listing_id=listing.pk)
    assert flag.evidence["listings"] == [
        {"listing_id": other.pk, "marketplace_id": other.marketplace_id, "via": "declared"}
    ]


def test_2026_vin_only_records_are_matched_by_vin(samples: Path) -> None:
    register_import(path=samples / "register_2026.csv", enqueue_crosscheck=False)
    listing = listing_with_photos(
        ("KA0000KA", 0.95),
        declared_make="Lexus",
        declared_model="IS250",
        declared_year=2008,
        declared_colour="red",
        declared_vin="JTHCK262882026114",
    )
    assert listing_crosscheck(listing_id=listing.pk) == []
    listing.declared_make = "BMW"
    listing.save()
    [flag] = listing_crosscheck(listing_id=listing.pk)
    assert (flag.kind, flag.evidence["matched_by"]) == ("make_mismatch", "vin")


def test_the_task_runs_the_service_and_tolerates_a_missing_listing(register: None) -> None:
    listing = listing_with_photos(("KA9999XX", 0.95))
    crosscheck_listing.delay(listing.pk)
    assert Flag.objects.filter(listing=listing).count() == 1
    crosscheck_listing(999_999)
    options = crosscheck_listing
    assert options.acks_late
    assert options.ignore_result
    assert options.soft_time_limit
    assert options.time_limit


def test_an_import_rechecks_the_listings_it_touches(
    samples: Path, django_capture_on_commit_callbacks
) -> None:
    seen = listing_with_photos(("AA1234BB", 0.95), declared_make="Honda")
    declared = ListingFactory(declared_plate="ах 1312 кк", declared_make="Lexus")
    by_vin = ListingFactory(
        declared_vin="wbaks410x00c00002",
        declared_make="BMW",
        declared_model="X5 xDrive",
        declared_colour="black",
        declared_year=2016,
    )
    untouched = listing_with_photos(("KA5555KA", 0.95))
    with django_capture_on_commit_callbacks(execute=True):
        run = register_import(path=samples / "register_2024.csv")
    assert run.listings_touched == 3  # seen, declared and by_vin
    assert Flag.objects.filter(listing=seen, kind="make_mismatch").exists()
    assert Flag.objects.filter(listing=declared, kind="model_mismatch").exists()
    assert not Flag.objects.filter(listing=untouched).exists()
    # no plate to go by: the declared VIN finds the BMW X5, which matches
    assert not Flag.objects.filter(listing=by_vin).exists()


def import_removal(
    source: Path, path: Path, operation: tuple[str, str, str], *, with_registration: bool = False
) -> None:
    """Import the first record of the sample file `source` again as the removal `operation`
    (code, name, date as the file writes them), after the registration itself if asked."""
    lines = source.read_text(encoding="utf-8").splitlines()
    fields = lines[1].split(";")
    fields[2:5] = operation
    rows = [lines[0], *lines[1:2] * with_registration, ";".join(fields)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    register_import(path=path, enqueue_crosscheck=False)


def test_a_plate_whose_latest_operation_is_a_removal_is_flagged_not_compared(
    register: None, samples: Path, tmp_path: Path
) -> None:
    # given the Camry of АА1234ВВ taken off the register for export, a later import
    import_removal(
        samples / "register_2024.csv", tmp_path / "removal.csv",
        ('"520"', '"ЗНЯТТЯ З ОБЛІКУ ПРИ ВИВЕЗЕННІ ЗА КОРДОН"', "02.05.24"),
    )  # fmt: skip
    # and a listing of a Honda whose photos show that plate
    listing = listing_with_photos(("AA1234BB", 0.95), declared_make="Honda", declared_colour="red")
    # when
    [flag] = listing_crosscheck(listing_id=listing.pk)
    # then one flag says the plate is deregistered; the Camry it left is not compared with
    assert flag_map(listing) == {("plate_deregistered", "AA1234BB"): (3, "open")}
    assert flag.get_kind_display() == "Plate deregistered"
    evidence = flag.evidence
    assert (evidence["deregistered_on"], evidence["operation_code"]) == ("2024-05-02", 520)
    assert evidence["operation"] == "ЗНЯТТЯ З ОБЛІКУ ПРИ ВИВЕЗЕННІ ЗА КОРДОН"
    assert (evidence["left_car"]["brand"], evidence["same_car"]) == ("TOYOTA", False)


def test_a_declared_vin_whose_latest_operation_is_a_removal_is_flagged(
    register: None, samples: Path, tmp_path: Path
) -> None:
    # given the Lexus of the 2026 file (no plate column) scrapped a month after its registration
    import_removal(
        samples / "register_2026.csv", tmp_path / "scrapped.csv",
        ('"542"', '"ЗНЯТТЯ З ОБЛІКУ У ЗВ\'ЯЗКУ З УТИЛІЗАЦІЄЮ"', "02.02.26"),
        with_registration=True,
    )  # fmt: skip
    # and a listing of that Lexus by its VIN, as a seller typed it
    listing = ListingFactory(
        declared_make="Lexus", declared_model="IS250", declared_colour="red",
        declared_year=2008, declared_vin="jthck262882026114",
    )  # fmt: skip
    # when
    [flag] = listing_crosscheck(listing_id=listing.pk)
    # then the declared car is flagged as off the register: scrapped, so HIGH
    assert flag_map(listing) == {("vin_deregistered", "JTHCK262882026114"): (3, "open")}
    assert flag.get_kind_display() == "VIN deregistered"
    evidence = flag.evidence
    assert (evidence["deregistered_on"], evidence["operation_code"]) == ("2026-02-02", 542)
    assert (evidence["reason"], evidence["record"]["brand"]) == ("scrapped", "LEXUS")
