"""Plate search that survives OCR errors: readings (with their alternatives), gate passages,
declared plates and the register, tolerant of look-alike characters, of up to two inserted,
missing or substituted characters, and of a reading clipped at the plate's ends, ranked.

Both sides are folded onto the confusion key of :mod:`webapp.review.plates` (``B`` and ``8`` are
one character), so look-alikes cost nothing; what remains is an edit distance on the keys, in
which the ranking counts a near look-alike (``5`` for ``6``, measured on our reader) as half an
edit.

- PostgreSQL: pg_trgm GIN indexes over the folded expressions (``review`` migrations 0005 and
  0007) return a few hundred candidates sharing enough trigrams with the key; Python ranks them.
- SQLite (the demo): a bounded scan of the same columns in Python.

The declared-plate, register and passage expressions below must match the indexes' expressions
character for character, or PostgreSQL falls back to a sequential scan
(``tests/webapp/review/test_search.py`` checks the plans); readings carry their folded text in a
generated column.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils.translation import gettext
from rapidfuzz.distance import Levenshtein

from recognition.models import Reading
from registry.models import RegisterRecord
from webapp.gates.models import Gate, Passage
from webapp.listings.models import Listing
from webapp.review.plates import SQL_FROM, SQL_TO, alnum, lookalike_alignment, plate_key

logger = logging.getLogger(__name__)

MIN_QUERY_CHARS = 4
MAX_QUERY_CHARS = 16
# Keys further apart than this are different plates, not misreadings...
MAX_DISTANCE = 2
# ... unless the extra edits are characters cut off at the ends (a crop that stopped short of
# the plate: `520KA` for `CE9520KA`), which cost END_EDIT_COST each: then up to MAX_SCORE, with
# at least MIN_CLIPPED_CHARS left of the plate. A clipped reading that is also misread shares
# too few trigrams with the plate for the index to find it among a million readings.
MAX_CLIPPED = 3
MAX_SCORE = 1.5
MIN_CLIPPED_CHARS = 5
RESULTS_LIMIT = 50
# Rows fetched per source before ranking: the GIN scan is cheap, the rows' transfer is not.
CANDIDATES_PER_SOURCE = 300
# One edit on a 6-character key leaves 4 of its 7 trigrams: similarity 0.4; a bit below that.
TRIGRAM_THRESHOLD = 0.35
# The demo's SQLite scan stops here; more rows than this belong on PostgreSQL.
SQLITE_SCAN_LIMIT = 200_000


class SearchError(ValueError):
    """The query cannot be searched (too short, too long); the message says why."""


class Source:
    READING = "reading"
    ALTERNATIVE = "alternative"
    PASSAGE = "passage"
    DECLARED = "declared"
    REGISTER = "register"


# Among equally close texts: what the engine read beats its runner-up guesses and a gate's
# vote over its frames, and all beat a seller's claim or the register, which are not evidence
# of what a camera saw.
_SOURCE_RANK = {
    Source.READING: 0,
    Source.ALTERNATIVE: 1,
    Source.PASSAGE: 2,
    Source.DECLARED: 3,
    Source.REGISTER: 4,
}


@dataclass(frozen=True)
class PlateHit:
    source: str
    text: str  # the text that matched (a reading, an alternative, a declared plate, a plate)
    distance: int  # edits between the folded keys
    exact: bool  # the same characters as typed, not only look-alikes
    score: float  # the distance with cheaper edits at the ends; what ranks the hits
    reading_text: str = ""  # the reading's own text when an alternative matched
    confidence: float = 0.0
    reading_id: int | None = None
    photo_id: int | None = None
    listing_id: int | None = None
    marketplace_id: str = ""
    register_date: str = ""
    register_count: int = 0
    passage_id: int | None = None
    gate: str = ""  # the gate's name
    seen_at: dt.datetime | None = None  # the passage's last frame
    decision: str = ""  # the gate's decision: open, deny, unknown

    @property
    def sort_key(self) -> tuple[float, int, int, float, int, str]:
        # Then the row, newest first, and the text (the register's plate, a reading's
        # alternative): equally close hits come in the same order every time.
        row = self.reading_id or self.passage_id or self.listing_id or 0
        return (
            self.score,
            0 if self.exact else 1,
            _SOURCE_RANK[self.source],
            -self.confidence,
            -row,
            self.text,
        )


@dataclass(frozen=True)
class SearchResult:
    query: str
    key: str
    hits: list[PlateHit] = field(default_factory=list)


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _fold(column_sql: str) -> str:
    # Literals, not parameters: the planner matches an expression index only on equal constants.
    return f"translate({column_sql}, {_sql_literal(SQL_FROM)}, {_sql_literal(SQL_TO)})"


# Reading.search_key: text and alternatives folded by the database (recognition/search_key.py).
READING_EXPR = "search_key"
DECLARED_EXPR = _fold("declared_plate::text")
REGISTER_EXPR = "plate_key"  # the register's stored fold of plate_latin (registry migration 0004)
PASSAGE_EXPR = _fold("voted_plate::text")


# A character missing or added at either end of a reading (the plate's edge cut off, a screw
# or the frame read as "I") is the commonest OCR length error: it costs half an edit.
END_EDIT_COST = 0.5
# So does a substitution of characters our reader often mistakes for each other (`5` for `6`,
# `webapp.review.plates.NEAR_LOOK_ALIKES`, measured; `NEAR_LOOK_ALIKE_COST` there). Only the
# ranking counts it; which texts are hits at all is decided on plain edits.


def _cost(a: str, b: str) -> float:
    """Edits from key `a` to key `b`, near look-alikes at `plates.NEAR_LOOK_ALIKE_COST` (only
    hits get here, a few a query)."""
    return lookalike_alignment(a, b)[0]


def _clipped(key: str, other: str, cost: Callable[[str, str], float]) -> float:
    """The cheapest reading of `other` as `key` with characters cut off (or added) at the ends,
    each costing END_EDIT_COST; plain `cost` when the lengths agree or differ too much."""
    longer, shorter = (key, other) if len(key) >= len(other) else (other, key)
    extra = len(longer) - len(shorter)
    best = cost(key, other)
    if 0 < extra <= MAX_CLIPPED:
        for head in range(extra + 1):
            core = longer[head : len(longer) - (extra - head)]
            # always from the query's characters to the text's, as `cost(key, other)`
            ends = (core, shorter) if longer is key else (shorter, core)
            best = min(best, END_EDIT_COST * extra + cost(*ends))
    return best


def _match(key: str, text: str) -> tuple[int, float] | None:
    """(edit distance, score) of a text against the query's key, or None when it is another
    plate. Which texts are hits is decided on plain edits, characters missing or extra at the
    ends costing END_EDIT_COST; the score that ranks them also counts near look-alikes at
    `plates.NEAR_LOOK_ALIKE_COST`."""
    other = plate_key(text)
    distance = Levenshtein.distance(key, other, score_cutoff=MAX_DISTANCE + MAX_CLIPPED)
    if distance > MAX_DISTANCE + MAX_CLIPPED:
        return None
    if distance > MAX_DISTANCE and (
        min(len(key), len(other)) < MIN_CLIPPED_CHARS
        or _clipped(key, other, Levenshtein.distance) > MAX_SCORE
    ):
        return None
    return distance, _clipped(key, other, _cost)


def _hit(source: str, query: str, key: str, text: str, **details: Any) -> PlateHit | None:
    """`text` from `source` as a hit for the query (`details`: the source's own fields), or None
    when it is another plate."""
    matched = _match(key, text)
    if matched is None:
        return None
    distance, score = matched
    return PlateHit(
        source=source,
        text=text,
        distance=distance,
        score=score,
        exact=alnum(text) == query,
        **details,
    )


def _reading_hits(query: str, key: str, rows: Iterable[tuple]) -> Iterator[PlateHit]:
    """One hit per reading: its own text or its closest alternative, whichever is nearer."""
    for reading_id, text, alternatives, confidence, photo_id, listing_id, mp_id in rows:
        if isinstance(alternatives, str):  # raw cursors hand jsonb over undecoded
            alternatives = json.loads(alternatives)
        options = [(Source.READING, text)] + [
            (Source.ALTERNATIVE, str(alt.get("text", "")))
            for alt in alternatives or []
            if isinstance(alt, dict) and alt.get("text") and alt.get("text") != text
        ]
        details = {
            "reading_text": text,
            "confidence": float(confidence or 0.0),
            "reading_id": reading_id,
            "photo_id": photo_id,
            "listing_id": listing_id,
            "marketplace_id": mp_id,
        }
        hits = [_hit(source, query, key, option, **details) for source, option in options]
        found = [h for h in hits if h is not None]
        if found:
            yield min(found, key=lambda h: h.sort_key)


def _declared_hits(query: str, key: str, rows: Iterable[tuple]) -> Iterator[PlateHit]:
    for listing_id, mp_id, declared in rows:
        details = {"listing_id": listing_id, "marketplace_id": mp_id}
        if hit := _hit(Source.DECLARED, query, key, declared, **details):
            yield hit


def _passage_hits(query: str, key: str, rows: Iterable[tuple]) -> Iterator[PlateHit]:
    for passage_id, plate, confidence, decision, seen_at, gate in rows:
        details = {
            "confidence": float(confidence or 0.0),
            "passage_id": passage_id,
            "gate": gate,
            "seen_at": seen_at,
            "decision": decision,
        }
        if hit := _hit(Source.PASSAGE, query, key, plate, **details):
            yield hit


def _register_hits(query: str, key: str, rows: Iterable[tuple]) -> Iterator[PlateHit]:
    for plate, last_date, count in rows:
        details = {"register_date": str(last_date or ""), "register_count": int(count)}
        if hit := _hit(Source.REGISTER, query, key, plate, **details):
            yield hit


_READING_COLUMNS = (
    "r.id, r.plate_text, r.alternatives, r.confidence, r.photo_id, p.listing_id, l.marketplace_id"
)


_PASSAGE_COLUMNS = "p.id, p.voted_plate, p.confidence, p.decision, p.last_frame_at, g.name"


def _pg_candidates(key: str) -> tuple[list[tuple], list[tuple], list[tuple], list[tuple]]:
    reading = Reading._meta.db_table
    photo = "listings_photo"
    listing = Listing._meta.db_table
    register = RegisterRecord._meta.db_table
    limit = CANDIDATES_PER_SOURCE
    with transaction.atomic(), connection.cursor() as cursor:
        # SET LOCAL: the thresholds end with this transaction, never leak to pooled connections.
        # Each ORDER BY ends on a unique key (newest first, as the SQLite scan): which of many
        # equally close rows make the LIMIT must not depend on where they lie on disk.
        cursor.execute(
            "SELECT set_config('pg_trgm.strict_word_similarity_threshold', %s, true),"
            " set_config('pg_trgm.similarity_threshold', %s, true)",
            [str(TRIGRAM_THRESHOLD), str(TRIGRAM_THRESHOLD)],
        )
        expr = f"r.{READING_EXPR}"
        cursor.execute(
            f"SELECT {_READING_COLUMNS} FROM {reading} r"
            f" JOIN {photo} p ON p.id = r.photo_id JOIN {listing} l ON l.id = p.listing_id"
            f" WHERE %s <<%% {expr} ORDER BY %s <<<-> {expr}, r.id DESC LIMIT {limit}",
            [key, key],
        )
        readings = cursor.fetchall()
        cursor.execute(
            f"SELECT id, marketplace_id, declared_plate FROM {listing}"
            f" WHERE declared_plate <> '' AND {DECLARED_EXPR} %% %s"
            f" ORDER BY {DECLARED_EXPR} <-> %s, id DESC LIMIT {limit}",
            [key, key],
        )
        declared = cursor.fetchall()
        cursor.execute(
            f"SELECT plate_latin, max(d_reg), count(*) FROM {register}"
            f" WHERE plate_latin <> '' AND {REGISTER_EXPR} %% %s"
            f" GROUP BY plate_latin ORDER BY min({REGISTER_EXPR} <-> %s), plate_latin"
            f" LIMIT {limit}",
            [key, key],
        )
        registered = cursor.fetchall()
        cursor.execute(
            f"SELECT {_PASSAGE_COLUMNS} FROM {Passage._meta.db_table} p"
            f" JOIN {Gate._meta.db_table} g ON g.id = p.gate_id"
            f" WHERE p.voted_plate <> '' AND {PASSAGE_EXPR} %% %s"
            f" ORDER BY {PASSAGE_EXPR} <-> %s, p.id DESC LIMIT {limit}",
            [key, key],
        )
        passages = cursor.fetchall()
    return readings, declared, registered, passages


def _sqlite_candidates() -> tuple[
    Iterable[tuple], Iterable[tuple], Iterable[tuple], Iterable[tuple]
]:
    readings = (
        Reading.objects.order_by("-id")
        .values_list(
            "id",
            "plate_text",
            "alternatives",
            "confidence",
            "photo_id",
            "photo__listing_id",
            "photo__listing__marketplace_id",
        )[:SQLITE_SCAN_LIMIT]
        .iterator(chunk_size=2000)
    )
    declared = (
        Listing.objects.exclude(declared_plate="")
        .order_by("-id")
        .values_list("id", "marketplace_id", "declared_plate")[:SQLITE_SCAN_LIMIT]
        .iterator(chunk_size=2000)
    )
    rows = (
        RegisterRecord.objects.exclude(plate_latin="")
        .order_by("-id")
        .values_list("plate_latin", "d_reg")[:SQLITE_SCAN_LIMIT]
    )
    latest: dict[str, list] = {}
    for plate, d_reg in rows.iterator(chunk_size=2000):
        entry = latest.setdefault(plate, [d_reg, 0])
        entry[0] = max(entry[0], d_reg)
        entry[1] += 1
    passages = (
        Passage.objects.exclude(voted_plate="")
        .order_by("-id")
        .values_list("id", "voted_plate", "confidence", "decision", "last_frame_at", "gate__name")[
            :SQLITE_SCAN_LIMIT
        ]
        .iterator(chunk_size=2000)
    )
    return readings, declared, [(p, d, n) for p, (d, n) in latest.items()], passages


def query_key(q: str) -> tuple[str, str]:
    """The typed query cleaned (upper case, no separators) and its confusion key."""
    query = alnum(q or "")
    if len(query) < MIN_QUERY_CHARS:
        raise SearchError(
            gettext("Type at least %(n)d letters or digits of the plate.") % {"n": MIN_QUERY_CHARS}
        )
    if len(query) > MAX_QUERY_CHARS:
        raise SearchError(
            gettext("A plate has at most %(n)d letters and digits.") % {"n": MAX_QUERY_CHARS}
        )
    return query, plate_key(query)


def plate_search(*, q: str, limit: int = RESULTS_LIMIT) -> SearchResult:
    """Hits for a typed plate, nearest first; raises SearchError for an unusable query."""
    query, key = query_key(q)
    if connection.vendor == "postgresql":
        readings, declared, registered, passages = _pg_candidates(key)
    else:
        readings, declared, registered, passages = _sqlite_candidates()
    hits = [
        *_reading_hits(query, key, readings),
        *_passage_hits(query, key, passages),
        *_declared_hits(query, key, declared),
        *_register_hits(query, key, registered),
    ]
    hits.sort(key=lambda h: h.sort_key)
    return SearchResult(query=query, key=key, hits=hits[:limit])
