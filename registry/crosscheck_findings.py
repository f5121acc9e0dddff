"""What the cross-check's rules (``registry.crosscheck``) find: the kinds of finding, their
severities and the finding itself, with the hash that says whether a moderator's decision on it
still stands. Pure and Django-free; ``webapp.checks.models.Flag`` takes its kinds from ``Kind``.
"""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from registry.crosscheck_votes import CONFIDENT, PLAUSIBLE


class Kind(enum.StrEnum):
    """The kinds of finding, and so of flag: ``webapp.checks.models.Flag`` takes its choices."""

    PLATE_NOT_IN_REGISTER = "plate_not_in_register"
    PLATE_DEREGISTERED = "plate_deregistered"
    MAKE_MISMATCH = "make_mismatch"
    MODEL_MISMATCH = "model_mismatch"
    COLOUR_MISMATCH = "colour_mismatch"
    YEAR_MISMATCH = "year_mismatch"
    MULTIPLE_PLATES = "multiple_plates"
    DECLARED_PLATE_MISMATCH = "declared_plate_mismatch"
    VIN_MISMATCH = "vin_mismatch"
    VIN_DEREGISTERED = "vin_deregistered"
    PLATE_ON_OTHER_LISTING = "plate_on_other_listing"
    PLATE_WATCHED = "plate_watched"
    VIN_WATCHED = "vin_watched"


class Severity(enum.IntEnum):
    LOW = 1
    MEDIUM = 2
    HIGH = 3


@dataclass(frozen=True)
class Finding:
    kind: Kind
    key: str
    severity: Severity
    evidence: dict[str, Any] = field(hash=False, compare=False)
    # What the finding is *about*; confidences and ids of re-reads are left out so that a
    # re-run with a newer model does not reopen a flag a moderator already dismissed.
    basis: tuple[str, ...] = ()
    plate_text: str = ""
    plate_format: str = ""

    @property
    def evidence_hash(self) -> str:
        payload = json.dumps([self.kind.value, self.key, *self.basis], ensure_ascii=False)
        return hashlib.sha256(payload.encode()).hexdigest()


def cap_for(confidence: float) -> Severity:
    if confidence >= CONFIDENT:
        return Severity.HIGH
    if confidence >= PLAUSIBLE:
        return Severity.MEDIUM
    return Severity.LOW
