"""The moderators' corrections written out as crops the reader trains on: each corrected plate
cut from its photo exactly as the engine cut it for the reader (`rectify.plate_crop` of the
reading's corners, the deployment's crop shape), labelled with what the moderator typed.

    report = corrections_export(out=Path("runs/corrections"))

`OUT/train/` and `OUT/val/` each hold `images/*.png` and `labels.jsonl` in the format of
`recognition.training.reader.detected_crops` (`image`, `text`, `source`, `region`, and where the
crop came from), so a reader round takes them as they are (`python -m
recognition.training.reader.train --detected-crops runs/ocr_detcrops runs/corrections/train
--detected-val runs/corrections/val ...`). A listing's plates all go to one side (val for a
`val_share` of listings, by a hash of its id), so one car never trains and measures a reader.
A two-row plate is cut into its rows (`ocr_input.split_rows`), each labelled with its printed
row (`PlateFormat.lines`), as the reader reads them. `OUT/manifest.json` says what was written
and what was left out, and why. The folder is written whole or not at all (`OUT.partial`, renamed
when done).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import shutil
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from django.conf import settings
from django.utils import timezone
from PIL import Image

from recognition.corrections import Correction, corrections_placed
from recognition.pipeline.engine import crop_shape
from recognition.pipeline.ocr_input import split_rows
from recognition.pipeline.rectify import CROP_PAD, SQUARE_SIZE, CropShape, plate_crop
from recognition.pipeline.regions import FORMATS, region_formats
from recognition.services import photo_image_load

log = logging.getLogger(__name__)

# The share of listings whose corrections measure a reader instead of training it.
VAL_SHARE = 0.15
SOURCE = "moderators"


class CorrectionsExportError(Exception):
    """The export cannot start (its folder is taken); nothing was written."""


@dataclass
class ExportReport:
    out: Path
    corrections: int = 0
    crops: Counter[str] = field(default_factory=Counter)  # per split
    plates: Counter[str] = field(default_factory=Counter)  # per split
    skipped: Counter[str] = field(default_factory=Counter)  # per reason

    def as_dict(self) -> dict[str, object]:
        return {
            "corrections": self.corrections,
            "plates": dict(self.plates),
            "crops": dict(self.crops),
            "skipped": dict(self.skipped),
        }


def corrections_export(
    *,
    out: Path,
    since: dt.datetime | None = None,
    val_share: float = VAL_SHARE,
    regions: str | None = None,
    replace: bool = False,
    progress: Callable[[Iterable[Correction], int], Iterable[Correction]] | None = None,
) -> ExportReport:
    """Write the corrections typed `since` (all by default) under `out`; `replace`: an existing
    export there is replaced (else refused); `progress` wraps the corrections as they are cut."""
    if not 0.0 <= val_share <= 1.0:
        raise CorrectionsExportError(f"the val share must be between 0 and 1, not {val_share}")
    if out.exists() and not (out.is_dir() and (replace or not any(out.iterdir()))):
        raise CorrectionsExportError(f"{out} exists and is not empty (replace it with --replace)")
    regions = regions or settings.PLATECHECK_REGIONS
    shape = crop_shape(region_formats(regions))
    corrections = sorted(corrections_placed(since=since), key=lambda c: c.photo_id)
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    report = ExportReport(out=out, corrections=len(corrections))
    try:
        _write(partial, corrections, shape, val_share, report, progress)
        manifest = {
            "exported_at": timezone.now().isoformat(),
            "since": since.isoformat() if since else None,
            "regions": regions,
            "val_share": val_share,
            "source": SOURCE,
            **report.as_dict(),
        }
        (partial / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)  # nothing half-written is left behind
        raise
    if out.exists():
        shutil.rmtree(out)
    partial.rename(out)
    log.info("corrections exported to %s: %s", out, report.as_dict())
    return report


def _write(
    folder: Path,
    corrections: list[Correction],
    shape: CropShape,
    val_share: float,
    report: ExportReport,
    progress: Callable[[Iterable[Correction], int], Iterable[Correction]] | None,
) -> None:
    """Each correction's crops into `folder`'s train or val split, counted in `report`."""
    writers = {split: _Writer(folder / split) for split in ("train", "val")}
    image: np.ndarray | None = None
    loaded = None
    for c in progress(corrections, len(corrections)) if progress else corrections:
        if c.photo_id != loaded:  # sorted by photo: each is read once
            loaded, image = c.photo_id, _photo(c.photo_id)
        if image is None:
            report.skipped["photo unreadable"] += 1
            continue
        rows = correction_rows(image, c, shape)
        if isinstance(rows, str):
            report.skipped[rows] += 1
            continue
        split = "val" if listing_in_val(c.listing_id, val_share) else "train"
        region = plate_region(c.text, c.engine_format)
        for k, (crop, text) in enumerate(rows):
            writers[split].add(crop, text, c, k, region)
        report.plates[split] += 1
        report.crops[split] += len(rows)
    for writer in writers.values():
        writer.close()


def correction_rows(
    image: np.ndarray, correction: Correction, shape: CropShape
) -> list[tuple[np.ndarray, str]] | str:
    """The crops the reader would read for the corrected plate, each with its text; or why there
    are none."""
    corners = np.asarray(correction.corners, np.float32).reshape(4, 2)
    try:
        crop = plate_crop(image, corners, CROP_PAD, shape)
    except (cv2.error, ValueError):
        return "corners unusable"
    if crop.size == 0:
        return "corners unusable"
    square = crop.shape[:2] == (SQUARE_SIZE[1], SQUARE_SIZE[0])
    layout = _layout(correction.text, correction.engine_format, square=square)
    if layout is None:
        return "two rows, no layout fits" if square else "two-row plate cut as one row"
    if len(layout) == 1:
        return [(crop, layout[0])]
    return list(zip(split_rows(crop, rows=len(layout)), layout, strict=True))


def plate_region(text: str, engine_format: str = "") -> str:
    """The region group (`ua`, `eu`, ...) of the formats `text` fits, the engine's first; ""
    when it fits none."""
    fitting = _fitting(text, engine_format)
    return FORMATS[fitting[0]].region if fitting else ""


def listing_in_val(listing_id: int, share: float) -> bool:
    """Whether a listing's corrections measure a reader (stable for a listing, whatever else is
    exported)."""
    digest = hashlib.sha256(f"listing:{listing_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share


def _fitting(text: str, engine_format: str) -> list[str]:
    """The formats `text` fits as it stands, the engine's first, a generic one last."""
    fitting = sorted(
        (code for code, rule in FORMATS.items() if rule.is_valid(text)),
        key=lambda code: FORMATS[code].generic,
    )
    if engine_format in fitting:
        fitting.remove(engine_format)
        fitting.insert(0, engine_format)
    return fitting


