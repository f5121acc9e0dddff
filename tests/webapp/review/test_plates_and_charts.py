from __future__ import annotations

import importlib
from xml.etree import ElementTree

import pytest
from django.db import connection

from webapp.charts import Bar, Series, bar_chart, line_chart
from webapp.review import plates


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


def _marks(query: str, text: str) -> str:
    return " ".join(f"{m.char}:{m.kind}" for m in plates.char_marks(query, text))


@pytest.mark.parametrize(
    ("query", "text", "marked"),
    [
        ("AA1234BB", "aa 1234 b8", "A:same A:same 1:same 2:same 3:same 4:same B:same 8:look-alike"),
        ("BE6527MO", "BE5527MC", "B:same E:same 5:near 5:same 2:same 7:same M:same C:near"),
        ("AA1234BB", "AA1274BB", "A:same A:same 1:same 2:same 7:other 4:same B:same B:same"),
        (
            "AA1234BB",
            "XAA1234BB",
            "X:extra A:same A:same 1:same 2:same 3:same 4:same B:same B:same",
        ),
        ("AA1234BB", "A1234BB", "A:missing A:same 1:same 2:same 3:same 4:same B:same B:same"),
        # two near look-alikes swapped are paired, not one dropped and one added
        ("AA1256BB", "AA1265BB", "A:same A:same 1:same 2:same 6:near 5:near B:same B:same"),
    ],
)
def test_a_hit_is_marked_character_by_character_against_the_query(query, text, marked):
    assert _marks(query, text) == marked


def test_near_look_alikes_cost_half_an_edit():
    assert plates.lookalike_alignment("AA1256BB", "AA1265BB")[0] == 1.0
    assert plates.lookalike_alignment("AA1256BB", "AA1277BB")[0] == 2.0
    assert plates.lookalike_alignment("AA1256BB", "AA125BB")[0] == 1.0


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


def test_a_line_chart_names_the_ticks_asked_for_and_may_draw_a_line_without_dots():
    hours = [f"h{i}" for i in range(48)]
    svg = line_chart(
        labels=hours,
        series=[Series("on site", list(range(48))), Series("spaces", [50] * 48, "s2", dots=False)],
        title="hourly",
        ticks=[5, 29],
    )

    ElementTree.fromstring(svg)
    named = [label for label in hours if f">{label}</text>" in svg]
    assert named == ["h5", "h29"]
    assert svg.count('class="dot s1"') == 48
    assert 'class="dot s2"' not in svg
    assert svg.count("<polyline") == 2


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
