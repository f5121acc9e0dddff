"""The photos' votes: which plates a listing's photos show, and how sure we are of each.

Pure and Django-free, like the rules in ``registry.crosscheck`` that judge the plates: every
photo votes once for each plate it shows; a moderator's reading replaces the engine's for that
photo; near-identical low-confidence texts (one character apart) are misreads of the winning
plate, not extra plates.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace

from recognition.pipeline.regions import normalise_plate
from registry.crosscheck_facts import ReadingFacts

# A reading at or above this is trusted as it is; below it findings are capped at MEDIUM.
CONFIDENT = 0.85
# Below this a reading is a hint only: findings from it are capped at LOW.
PLAUSIBLE = 0.6


@dataclass(frozen=True)
class PlateVote:
    plate: str
    photos: tuple[int, ...]
    confidence: float  # noisy-OR over photos: agreeing photos make a plate surer
    plate_format: str = ""
    variants: tuple[str, ...] = ()  # misreads folded into this plate


def effective_readings(readings: Iterable[ReadingFacts]) -> list[ReadingFacts]:
    """Per photo: the newest moderator reading, else the newest engine version's readings."""
    by_photo: dict[int, list[ReadingFacts]] = defaultdict(list)
    for reading in readings:
        if reading.plate_text:
            by_photo[reading.photo_id].append(reading)
    chosen: list[ReadingFacts] = []
    for photo_readings in by_photo.values():
        human = [r for r in photo_readings if r.human]
        if human:
            chosen.append(max(human, key=lambda r: r.reading_id))
            continue
        newest = max(photo_readings, key=lambda r: r.reading_id).model_version
        chosen.extend(r for r in photo_readings if r.model_version == newest)
    return chosen


def _one_char_apart(a: str, b: str) -> bool:
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1


def vote_plates(readings: Iterable[ReadingFacts]) -> list[PlateVote]:
    """Plates on the listing, most supported first."""
    best: dict[str, dict[int, ReadingFacts]] = defaultdict(dict)  # plate -> photo -> reading
    for reading in effective_readings(readings):
        plate = normalise_plate(reading.plate_text)
        current = best[plate].get(reading.photo_id)
        if current is None or reading.confidence > current.confidence:
            best[plate][reading.photo_id] = reading
    votes = []
    for plate, per_photo in best.items():
        doubt = 1.0
        for reading in per_photo.values():
            doubt *= 1.0 - min(max(reading.confidence, 0.0), 1.0)
        top = max(per_photo.values(), key=lambda r: r.confidence)
        votes.append(PlateVote(plate, tuple(sorted(per_photo)), 1.0 - doubt, top.plate_format))
    votes.sort(key=lambda v: (len(v.photos), v.confidence, v.plate), reverse=True)
    merged: list[PlateVote] = []
    for vote in votes:
        winner = next((m for m in merged if _one_char_apart(m.plate, vote.plate)), None)
        if winner is not None and vote.confidence < CONFIDENT:
            photos = tuple(sorted({*winner.photos, *vote.photos}))
            merged[merged.index(winner)] = replace(
                winner, photos=photos, variants=(*winner.variants, vote.plate)
            )
        else:
            merged.append(vote)
    return merged