def _layout(text: str, engine_format: str, *, square: bool) -> tuple[str, ...] | None:
    """The moderator's text as the plate prints it: its rows, top to bottom, for a square crop
    (the engine's format when the text fits it, else the first format of several rows that
    does); the text itself for a wide one, unless it fits only plates of several rows."""
    fitting = _fitting(text, engine_format)
    several = [code for code in fitting if FORMATS[code].rows > 1]
    if square:
        return FORMATS[several[0]].lines(text) if several else None
    if fitting and len(several) == len(fitting):
        return None  # a plate of several rows straightened as one: its rows are not in order
    return (text,)


def _photo(photo_id: int) -> np.ndarray | None:
    try:
        return photo_image_load(photo_id=photo_id)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        log.warning("corrections: photo %s unreadable: %s", photo_id, exc)
        return None


class _Writer:
    """One split's crops and labels (the detected-crops format)."""

    def __init__(self, folder: Path) -> None:
        (folder / "images").mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.rows: list[dict[str, object]] = []

    def add(self, crop: np.ndarray, text: str, c: Correction, row: int, region: str) -> None:
        name = f"images/r{c.reading_id}_{row}.png"
        if not cv2.imwrite(str(self.folder / name), cv2.cvtColor(crop, cv2.COLOR_RGB2BGR)):
            raise OSError(f"could not write {self.folder / name}")
        self.rows.append(
            {
                "image": name,
                "text": text,
                "source": SOURCE,
                "region": region,
                "plate": c.text,
                "row": row,
                **{
                    key: value
                    for key, value in dataclasses.asdict(c).items()
                    if key in ("reading_id", "photo_id", "engine_text", "engine_version")
                },
                "corrected_at": c.corrected_at.isoformat(),
            }
        )

    def close(self) -> None:
        lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in self.rows)
        (self.folder / "labels.jsonl").write_text(lines, encoding="utf-8")


__all__ = [
    "VAL_SHARE",
    "CorrectionsExportError",
    "ExportReport",
    "correction_rows",
    "corrections_export",
    "listing_in_val",
    "plate_region",
]
