"""Plate search over readings (with alternatives), declared plates and the register."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from recognition.pipeline.regions import normalise_plate
from registry.models import RegisterRecord
from tests.fixtures.factories import ListingFactory, PhotoFactory, ReadingFactory
from tests.webapp.review.factories import RegisterRecordFactory
from webapp.gates import services as gate_services
from webapp.gates.models import Passage
from webapp.review import plates
from webapp.review.selectors import search
from webapp.review.selectors.search import SearchError, plate_search

pytestmark = pytest.mark.django_db


def _reading(text: str, *, alternatives: list[str] = (), marketplace_id: str = "", **kw):
    listing = ListingFactory(**({"marketplace_id": marketplace_id} if marketplace_id else {}))
    photo = PhotoFactory(listing=listing)
    alts = [{"text": text, "score": 0.9}] + [{"text": a, "score": 0.2} for a in alternatives]
    return ReadingFactory(photo=photo, plate_text=text, alternatives=alts, **kw)


def _texts(result) -> list[tuple[str, str, int]]:
    return [(h.source, h.text, h.distance) for h in result.hits]


def test_look_alikes_cost_nothing_and_exact_text_ranks_first():
    folded = _reading("AA1234B8")
    exact = _reading("AA1234BB")
    result = plate_search(q="aa 1234 bb")
    assert [h.reading_id for h in result.hits[:2]] == [exact.pk, folded.pk]
    assert [h.distance for h in result.hits[:2]] == [0, 0]
    assert [h.exact for h in result.hits[:2]] == [True, False]


@pytest.mark.parametrize(
    "read",
    ["AA1234B", "AA12345BB", "AX1234BB", "A1234BB"],
    ids=["missing", "inserted", "substituted", "missing-first"],
)
def test_one_edit_away_is_found(read):
    reading = _reading(read)
    _reading("KA9999XO")  # unrelated
    hits = plate_search(q="AA1234BB").hits
    assert [(h.reading_id, h.distance) for h in hits] == [(reading.pk, 1)]


def test_alternatives_declared_plates_and_the_register_are_searched():
    via_alt = _reading("AA1284BB", alternatives=["AA1234BB"])
    ListingFactory(marketplace_id="MP-DECL", declared_plate="аа 1234 вв")  # Cyrillic, spaced
    RegisterRecordFactory(plate_latin="AA1234BB")
    RegisterRecordFactory(plate_latin="AA1234BB", d_reg="2024-01-02")
    RegisterRecordFactory(plate_latin="BC7777CB")

    hits = plate_search(q="AA1234BB").hits
    by_source = {h.source: h for h in hits}
    assert by_source["alternative"].reading_id == via_alt.pk
    assert by_source["alternative"].reading_text == "AA1284BB"
    assert by_source["declared"].marketplace_id == "MP-DECL"
    assert (by_source["register"].text, by_source["register"].register_count) == ("AA1234BB", 2)
    assert str(by_source["register"].register_date) == "2024-01-02"
    assert "BC7777CB" not in {h.text for h in hits}
    # the reading's own (wrong) text is not what matched
    assert [h.source for h in hits][0] == "alternative"


def test_gate_passages_are_searched_with_their_gate_and_decision():
    gate = gate_services.gate_create(name="north-gate", site="Depot")
    device = gate_services.device_create(gate=gate).device
    seen = timezone.now()
    passage = Passage.objects.create(
        gate=gate, device=device, started_at=seen, last_frame_at=seen, frames_count=3,
        voted_plate="AA1234B8", confidence=0.93, decision="open", decided_at=seen,
    )  # fmt: skip
    Passage.objects.create(
        gate=gate, device=device, started_at=seen, last_frame_at=seen, frames_count=1,
        voted_plate="", confidence=0.0, decision="unknown",
    )  # fmt: skip  # a passage that voted for no plate is no hit
    reading = _reading("AA1234BB")
    hits = plate_search(q="AA1234BB").hits
    assert [(h.source, h.text) for h in hits] == [("reading", "AA1234BB"), ("passage", "AA1234B8")]
    hit = hits[1]
    assert (hit.passage_id, hit.gate, hit.decision, hit.confidence) == (
        passage.pk,
        "north-gate",
        "open",
        0.93,
    )
    assert hit.seen_at == seen
    assert hits[0].reading_id == reading.pk


def test_a_reading_clipped_at_the_ends_is_found_below_closer_ones():
    # a crop that stopped short of the plate, its region prefix and more cut off
    clipped = _reading("234BB")  # three characters cut off at the start
    _reading("1234BX")  # two cut off and one misread: too far
    one_edit = _reading("AA1234B")
    _reading("AB1239BC")  # three edits inside the plate: another plate
    _reading("34BB")  # too little left of the plate to tell
    hits = plate_search(q="AA1234BB").hits
    assert [(h.reading_id, h.distance, h.score) for h in hits] == [
        (one_edit.pk, 1, 0.5),
        (clipped.pk, 3, 1.5),
    ]


def test_a_near_look_alike_ranks_above_another_edit():
    # 3 read as 8 is one of the reader's measured confusions; 3 read as 7 is not
    other = _reading("AA1274BB", confidence=0.99)
    misread = _reading("AA1284BB", confidence=0.40)
    hits = plate_search(q="AA1234BB").hits
    assert [(h.reading_id, h.distance, h.score) for h in hits] == [
        (misread.pk, 1, 0.5),
        (other.pk, 1, 1.0),
    ]


def test_two_near_look_alikes_weigh_one_edit():
    swapped = _reading("AA1265BB", confidence=0.30)  # 5 and 6 mistaken for each other
    one_edit = _reading("AA1257BB", confidence=0.90)  # 6 read as 7
    two_edits = _reading("AA1277BB", confidence=0.99)  # 5 and 6 read as 7
    hits = plate_search(q="AA1256BB").hits
    assert [(h.reading_id, h.distance, h.score) for h in hits] == [
        (one_edit.pk, 1, 1.0),
        (swapped.pk, 2, 1.0),
        (two_edits.pk, 2, 2.0),
    ]


def test_equally_close_texts_come_newest_first_beyond_the_candidate_limit(monkeypatch):
    # given: more equally close readings and declared plates than are fetched per source,
    # stored in an order unlike their ids'
    monkeypatch.setattr(search, "CANDIDATES_PER_SOURCE", 3)
    ids = [10_004, 10_001, 10_006, 10_000, 10_005, 10_002, 10_007, 10_003]
    for pk in ids:
        _reading("AA1234BB", id=pk, confidence=0.9)
        ListingFactory(id=pk, declared_plate="AA1234BB")
    # when
    hits = plate_search(q="AA1234BB").hits
    # then: the newest of them, newest first (on SQLite: all of them, scanned)
    fetched = 3 if connection.vendor == "postgresql" else len(ids)
    expected = sorted(ids, reverse=True)[:fetched]
    assert [h.reading_id for h in hits if h.source == "reading"] == expected
    assert [h.listing_id for h in hits if h.source == "declared"] == expected


def test_equally_close_hits_sort_the_same_whatever_order_they_come_in():
    def hit(**row) -> search.PlateHit:
        source = "reading" if "reading_id" in row else "declared"
        return search.PlateHit(
            source=source, text="AA1234BB", distance=0, exact=True, score=0.0, **row
        )

    hits = [hit(reading_id=1), hit(listing_id=7), hit(reading_id=3), hit(listing_id=9)]
    for arrived in (hits, hits[::-1]):
        ranked = sorted(arrived, key=lambda h: h.sort_key)
        assert [(h.reading_id, h.listing_id) for h in ranked] == [
            (3, None), (1, None), (None, 9), (None, 7),
        ]  # fmt: skip


def test_far_plates_are_not_hits():
    _reading("KA0001XO")
    _reading("AA12")  # two missing characters
    assert plate_search(q="AA1234BB").hits == []


@pytest.mark.parametrize(
    ("q", "why"), [("", "at least"), ("a-1", "at least"), ("A" * 17, "at most")]
)
def test_unusable_queries_are_refused_with_the_reason(q, why):
    with pytest.raises(SearchError, match=why):
        plate_search(q=q)


def test_the_postgres_path_uses_the_trigram_indexes():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    for i in range(30):
        _reading(f"BC{i:04d}XO")
    with connection.cursor() as cursor:
        for table in ("recognition_reading", "listings_listing", "gates_passage"):
            cursor.execute(f"ANALYZE {table}")
        cursor.execute("SET enable_seqscan = off")
        for table, expr in [
            ("recognition_reading", search.READING_EXPR),
            ("listings_listing", search.DECLARED_EXPR),
            ("gates_passage", search.PASSAGE_EXPR),
        ]:  # the register's index is the same kind; on a few hundred rows its B-tree wins (on
            # 500,000 imported rows the plan uses each partition's plate_key index: the README)
            column = expr.split("(", 2)[-1].split(":")[0]
            extra = "" if table == "recognition_reading" else f" AND {column} <> ''"
            op = "<<%%" if table == "recognition_reading" else "%%"
            lhs, rhs = ("%s", expr) if table == "recognition_reading" else (expr, "%s")
            cursor.execute(
                f"EXPLAIN SELECT 1 FROM {table} WHERE {lhs} {op} {rhs}{extra}", ["AA123488"]
            )
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "_trgm" in plan, plan
        cursor.execute("RESET enable_seqscan")


def test_the_migration_freezes_the_same_fold():
    import importlib

    from recognition import search_key
    from webapp.review import plates

    migration = importlib.import_module("webapp.review.migrations.0005_plate_search_indexes")
    assert (migration.SQL_FROM, migration.SQL_TO) == (plates.SQL_FROM, plates.SQL_TO)
    assert (search_key.SQL_FROM, search_key.SQL_TO) == (plates.SQL_FROM, plates.SQL_TO)
    index_exprs = {expr for _table, expr, _where in migration.INDEXES.values()}
    assert {search.READING_EXPR, search.DECLARED_EXPR} <= index_exprs
    register = importlib.import_module("webapp.review.migrations.0008_register_plate_key_index")
    assert [expr for _t, expr, _w in register.INDEXES.values()] == [search.REGISTER_EXPR]
    # what the register's column replaced: 0005's index over the fold of the plate
    assert migration.INDEXES[register.NAME][1] == migration._fold("plate_latin::text")
    passages = importlib.import_module("webapp.review.migrations.0007_passage_search_index")
    assert [expr for _t, expr, _w in passages.INDEXES.values()] == [search.PASSAGE_EXPR]


def test_the_register_plate_key_column_is_the_search_fold_of_every_plate_key():
    # every character the fold knows, in a plate as the import stores it (normalise_plate)
    for ch in plates.SQL_FROM + "0123456789":
        RegisterRecordFactory(plate_latin=normalise_plate(f"AA{ch}1"))
    stored = dict(RegisterRecord.objects.values_list("plate_latin", "plate_key"))
    assert len(stored) > 30
    for latin, key in stored.items():
        # the demo's SQLite search folds in Python: its column keeps the plate as it is
        expected = plates.plate_key(latin) if connection.vendor == "postgresql" else latin
        assert key == expected, latin
    if connection.vendor == "postgresql":  # a Cyrillic twin, then its look-alike, folded
        assert stored[normalise_plate("ААО1")] == "AA01"


def test_the_search_key_column_folds_text_and_alternatives():
    reading = _reading("aa1234bb", alternatives=["AA 1234 B8", "ka0001xo"])
    reading.refresh_from_db()
    if connection.vendor == "postgresql":
        # separators (the spaces of the JSON text too) are dropped, look-alikes folded
        assert reading.search_key == 'AA123488/["AA123488","AA123488","KA0001X0"]'
    else:
        assert reading.search_key == "AA1234BB"
