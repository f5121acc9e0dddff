from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from registry.crosscheck import crosscheck, current_record
from registry.crosscheck_facts import (
    CrosscheckInput,
    ListingFacts,
    OtherListingFacts,
    ReadingFacts,
    RecordFacts,
)
from registry.crosscheck_findings import Finding
from registry.crosscheck_votes import vote_plates

CAMRY = RecordFacts(
    record_id=10,
    d_reg=dt.date(2023, 3, 14),
    plate="АА1234ВВ",
    plate_latin="AA1234BB",
    vin="JTNB11HK0J3000001",
    brand="TOYOTA",
    model="CAMRY",
    make_norm="TOYOTA",
    model_norm="CAMRY",
    colour="БІЛИЙ",
    make_year=2018,
)
LANOS = replace(
    CAMRY,
    record_id=5,
    d_reg=dt.date(2016, 4, 2),
    vin="SUF4A0000E0000100",
    brand="DAEWOO",
    model="LANOS",
    make_norm="DAEWOO",
    model_norm="LANOS",
    colour="СІРИЙ",
    make_year=2005,
)
# The Camry leaves the country: the plate is on no registered car after this.
CAMRY_EXPORTED = replace(
    CAMRY,
    record_id=20,
    d_reg=dt.date(2024, 5, 2),
    oper_name="520 - ЗНЯТТЯ З ОБЛIКУ ПРИ ВИВЕЗЕННІ ЗА КОРДОН",
)
# The owner keeps the plate and puts it on his next car.
LEXUS_LATER = replace(
    CAMRY,
    record_id=15,
    d_reg=dt.date(2025, 1, 10),
    vin="JTHCK262882026114",
    brand="LEXUS",
    model="IS 250",
    make_norm="LEXUS",
    model_norm="IS 250",
    colour="ЧЕРВОНИЙ",
    make_year=2008,
    oper_name="ПЕРЕРЕЄСТРАЦІЯ НА НОВОГО ВЛАСНИКА ЗА ДОГОВОРОМ КУПІВЛІ-ПРОДАЖУ",
)
LEXUS_LISTING = ListingFacts(
    listing_id=3, declared_make="Lexus", declared_model="IS250", declared_colour="red"
)
CAMRY_LISTING = ListingFacts(
    listing_id=1,
    owner_id=100,
    declared_make="Toyota",
    declared_model="Camry XLE",
    declared_colour="white",
    declared_year=2018,
)


def reading(photo: int, text: str = "AA1234BB", confidence: float = 0.95) -> ReadingFacts:
    return ReadingFacts(
        reading_id=photo * 10, photo_id=photo, plate_text=text, confidence=confidence
    )


def kinds(findings: list[Finding]) -> dict[str, int]:
    return {f"{f.kind.value}:{f.key}" if f.key else f.kind.value: int(f.severity) for f in findings}


