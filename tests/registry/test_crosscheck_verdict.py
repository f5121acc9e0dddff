"""What the cross-check vouches for (registry.crosscheck_verdict): a plate read surely on the
photos whose current register record is the declared car, else why not."""

from __future__ import annotations

from dataclasses import replace

import pytest

from registry.crosscheck import crosscheck
from registry.crosscheck_facts import CrosscheckInput
from registry.crosscheck_verdict import Unverified, verdict
from tests.registry.test_crosscheck import (
    CAMRY,
    CAMRY_EXPORTED,
    CAMRY_LISTING,
    LANOS,
    reading,
)


def test_a_plate_read_surely_on_the_car_the_register_knows_is_verified():
    data = CrosscheckInput(CAMRY_LISTING, (reading(1), reading(2)), (LANOS, CAMRY))

    result = verdict(data)

    assert result.verified
    assert (result.plate, result.plate_source) == ("AA1234BB", "photos")
    assert result.plate_confidence >= 0.95
    assert result.record == CAMRY.summary()  # the current record, not the plate's older car
    assert result.fields == {"make": "match", "model": "match", "colour": "match", "year": "match"}
    assert crosscheck(data) == []  # and the rules find nothing wrong with it


@pytest.mark.parametrize(
    ("listing", "readings", "records", "reason"),
    [
        pytest.param(
            replace(CAMRY_LISTING, declared_plate=""), (), (CAMRY,), Unverified.NO_PLATE,
            id="nothing-to-go-on",
        ),
        pytest.param(
            replace(CAMRY_LISTING, declared_plate="AA1234BB"), (), (CAMRY,),
            Unverified.PLATE_NOT_ON_PHOTOS, id="only-the-sellers-word",
        ),
        pytest.param(
            replace(CAMRY_LISTING, declared_vin=CAMRY.vin), (), (CAMRY,),
            Unverified.PLATE_NOT_ON_PHOTOS, id="only-the-declared-vin",
        ),
        pytest.param(
            CAMRY_LISTING, (reading(1, confidence=0.7),), (CAMRY,), Unverified.PLATE_UNSURE,
            id="read-unsurely",
        ),
        pytest.param(
            CAMRY_LISTING, (reading(1, "KA0001AA"),), (CAMRY,), Unverified.NOT_IN_REGISTER,
            id="plate-not-in-register",
        ),
        pytest.param(
            CAMRY_LISTING, (reading(1),), (CAMRY, CAMRY_EXPORTED), Unverified.PLATE_DEREGISTERED,
            id="plate-left-its-car",
        ),
        pytest.param(
            replace(CAMRY_LISTING, declared_make="Honda", declared_model="Accord"), (reading(1),),
            (CAMRY,), Unverified.CAR_DIFFERS, id="another-car",
        ),
        pytest.param(
            replace(CAMRY_LISTING, declared_year=2015), (reading(1),), (CAMRY,),
            Unverified.CAR_DIFFERS, id="another-year",
        ),
        pytest.param(
            replace(CAMRY_LISTING, declared_make="", declared_model=""), (reading(1),), (CAMRY,),
            Unverified.CAR_NOT_COMPARED, id="no-declared-make",
        ),
    ],
)  # fmt: skip
def test_why_a_listing_is_not_verified(listing, readings, records, reason):
    result = verdict(CrosscheckInput(listing, readings, records))

    assert not result.verified
    assert result.reason is reason


def test_the_verdict_keeps_what_it_compared_when_it_cannot_vouch():
    listing = replace(CAMRY_LISTING, declared_make="Honda", declared_model="Accord")

    result = verdict(CrosscheckInput(listing, (reading(1),), (CAMRY,)))

    assert result.record == CAMRY.summary()
    assert result.fields["make"] == "mismatch"
    assert result.fields["colour"] == "match"
