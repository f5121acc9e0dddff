from __future__ import annotations

import importlib
from xml.etree import ElementTree

import pytest
from django.db import connection

from webapp.review import plates
from webapp.review.charts import Bar, Series, bar_chart, line_chart


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("AA1234BB", "AA1234B8"),
        ("KA0001XO", "KAO0O1X0"),
        ("BI5678SZ", "8156785Z"),
        ("аа 1234 вв", "AA1234BB"),
    ],
)
def test_confusable_plates_share_a_key(typed, read):
    assert plates.plate_key(typed) == plates.plate_key(read)


def test_different_plates_keep_different_keys():
    assert plates.plate_key("AA1234BB") != plates.plate_key("AA1234BC")


def test_the_index_migration_freezes_the_same_fold():
    migration = importlib.import_module("webapp.review.migrations.0003_flag_plate_key_index")
    assert (migration.SQL_FROM, migration.SQL_TO) == (plates.SQL_FROM, plates.SQL_TO)


@pytest.mark.django_db
def test_the_sql_fold_matches_the_python_fold():
    samples = ["AA1234BB", "aa-1234 bb", "КА0001ХО", "bi 5678.sz", "ЇЫі|Q"]
    with connection.cursor() as cursor:
        for text in samples:
            cursor.execute("SELECT translate(%s, %s, %s)", [text, plates.SQL_FROM, plates.SQL_TO])
            assert cursor.fetchone()[0] == plates.plate_key(text), text


def test_line_chart_is_valid_svg_with_escaped_labels():
    svg = line_chart(
        labels=["01 Jan", "02 Jan", "<3>"],
        series=[Series("opened", [3, 5, 1]), Series("gap & co", [1, None, 2], "s2")],
        title="Flags & <stuff>",
    )

    root = ElementTree.fromstring(svg)
    assert root.tag.endswith("svg")
    assert "&lt;3&gt;" in svg
    assert svg.count("<polyline") == 3  # the None splits the second line in two


def test_bar_chart_draws_one_bar_per_row():
    svg = bar_chart(
        bars=[Bar("make_mismatch", 0.25, "1/4"), Bar("vin", 1.0)], title="rate", max_value=1.0
    )

    ElementTree.fromstring(svg)
    assert svg.count('class="bar ') == 2
    assert "25%" in svg


def test_empty_charts_still_render():
    ElementTree.fromstring(line_chart(labels=[], series=[], title="nothing"))
    ElementTree.fromstring(bar_chart(bars=[], title="nothing"))