CASES = [
    pytest.param(CAMRY_LISTING, [reading(1), reading(2)], [CAMRY, LANOS], [], {}, id="all-match"),
    pytest.param(
        replace(CAMRY_LISTING, declared_make="Honda", declared_model="Accord"),
        [reading(1), reading(2)],
        [CAMRY],
        [],
        {"make_mismatch": 3},
        id="make-mismatch-high-model-not-double-flagged",
    ),
    pytest.param(
        replace(CAMRY_LISTING, declared_model="Corolla"),
        [reading(1)],
        [CAMRY],
        [],
        {"model_mismatch": 2},
        id="model-mismatch",
    ),
    pytest.param(
        replace(CAMRY_LISTING, declared_colour="red"),
        [reading(1)],
        [CAMRY],
        [],
        {"colour_mismatch": 2},
        id="colour-mismatch",
    ),
    pytest.param(
        replace(CAMRY_LISTING, declared_colour="silver"),
        [reading(1)],
        [CAMRY],
        [],
        {},
        id="near-colour-is-soft",
    ),
    pytest.param(
        replace(CAMRY_LISTING, declared_year=2019),
        [reading(1)],
        [CAMRY],
        [],
        {"year_mismatch": 1},
        id="year-off-by-one-low",
    ),
    pytest.param(
        replace(CAMRY_LISTING, declared_year=2010),
        [reading(1)],
        [CAMRY],
        [],
        {"year_mismatch": 3},
        id="year-far-off-high",
    ),
    pytest.param(
        CAMRY_LISTING,
        [reading(1, "KA9999XX")],
        [],
        [],
        {"plate_not_in_register:KA9999XX": 3},
        id="plate-not-in-register",
    ),
    pytest.param(
        CAMRY_LISTING,
        [reading(1, "KA9999XX", 0.45)],
        [],
        [],
        {"plate_not_in_register:KA9999XX": 1},
        id="low-confidence-lowers-severity",
    ),
    pytest.param(
        CAMRY_LISTING,
        [replace(reading(1, "WX12345"), plate_format="eu")],
        [],
        [],
        {"plate_not_in_register:WX12345": 1},
        id="foreign-plate-not-in-register-is-low",
    ),
    pytest.param(
        CAMRY_LISTING,
        [replace(reading(1, "KA9999XX"), plate_format="ua_2015")],
        [],
        [],
        {"plate_not_in_register:KA9999XX": 3},
        id="ukrainian-format-not-in-register-is-high",
    ),
    pytest.param(
        replace(CAMRY_LISTING, declared_make="Honda"),
        [reading(1, confidence=0.7)],
        [CAMRY],
        [],
        {"make_mismatch": 2},
        id="medium-confidence-caps-at-medium",
    ),
    pytest.param(
        replace(CAMRY_LISTING, declared_plate="BC 7777 AX"),
        [reading(1), reading(2)],
        [CAMRY],
        [],
        {"declared_plate_mismatch": 3},
        id="declared-plate-differs-from-photos",
    ),
    pytest.param(
        replace(CAMRY_LISTING, declared_plate="аа1234вв"),
        [reading(1)],
        [CAMRY],
        [],
        {},
        id="declared-plate-in-cyrillic-matches",
    ),
    pytest.param(
        CAMRY_LISTING,
        [reading(1), reading(2), reading(3, "BC7777AX", 0.9)],
        [CAMRY],
        [],
        {"multiple_plates": 2},
        id="several-plates",
    ),
    pytest.param(
        CAMRY_LISTING,
        [reading(1), reading(2), reading(3, "AA1284BB", 0.5)],
        [CAMRY],
        [],
        {},
        id="one-char-misread-is-outvoted",
    ),
    pytest.param(
        replace(CAMRY_LISTING, declared_vin="WBAKS410X00C00002"),
        [reading(1)],
        [CAMRY],
        [],
        {"vin_mismatch": 3},
        id="vin-mismatch",
    ),
    pytest.param(
        replace(CAMRY_LISTING, declared_make="Daewoo", declared_model="Lanos"),
        [reading(1)],
        [CAMRY, LANOS],
        [],
        {"make_mismatch": 2},
        id="plate-moved-earlier-match-lowers-severity",
    ),
    pytest.param(
        CAMRY_LISTING,
        [reading(1)],
        [CAMRY],
        [OtherListingFacts(2, "MP-2", "AA1234BB", owner_id=200)],
        {"plate_on_other_listing:AA1234BB": 2},
        id="same-plate-on-another-sellers-listing",
    ),
    pytest.param(
        CAMRY_LISTING,
        [reading(1)],
        [CAMRY],
        [OtherListingFacts(2, "MP-2", "AA1234BB", owner_id=100)],
        {"plate_on_other_listing:AA1234BB": 1},
        id="same-seller-relisting-is-low",
    ),
    pytest.param(
        replace(CAMRY_LISTING, declared_plate="АА1234ВВ", declared_make="BMW"),
        [],
        [CAMRY],
        [],
        {"make_mismatch": 3},
        id="no-photos-uses-declared-plate",
    ),
    pytest.param(
        replace(CAMRY_LISTING, declared_plate="KA5555KA"),
        [],
        [],
        [],
        {"plate_not_in_register:KA5555KA": 2},
        id="declared-plate-not-in-register-is-medium",
    ),
    pytest.param(
        replace(CAMRY_LISTING, declared_make="Daewoo", declared_model="Lanos"),
        [reading(1)],
        [replace(CAMRY, brand="ЗАЗ", model="LANOS", make_norm="ZAZ", model_norm="LANOS")],
        [],
        {},
        id="one-car-under-two-badges-is-not-a-make-mismatch",
    ),
    pytest.param(
        replace(CAMRY_LISTING, declared_make="Chevrolet", declared_model="Aveo"),
        [reading(1)],
        [replace(CAMRY, brand="ЗАЗ", model="LANOS", make_norm="ZAZ", model_norm="LANOS")],
        [],
        {"model_mismatch": 2},
        id="badge-family-still-compares-the-model",
    ),
    pytest.param(
        replace(CAMRY_LISTING, declared_make="Range Rover", declared_model="Evoque"),
        [reading(1)],
        [
            replace(
                CAMRY,
                brand="LAND ROVER",
                model="RANGE ROVER EVOQUE",
                make_norm="LAND ROVER",
                model_norm="RANGE ROVER EVOQUE",
            )
        ],
        [],
        {},
        id="range-rover-as-the-make",
    ),
    pytest.param(
        replace(CAMRY_LISTING, declared_make="Mercedes", declared_model="E-Class"),
        [reading(1)],
        [
            replace(
                CAMRY,
                brand="MERCEDES-BENZ",
                model="E 220 D",
                make_norm="MERCEDES-BENZ",
                model_norm="E 220 D",
            )
        ],
        [],
        {},
        id="mercedes-class-against-the-engine-model",
    ),
    pytest.param(
        replace(CAMRY_LISTING, declared_vin="jtnb11hkoj3ooooo1"),
        [reading(1)],
        [CAMRY],
        [],
        {},
        id="vin-typed-with-letter-o-for-zero",
    ),
    pytest.param(
        replace(CAMRY_LISTING, declared_make="Honda", declared_model="Accord"),
        [reading(1), reading(2)],
        [LANOS, CAMRY, CAMRY_EXPORTED],
        [],
        {"plate_deregistered:AA1234BB": 3},
        id="deregistered-plate-on-another-car-is-high-and-not-compared",
    ),
    pytest.param(
        CAMRY_LISTING,
        [reading(1), reading(2)],
        [LANOS, CAMRY, CAMRY_EXPORTED],
        [],
        {"plate_deregistered:AA1234BB": 2},
        id="deregistered-car-still-wearing-its-plate-is-one-level-lower",
    ),
    pytest.param(
        replace(CAMRY_LISTING, declared_make="Honda"),
        [reading(1, confidence=0.45)],
        [CAMRY, CAMRY_EXPORTED],
        [],
        {"plate_deregistered:AA1234BB": 1},
        id="deregistered-plate-capped-by-the-reading-confidence",
    ),
    pytest.param(
        replace(CAMRY_LISTING, declared_plate="AA1234BB", declared_make="Honda"),
        [],
        [CAMRY, CAMRY_EXPORTED],
        [],
        {"plate_deregistered:AA1234BB": 3},
        id="declared-deregistered-plate",
    ),
    pytest.param(
        LEXUS_LISTING,
        [reading(1)],
        [CAMRY, CAMRY_EXPORTED, LEXUS_LATER],
        [],
        {},
        id="deregistered-then-registered-again-on-another-car",
    ),
    pytest.param(
        replace(LEXUS_LISTING, declared_make="Honda"),
        [reading(1)],
        [CAMRY, CAMRY_EXPORTED, LEXUS_LATER],
        [],
        {"make_mismatch": 3},
        id="the-later-registration-is-compared",
    ),
    pytest.param(
        LEXUS_LISTING,
        [reading(1)],
        # the old car's removal comes on a later line of the day the plate goes on the Lexus
        [CAMRY, LEXUS_LATER, replace(CAMRY_EXPORTED, record_id=16, d_reg=LEXUS_LATER.d_reg)],
        [],
        {},
        id="same-day-registration-outranks-the-removal",
    ),
    pytest.param(
        replace(CAMRY_LISTING, declared_make="Honda"),
        [reading(1)],
        [
            CAMRY,
            CAMRY_EXPORTED,
            replace(
                CAMRY,
                record_id=21,
                d_reg=dt.date(2024, 6, 1),
                oper_name="501 - СКАСУВАННЯ ЗНЯТТЯ З ОБЛІКУ ТЗ",
            ),
        ],
        [],
        {"make_mismatch": 3},
        id="a-cancelled-removal-puts-the-car-back",
    ),
]

