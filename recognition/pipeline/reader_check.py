"""The reader's check on detections: which of the detector's boxes are kept as plates.

The detector's score alone cannot tell a plate from a look-alike (a string of festive lights, a
car badge, a shop sign) at the score where small, distant plates are found too. Our reader can:
on the real val photos it reads a median confidence of 0.32 from plates and 0.00 from what the
detector mistook for one. So a detection stands on its own only when the detector is sure of it;
a weaker one is kept when the reader reads text from its crop.

    check = ReaderCheck(sure=0.97, candidate=0.3, min_confidence=0.05, min_chars=3)
    check.keeps(score=0.6, read=CropRead(0.4, 7))   # True: a weak box the reader can read
    check.keeps(score=0.99, read=CropRead(0.3, 2))  # False: two characters are no plate

A sure detection is kept on the detector's word unless the reader reads next to nothing from it
(below `sure_min_confidence`): what the detector is surest of besides plates is lettering that
no plate format's reader model recognises (a notice, a date sticker, a dealer's frame).

A reading shorter than `min_chars` drops a detection whatever its score: the standard serials of
every format the product reads have 4 characters or more (only US vanity plates are shorter),
and many of the detector's surest look-alikes (a tail lamp, a sign's lettering, a string of
lights) read as one or two characters.

The values are fitted for a pair of detector and reader weights
(`python -m recognition.training.fit_reader_check`, with `recognition.evaluation.check_fit`) and
stored in the detector's manifest; the engine reads them from there (`ReaderCheck.from_manifest`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from recognition.pipeline.ocr import OcrResult


class CropRead(NamedTuple):
    """What the check weighs of our reader's reading of one crop (`confidence`, `chars`), and
    what the engine then reports of it (fitting scores reports, not boxes)."""

    confidence: float
    chars: int  # characters in the reading (spaces and separators not counted)
    text: str = ""
    # the reading fits a plate format: a kept detection is reported as a plate only then
    valid: bool = True

    @classmethod
    def of(cls, result: OcrResult) -> CropRead:
        chars = sum(ch.isalnum() for ch in result.text)
        return cls(float(result.confidence), chars, result.text, bool(result.valid))


@dataclass(frozen=True)
class ReaderCheck:
    sure: float  # a detection at or above this score is a plate on the detector's word
    candidate: float  # below this score a detection is dropped without reading it
    min_confidence: float  # the reader's confidence that keeps a candidate below `sure`
    reader: str = ""  # the reader version the values were fitted with
    min_chars: int = 0  # a shorter reading drops any detection (0: length is not weighed)
    # The reader's confidence that even a sure detection needs (0: the detector's word is
    # enough). Sure look-alikes (a notice, a date, a dealer's sticker) mostly read at ~0.
    sure_min_confidence: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.candidate <= self.sure:
            raise ValueError(
                f"reader check needs 0 <= candidate <= sure, got {self.candidate}, {self.sure}"
            )

    @classmethod
    def plain(cls, threshold: float) -> ReaderCheck:
        """The detector's threshold alone: what weights without a fitted check get."""
        return cls(sure=threshold, candidate=threshold, min_confidence=0.0)

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any], threshold: float) -> ReaderCheck:
        raw = manifest.get("reader_check")
        if not raw:
            return cls.plain(threshold)
        return cls(
            sure=float(raw["sure"]),
            candidate=float(raw["candidate"]),
            min_confidence=float(raw["min_confidence"]),
            reader=str(raw.get("reader", "")),
            min_chars=int(raw.get("min_chars", 0)),  # checks fitted before it weighed length
            sure_min_confidence=float(raw.get("sure_min_confidence", 0.0)),
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def keeps(self, *, score: float, read: CropRead) -> bool:
        if read.chars < self.min_chars:
            return False
        if score >= self.sure:
            return read.confidence >= self.sure_min_confidence
        return score >= self.candidate and read.confidence >= self.min_confidence
