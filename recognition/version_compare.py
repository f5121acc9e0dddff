"""Two engine versions compared on the production photos both read (the photos a nightly
re-read by a new model leaves behind with both versions' readings): which plates each reported
alike, which one read otherwise, which went and which came, and how each read the plates that
moderators typed in. No labels are needed but the moderators' own.

    comparison = versions_compare(base="det-a+ocr-a", candidate="det-b+ocr-b")
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from django.db.models import Count, Max, Q

from recognition.models import PhotoRead, Reading

# The latest photos both versions read that one comparison looks at, so that the page answers
# within a second: `bench/version_compare.py` (a night's 100,000 re-read photos in the database)
# compares 20,000 in 0.82 s and all 100,000 in 2.71 s here (medians of five runs).
COMPARE_PHOTOS = 20_000
# The plates that differ listed one by one (the counts cover them all).
SHOWN = 200
# Two readings of one photo whose boxes overlap this much (intersection over union) are one
# plate read two ways; below it they are two plates (a plate read on the front and the rear of
# two cars parked close overlap far less).
SAME_PLATE_IOU = 0.3

Kind = Literal["changed", "lost", "gained"]


@dataclass(frozen=True)
class Plate:
    """One version's reading on a photo."""

    reading_id: int
    text: str
    confidence: float
    box: tuple[float, ...]


@dataclass(frozen=True)
class PlateChange:
    """A plate the two versions did not report alike: `changed` (read otherwise at the same
    place), `lost` (the base reported it, the candidate nothing there) or `gained`."""

    photo_id: int
    kind: Kind
    base: Plate | None
    candidate: Plate | None

    @property
    def sides(self) -> tuple[Plate | None, Plate | None]:
        return self.base, self.candidate


@dataclass(frozen=True)
class HumanScore:
    """How a version read the plates moderators typed in on the compared photos."""

    version: str
    plates: int
    read_right: int

    @property
    def rate(self) -> float | None:
        return self.read_right / self.plates if self.plates else None


@dataclass(frozen=True)
class VersionComparison:
    base: str
    candidate: str
    photos_both: int  # photos both versions read
    photos: int  # of them, the latest compared here
    identical: int  # photos on which both reported the same plates
    same: int  # plates reported alike
    changed: int
    lost: int
    gained: int
    base_human: HumanScore
    candidate_human: HumanScore
    changes: tuple[PlateChange, ...]  # the first SHOWN, latest photos first

    @property
    def base_plates(self) -> int:
        """The plates the base reported on the compared photos."""
        return self.same + self.changed + self.lost

    def share(self, count: int) -> float:
        """`count` as a share of the base's plates (0 when it reported none)."""
        return count / self.base_plates if self.base_plates else 0.0


@dataclass(frozen=True)
class VersionRead:
    version: str
    photos: int


def versions_read() -> list[VersionRead]:
    """Every engine version with the photos it read, the latest to read first."""
    rows = (
        PhotoRead.objects.values("model_version")
        .annotate(photos=Count("*"), last=Max("read_at"))
        .order_by("-last")
    )
    return [VersionRead(r["model_version"], r["photos"]) for r in rows]


def versions_pair(
    versions: Sequence[str], *, base: str | None = None, candidate: str | None = None
) -> tuple[str, str]:
    """(base, candidate) with a version left out filled in: the candidate is the latest to read
    (`versions`, as `versions_read` orders them) other than the base, the base the latest other
    than the candidate ("" where there is none)."""
    candidate = candidate or next((v for v in versions if v != base), "")
    base = base or next((v for v in versions if v != candidate), "")
    return base, candidate