# A car listed by its VIN alone (2026 files have no plates), and the register's last word on it.
CAMRY_BY_VIN = replace(CAMRY_LISTING, declared_vin="JTNB11HK0J3000001")
CAMRY_SOLD_ON = replace(CAMRY_EXPORTED, oper_name="530 - ЗНЯТТЯ З ОБЛIКУ ДЛЯ РЕАЛIЗАЦIЇ")
VIN_CASES = [
    pytest.param(
        CAMRY_BY_VIN,
        [],
        [CAMRY, CAMRY_EXPORTED],
        {"vin_deregistered:JTNB11HK0J3000001": 3},
        id="exported-car-listed-by-its-vin-is-high",
    ),
    pytest.param(
        CAMRY_BY_VIN,
        [],
        [CAMRY, replace(CAMRY_EXPORTED, oper_name="ЗНЯТТЯ З ОБЛІКУ У ЗВ'ЯЗКУ З УТИЛІЗАЦІЄЮ")],
        {"vin_deregistered:JTNB11HK0J3000001": 3},
        id="scrapped-car-is-high",
    ),
    pytest.param(
        CAMRY_BY_VIN,
        [],
        [CAMRY, replace(CAMRY_EXPORTED, oper_name="53 - ЗНЯТТЯ ТЗ З ОБЛІКУ ЗА РІШЕННЯМ СУДУ")],
        {"vin_deregistered:JTNB11HK0J3000001": 2},
        id="removal-for-another-reason-is-medium",
    ),
    pytest.param(
        CAMRY_BY_VIN,
        [],
        [CAMRY, CAMRY_SOLD_ON],
        {"vin_deregistered:JTNB11HK0J3000001": 1},
        id="removal-for-sale-through-a-trader-is-low",
    ),
    pytest.param(
        # a declared VIN is the seller's word: a blurry reading of the plate does not lower it
        CAMRY_BY_VIN,
        [reading(1, "KA7000BC", confidence=0.3)],
        [CAMRY, CAMRY_EXPORTED],
        {"plate_not_in_register:KA7000BC": 1, "vin_deregistered:JTNB11HK0J3000001": 3},
        id="vin-removal-not-capped-by-the-reading",
    ),
    pytest.param(
        # the exported Camry's plate is on its photos: one removal, one flag (the VIN's)
        replace(CAMRY_BY_VIN, declared_plate="AA1234BB"),
        [reading(1), reading(2)],
        [LANOS, CAMRY, CAMRY_EXPORTED],
        {"vin_deregistered:JTNB11HK0J3000001": 3},
        id="the-plates-removal-of-the-declared-car-is-one-flag",
    ),
    pytest.param(
        CAMRY_BY_VIN,
        [reading(1, "KA7000BC")],
        [
            CAMRY,
            CAMRY_EXPORTED,
            replace(CAMRY, record_id=30, d_reg=dt.date(2025, 2, 1), plate_latin="KA7000BC"),
        ],
        {},
        id="registered-again-after-the-removal-is-current",
    ),
    pytest.param(
        CAMRY_BY_VIN,
        [],
        # sold through a trader and registered to its buyer the same day, the removal's row
        # later in the file
        [CAMRY, replace(CAMRY, record_id=19, d_reg=CAMRY_SOLD_ON.d_reg), CAMRY_SOLD_ON],
        {},
        id="same-day-registration-outranks-the-vins-removal",
    ),
    pytest.param(
        CAMRY_BY_VIN,
        [],
        [
            CAMRY,
            CAMRY_EXPORTED,
            replace(CAMRY, record_id=21, d_reg=dt.date(2024, 6, 1), oper_name="СКАСУВАННЯ ЗНЯТТЯ"),
        ],
        {},
        id="a-cancelled-removal-puts-the-vin-back",
    ),
]


