"""The current records of a page of plates in one query (the gate operators' passages page):
the same record as the one-plate lookup (``register_current_for_plate``) gives each plate."""

from __future__ import annotations

import datetime as dt

import pytest

from registry.selectors import register_current_for_plate, register_current_for_plates
from tests.webapp.review.factories import RegisterRecordFactory

pytestmark = pytest.mark.django_db

REMOVAL = "ЗНЯТТЯ З ОБЛІКУ ДЛЯ РЕАЛІЗАЦІЇ"
DAY = dt.date(2024, 5, 2)


@pytest.fixture
def register():
    """Plates whose current record takes the lookup's rules: the latest day only, and on it a
    registration after a removal whatever the rows' order."""
    rows = [
        # an old car, then the plate moved to another: the newer day is current
        ("AA1234BB", DAY - dt.timedelta(days=400), "TOYOTA", "РЕЄСТРАЦІЯ"),
        ("AA1234BB", DAY, "SKODA", "ПЕРЕРЕЄСТРАЦІЯ"),
        # left one car and went on another the same day, the removal's row written last
        ("BC7777AX", DAY, "VOLVO", "РЕЄСТРАЦІЯ"),
        ("BC7777AX", DAY, "OPEL", REMOVAL),
        # taken off the register: the removal is current, on no registered car
        ("KA0001XO", DAY - dt.timedelta(days=30), "KIA", "РЕЄСТРАЦІЯ"),
        ("KA0001XO", DAY, "KIA", REMOVAL),
    ]
    # a fleet plate with more rows on its latest day than the one-plate lookup reads at first
    rows += [("AI5555TT", DAY, f"FORD-{n}", "ПЕРЕРЕЄСТРАЦІЯ") for n in range(6)]
    for plate, day, brand, operation in rows:
        RegisterRecordFactory(plate_latin=plate, d_reg=day, brand=brand, oper_name=operation)


def test_each_plate_gets_the_record_the_one_plate_lookup_gives(register, django_assert_num_queries):
    plates = ["AA1234BB", "BC7777AX", "KA0001XO", "AI5555TT", "AX0000AA"]
    with django_assert_num_queries(1):
        current = register_current_for_plates(plates=plates)
    assert {key: record.brand for key, record in current.items()} == {
        "AA1234BB": "SKODA",
        "BC7777AX": "VOLVO",
        "KA0001XO": "KIA",
        "AI5555TT": "FORD-5",
    }
    assert current["KA0001XO"].deregistered
    for plate in plates:
        one = register_current_for_plate(plate=plate)
        assert (one.pk if one else None) == (current[plate].pk if plate in current else None)


def test_plates_are_keyed_as_normalised_and_blanks_cost_nothing(
    register, django_assert_num_queries
):
    # Cyrillic letters and spacing, as an operator or a register file writes them
    assert register_current_for_plates(plates=["аа 1234 вв"])["AA1234BB"].brand == "SKODA"
    with django_assert_num_queries(0):
        assert register_current_for_plates(plates=["", "  "]) == {}