def versions_compare(
    *, base: str, candidate: str, photos: int = COMPARE_PHOTOS, shown: int = SHOWN
) -> VersionComparison:
    """`base` against `candidate` on the latest `photos` photos both read."""
    both = PhotoRead.objects.filter(model_version=candidate, photo__reads__model_version=base)
    latest = both.order_by("-read_at", "-photo_id").values_list("photo_id", flat=True)[:photos]
    order = list(latest)
    readings = Reading.objects.filter(
        Q(model_version__in=[base, candidate], source=Reading.Source.ENGINE)
        | Q(source=Reading.Source.HUMAN),
        photo_id__in=latest,
    )
    plates: dict[tuple[int, str], list[Plate]] = defaultdict(list)
    typed: dict[int, set[str]] = defaultdict(set)
    for photo_id, version, source, reading_id, text, confidence, box in readings.values_list(
        "photo_id", "model_version", "source", "id", "plate_text", "confidence", "box"
    ):
        if source == Reading.Source.HUMAN:
            typed[photo_id].add(text)
        elif source == Reading.Source.ENGINE:
            plates[photo_id, version].append(Plate(reading_id, text, confidence, tuple(box)))
    identical = same = 0
    changes: list[PlateChange] = []
    for photo_id in order:
        alike, differ = photo_diff(plates[photo_id, base], plates[photo_id, candidate])
        same += alike
        identical += not differ
        changes.extend(PlateChange(photo_id, kind, b, c) for kind, b, c in differ)
    count = {kind: sum(c.kind == kind for c in changes) for kind in ("changed", "lost", "gained")}
    return VersionComparison(
        base=base,
        candidate=candidate,
        photos_both=both.count(),
        photos=len(order),
        identical=identical,
        same=same,
        changed=count["changed"],
        lost=count["lost"],
        gained=count["gained"],
        base_human=_human_score(base, typed, plates),
        candidate_human=_human_score(candidate, typed, plates),
        changes=tuple(changes[:shown]),
    )


def photo_diff(
    base: Sequence[Plate], candidate: Sequence[Plate]
) -> tuple[int, list[tuple[Kind, Plate | None, Plate | None]]]:
    """The plates two versions reported alike on one photo, and the others: the same text is one
    plate (wherever its box); of the rest, boxes overlapping SAME_PLATE_IOU or more are one
    plate read otherwise (the largest overlaps paired first); a plate left is lost or gained."""
    left, right = list(base), list(candidate)
    alike = 0
    for plate in list(left):
        match = next((other for other in right if other.text == plate.text), None)
        if match is not None:
            left.remove(plate)
            right.remove(match)
            alike += 1
    overlaps = sorted(
        ((box_iou(b.box, c.box), i, j) for i, b in enumerate(left) for j, c in enumerate(right)),
        reverse=True,
    )
    paired: list[tuple[Kind, Plate | None, Plate | None]] = []
    used_left: set[int] = set()
    used_right: set[int] = set()
    for iou, i, j in overlaps:
        if iou < SAME_PLATE_IOU:
            break
        if i not in used_left and j not in used_right:
            used_left.add(i)
            used_right.add(j)
            paired.append(("changed", left[i], right[j]))
    paired += [("lost", b, None) for i, b in enumerate(left) if i not in used_left]
    paired += [("gained", None, c) for j, c in enumerate(right) if j not in used_right]
    return alike, paired


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two (x1, y1, x2, y2) boxes; 0 for a missing box."""
    if len(a) != 4 or len(b) != 4:
        return 0.0
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _human_score(
    version: str, typed: dict[int, set[str]], plates: dict[tuple[int, str], list[Plate]]
) -> HumanScore:
    """Of the plates moderators typed in on the compared photos, those `version` reported."""
    total = right = 0
    for photo_id, texts in typed.items():
        read = {plate.text for plate in plates.get((photo_id, version), ())}
        total += len(texts)
        right += len(texts & read)
    return HumanScore(version, total, right)


__all__ = [
    "COMPARE_PHOTOS",
    "HumanScore",
    "Plate",
    "PlateChange",
    "VersionComparison",
    "VersionRead",
    "box_iou",
    "photo_diff",
    "versions_compare",
    "versions_pair",
    "versions_read",
]