@pytest.mark.parametrize(("listing", "readings", "records", "expected"), VIN_CASES)
def test_a_declared_vin_whose_latest_operation_is_a_removal(
    listing: ListingFacts,
    readings: list[ReadingFacts],
    records: list[RecordFacts],
    expected: dict[str, int],
) -> None:
    findings = crosscheck(CrosscheckInput(listing, tuple(readings), tuple(records)))
    assert kinds(findings) == expected


def test_a_deregistered_vin_carries_the_removal_as_evidence() -> None:
    # given the declared Camry exported, its plate later on a Lexus
    data = CrosscheckInput(CAMRY_BY_VIN, (), (CAMRY, CAMRY_EXPORTED, LEXUS_LATER))
    # when
    [finding] = crosscheck(data)
    # then the flag names the VIN, when and how the car left, and the car the register last knew
    assert (finding.kind.value, finding.key) == ("vin_deregistered", "JTNB11HK0J3000001")
    evidence = finding.evidence
    assert evidence["vin"] == "JTNB11HK0J3000001"
    assert (evidence["deregistered_on"], evidence["reason"]) == ("2024-05-02", "export")
    assert evidence["operation"] == "520 - ЗНЯТТЯ З ОБЛIКУ ПРИ ВИВЕЗЕННІ ЗА КОРДОН"
    assert (evidence["record"]["brand"], evidence["record"]["plate"]) == ("TOYOTA", "АА1234ВВ")
    assert [r["record_id"] for r in evidence["history"]] == [CAMRY.record_id]
    # and its hash holds the facts, not the row ids of a rebuilt register
    renumbered = (replace(CAMRY, record_id=1), replace(CAMRY_EXPORTED, record_id=2))
    [again] = crosscheck(CrosscheckInput(CAMRY_BY_VIN, (), renumbered))
    assert again.evidence_hash == finding.evidence_hash


