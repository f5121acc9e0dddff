"""What moderators corrected: each plate a moderator typed in where the engine had read one, beside
the engine's reading it replaced, and the character edits between the two, per engine version.

A moderator's reading (`Reading.Source.HUMAN`) typed over an engine reading keeps that reading's
corners (`services.reading_create_human`), so the engine reading at the same corners of the same
photo, made before it, is the one corrected. Typed twice at one place, the later one stands. A
plate typed without a place (no engine reading picked) has no crop: it counts as a plate the
engine did not report (`plates_unreported`), for the version that had read the photo.

    corrections = corrections_placed()       # the latest correction of each place, oldest first
    summary = corrections_summary()          # per engine version (`/ops/models/corrections/`)

`recognition.corrections_export` writes them out as crops the reader trains on.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from django.db.models import Count
from rapidfuzz.distance import Levenshtein

from recognition.models import PhotoRead, Reading

# The page summarises the latest corrections only, so that it answers at once however long the
# history (moderators type a few hundred plates a day).
SUMMARY_CORRECTIONS = 10_000
# The corrections the page lists one by one, latest first.
SHOWN = 50
# The character mix-ups listed per version, the most frequent first.
TOP_SUBSTITUTIONS = 10
# The engine readings looked up per query.
CHUNK = 1_000

Kind = Literal["confirmed", "clipped", "misread", "other", "unmatched"]
Corners = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Correction:
    """A moderator's plate at an engine reading's place (`engine_*` empty: no engine reading made
    before it lies at those corners)."""

    reading_id: int
    photo_id: int
    listing_id: int
    text: str
    corners: Corners
    corrected_at: dt.datetime
    engine_reading_id: int | None = None
    engine_text: str = ""
    engine_version: str = ""
    engine_format: str = ""

    @property
    def kind(self) -> Kind:
        """`confirmed` (typed as the engine read it), `clipped` (the engine's text is the plate
        short of characters at an end: the crop cut it), `misread` (as long, characters read
        otherwise), `other`, or `unmatched` (no engine reading)."""
        if self.engine_reading_id is None:
            return "unmatched"
        if self.engine_text == self.text:
            return "confirmed"
        if self.engine_text and (
            self.text.startswith(self.engine_text) or self.text.endswith(self.engine_text)
        ):
            return "clipped"
        if len(self.engine_text) == len(self.text):
            return "misread"
        return "other"

    @property
    def edits(self) -> list[tuple[str, str]]:
        """The engine's text turned into the moderator's, one edit per character: (engine's
        character, moderator's), "" for a character the engine left out or added."""
        if self.engine_reading_id is None:
            return []
        ops = Levenshtein.editops(self.engine_text, self.text)
        return [
            (
                self.engine_text[op.src_pos] if op.tag != "insert" else "",
                self.text[op.dest_pos] if op.tag != "delete" else "",
            )
            for op in ops
        ]


@dataclass(frozen=True)
class Unreported:
    """A plate a moderator typed on a photo without an engine reading to correct: the engine
    reported no plate there (the detector missed it, or the reader's check or the format rules
    refused it), or none the moderator picked."""

    reading_id: int
    photo_id: int
    text: str
    typed_at: dt.datetime
    engine_version: str  # the latest version to read the photo before it was typed ("": none)


@dataclass
class VersionCorrections:
    """The corrections of one engine version's readings."""

    version: str
    photos_read: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    substitutions: Counter[tuple[str, str]] = field(default_factory=Counter)
    missed: int = 0  # characters the engine left out
    added: int = 0  # characters the engine read that are not on the plate
    unreported: int = 0  # plates typed where the engine reported none (`Unreported`)

    @property
    def corrections(self) -> int:
        return sum(self.kinds.values())

    @property
    def per_thousand(self) -> float | None:
        """Corrections per 1,000 photos the version read (None: no read recorded)."""
        return 1000 * self.corrections / self.photos_read if self.photos_read else None

    def top_substitutions(self, n: int = TOP_SUBSTITUTIONS) -> list[tuple[str, str, int]]:
        return [(a, b, count) for (a, b), count in self.substitutions.most_common(n)]

    def count(self, kind: Kind) -> int:
        return self.kinds[kind]


@dataclass(frozen=True)
class CorrectionsSummary:
    versions: tuple[VersionCorrections, ...]  # the version corrected most first
    latest: tuple[Correction, ...]  # the latest SHOWN, latest first
    total: int  # corrections summarised
    capped: bool  # moderators typed more than SUMMARY_CORRECTIONS plates; the latest are summarised


# A typed plate as both readers of them need it: id, photo, listing, text, corners, typed at.
_Typed = tuple[int, int, int, str, object, dt.datetime]


def _typed(*, since: dt.datetime | None = None, latest: int | None = None) -> list[_Typed]:
    """The plates moderators typed, newest first; `since`: typed then or later; `latest`: only
    the latest so many."""
    human = Reading.objects.filter(source=Reading.Source.HUMAN)
    if since is not None:
        human = human.filter(created_at__gte=since)
    rows = human.order_by("-created_at", "-id").values_list(
        "id", "photo_id", "photo__listing_id", "plate_text", "corners", "created_at"
    )
    return list(rows[:latest] if latest is not None else rows)


def corrections_placed(
    *, since: dt.datetime | None = None, latest: int | None = None
) -> list[Correction]:
    """The moderators' plates typed at an engine reading's place, the later of two at one place,
    oldest first; `since`: typed then or later; `latest`: only the latest so many readings."""
    return _placed(_typed(since=since, latest=latest))


def plates_unreported(*, latest: int | None = None) -> list[Unreported]:
    """The plates moderators typed without a place (one per photo and text), each with the
    engine version that had read the photo; `latest`: only the latest so many readings."""
    return _unreported(_typed(latest=latest))


def _placed(typed: list[_Typed]) -> list[Correction]:
    places: dict[tuple[int, Corners], Correction] = {}
    for reading_id, photo_id, listing_id, text, corners, created_at in typed:
        place = _corners(corners)
        if place is None:
            continue  # typed without a place on the photo
        # newest first: the first seen at a place is the one that stands
        places.setdefault(
            (photo_id, place),
            Correction(reading_id, photo_id, listing_id, text, place, created_at),
        )
    found = _with_engine_readings(list(places.values()))
    return sorted(found, key=lambda c: (c.corrected_at, c.reading_id))


def _unreported(typed: list[_Typed]) -> list[Unreported]:
    placeless: dict[tuple[int, str], tuple[int, dt.datetime]] = {}
    for reading_id, photo_id, _listing_id, text, corners, created_at in typed:
        if _corners(corners) is None:
            placeless.setdefault((photo_id, text), (reading_id, created_at))
    reads: dict[int, list[tuple[dt.datetime, str]]] = defaultdict(list)
    for chunk in _chunks(sorted({photo_id for photo_id, _ in placeless}), CHUNK):
        found = PhotoRead.objects.filter(photo_id__in=chunk)
        for photo_id, read_at, version in found.values_list("photo_id", "read_at", "model_version"):
            reads[photo_id].append((read_at, version))
    out = []
    for (photo_id, text), (reading_id, typed_at) in placeless.items():
        before = [r for r in reads.get(photo_id, ()) if r[0] <= typed_at]
        version = max(before)[1] if before else ""
        out.append(Unreported(reading_id, photo_id, text, typed_at, version))
    return sorted(out, key=lambda u: (u.typed_at, u.reading_id))


def corrections_summary(
    *, limit: int = SUMMARY_CORRECTIONS, shown: int = SHOWN
) -> CorrectionsSummary:
    """Per engine version, how moderators corrected its readings: the kinds of correction, the
    characters it read otherwise, left out or added, the plates typed where it reported none;
    the latest corrections one by one."""
    latest = _typed(latest=limit)  # read once for both kinds
    corrections = _placed(latest)
    capped = Reading.objects.filter(source=Reading.Source.HUMAN)[limit : limit + 1].exists()
    per_version: dict[str, VersionCorrections] = {}
    for c in corrections:
        v = per_version.setdefault(c.engine_version, VersionCorrections(c.engine_version))
        v.kinds[c.kind] += 1
        for read, typed in c.edits:
            if read and typed:
                v.substitutions[read, typed] += 1
            elif typed:
                v.missed += 1
            else:
                v.added += 1
    for u in _unreported(latest):
        per_version.setdefault(u.engine_version, VersionCorrections(u.engine_version))
        per_version[u.engine_version].unreported += 1
    reads = dict(
        PhotoRead.objects.filter(model_version__in=[v for v in per_version if v])
        .values("model_version")
        .annotate(n=Count("*"))
        .values_list("model_version", "n")
    )
    for version, v in per_version.items():
        v.photos_read = reads.get(version, 0)
    ordered = sorted(
        per_version.values(), key=lambda v: (-(v.corrections + v.unreported), v.version)
    )
    return CorrectionsSummary(
        versions=tuple(ordered),
        latest=tuple(reversed(corrections[-shown:])) if shown else (),
        total=len(corrections),
        capped=capped,
    )


def _corners(value: object) -> Corners | None:
    """Four (x, y) corners as stored, or None when the reading has no place."""
    if not isinstance(value, list) or len(value) != 4:
        return None
    try:
        return tuple((float(x), float(y)) for x, y in value)
    except (TypeError, ValueError):
        return None


# An engine reading as the pairing needs it: made at, id, text, version, format.
_EngineRead = tuple[dt.datetime, int, str, str, str]
_ENGINE_FIELDS = ("created_at", "id", "plate_text", "model_version", "plate_format")


def _with_engine_readings(corrections: Sequence[Correction]) -> list[Correction]:
    """Each correction with the engine reading it replaced: at the same corners of its photo,
    the latest made before it."""
    engine: dict[tuple[int, Corners], list[_EngineRead]] = defaultdict(list)
    photo_ids = sorted({c.photo_id for c in corrections})
    for chunk in _chunks(photo_ids, CHUNK):
        rows = Reading.objects.filter(source=Reading.Source.ENGINE, photo_id__in=chunk)
        for photo_id, corners, made, reading_id, text, version, fmt in rows.values_list(
            "photo_id", "corners", *_ENGINE_FIELDS
        ):
            place = _corners(corners)
            if place is not None:
                engine[photo_id, place].append((made, reading_id, text, version, fmt))
    out = []
    for c in corrections:
        before = [r for r in engine.get((c.photo_id, c.corners), ()) if r[0] <= c.corrected_at]
        if not before:
            out.append(c)
            continue
        _, reading_id, text, version, fmt = max(before)
        out.append(
            dataclasses.replace(
                c,
                engine_reading_id=reading_id,
                engine_text=text,
                engine_version=version,
                engine_format=fmt,
            )
        )
    return out


def _chunks(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


__all__ = [
    "Correction",
    "CorrectionsSummary",
    "Unreported",
    "VersionCorrections",
    "corrections_placed",
    "corrections_summary",
    "plates_unreported",
]