@pytest.mark.parametrize(("listing", "readings", "records", "others", "expected"), CASES)
def test_crosscheck_cases(
    listing: ListingFacts,
    readings: list[ReadingFacts],
    records: list[RecordFacts],
    others: list[OtherListingFacts],
    expected: dict[str, int],
) -> None:
    findings = crosscheck(CrosscheckInput(listing, tuple(readings), tuple(records), tuple(others)))
    assert kinds(findings) == expected


def test_vin_only_matching_for_2026_records() -> None:
    # given a 2026 record (no plate column) for the declared VIN, and a plate not in the register
    record = replace(CAMRY, plate="", plate_latin="", record_id=30, d_reg=dt.date(2026, 1, 1))
    listing = replace(CAMRY_LISTING, declared_vin="jtnb11hk0j3000001", declared_make="BMW")
    # when
    findings = crosscheck(CrosscheckInput(listing, (reading(1, "KA0000KA"),), (record,)))
    # then the car is compared by VIN, and a plate-less record does not contradict the plate
    assert kinds(findings) == {"make_mismatch": 3}
    assert findings[0].evidence["matched_by"] == "vin"


def test_latest_registration_is_current_with_row_order_for_ties() -> None:
    same_day = replace(CAMRY, record_id=11, model="CAMRY HYBRID")
    assert current_record([LANOS, same_day, CAMRY]) == same_day
    assert current_record([]) is None


def test_photos_vote_and_a_human_reading_overrides_the_engine() -> None:
    readings = [
        reading(1, "AA1234BB", 0.6),
        reading(2, "AA1234BB", 0.6),
        reading(3, "BC7777AX", 0.9),
        ReadingFacts(99, 3, "AA1234BB", 1.0, human=True),
    ]
    [vote] = vote_plates(readings)
    assert vote.plate == "AA1234BB"
    assert vote.photos == (1, 2, 3)
    assert vote.confidence > 0.99


def test_only_the_newest_model_version_counts_per_photo() -> None:
    readings = [
        ReadingFacts(1, 1, "KA0000KA", 0.9, model_version="v1"),
        ReadingFacts(2, 1, "AA1234BB", 0.9, model_version="v2"),
    ]
    assert [v.plate for v in vote_plates(readings)] == ["AA1234BB"]


def test_evidence_hash_ignores_confidence_but_not_the_facts() -> None:
    listing = replace(CAMRY_LISTING, declared_make="Honda")
    [first] = crosscheck(CrosscheckInput(listing, (reading(1, confidence=0.9),), (CAMRY,)))
    [again] = crosscheck(CrosscheckInput(listing, (reading(1, confidence=0.97),), (CAMRY,)))
    newer = replace(
        CAMRY, record_id=12, d_reg=dt.date(2024, 1, 1), brand="LEXUS", make_norm="LEXUS"
    )
    [changed] = crosscheck(CrosscheckInput(listing, (reading(1),), (CAMRY, newer)))
    assert first.evidence_hash == again.evidence_hash
    assert changed.evidence_hash != first.evidence_hash


def test_a_deregistered_plate_carries_the_removal_as_evidence() -> None:
    # given a plate whose latest operation took the Camry off the register
    listing = replace(CAMRY_LISTING, declared_make="Honda", declared_model="Accord")
    data = CrosscheckInput(listing, (reading(1),), (LANOS, CAMRY, CAMRY_EXPORTED))
    # when
    [finding] = crosscheck(data)
    # then the date and the operation are shown, and the car it left is marked as such
    assert (finding.plate_text, finding.key) == ("AA1234BB", "AA1234BB")
    evidence = finding.evidence
    assert evidence["deregistered_on"] == "2024-05-02"
    assert evidence["operation"] == "520 - ЗНЯТТЯ З ОБЛIКУ ПРИ ВИВЕЗЕННІ ЗА КОРДОН"
    assert evidence["left_car"]["brand"] == "TOYOTA"
    assert evidence["same_car"] is False
    assert [r["brand"] for r in evidence["history"]] == ["DAEWOO", "TOYOTA"]


def test_a_deregistered_plate_falls_back_to_the_declared_vin() -> None:
    # given the Camry exported under its old plate, and registered again later under another
    again = replace(
        CAMRY, record_id=30, d_reg=dt.date(2025, 2, 1), plate="КА7000ВС", plate_latin="KA7000BC"
    )
    listing = replace(CAMRY_LISTING, declared_vin=CAMRY.vin, declared_colour="red")
    data = CrosscheckInput(listing, (reading(1),), (CAMRY, CAMRY_EXPORTED, again))
    # when
    findings = crosscheck(data)
    # then the plate is flagged, and the declared car is compared with its VIN's current record
    assert kinds(findings) == {"colour_mismatch": 2, "plate_deregistered:AA1234BB": 2}
    colour = next(f for f in findings if f.kind.value == "colour_mismatch")
    assert (colour.evidence["matched_by"], colour.evidence["record"]["record_id"]) == ("vin", 30)


def test_the_same_day_registration_is_current_whatever_the_row_order() -> None:
    removal = replace(CAMRY_EXPORTED, record_id=16, d_reg=LEXUS_LATER.d_reg)
    assert current_record([CAMRY, LEXUS_LATER, removal]) == LEXUS_LATER
    assert current_record([CAMRY, CAMRY_EXPORTED]) == CAMRY_EXPORTED
