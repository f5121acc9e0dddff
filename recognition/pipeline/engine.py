"""The whole engine: detect -> corners -> straighten -> read -> check -> format rules, on batches;
a photo with no plate read surely is then looked at again with its contrast stretched.

engine = load_engine(regions="ua,eu")   # raises EngineUnavailable without trained weights
results = engine.recognize_batch([rgb_image, ...])

Plates only: a reading that fits no plate format of the engine's regions (see
`regions.region_formats`) is not reported as a plate; it is kept in `PhotoResult.rejected`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

import numpy as np

from recognition.pipeline.line_join import with_joined
from recognition.pipeline.ocr import OcrResult, PlateReader, best_of, env_flag
from recognition.pipeline.peer import RapidPeer, consult_peer
from recognition.pipeline.plate_detector import (
    PlateDetection,
    PlateDetector,
    inside_share,
    photo_size,
)
from recognition.pipeline.reader_check import CropRead, ReaderCheck
from recognition.pipeline.rectify import (
    CROP_PAD,
    US_PLATES,
    WIDE_PLATES,
    CropShape,
    PlateCut,
    plate_cut,
)
from recognition.pipeline.regions import DEFAULT_REGIONS, FORMATS, region_formats
from recognition.pipeline.types import PhotoResult, PlateArea, PlateReading, Point, RejectedText

log = logging.getLogger(__name__)


# With the peer on (PLATECHECK_READER_PEER=1), our reader's result stands when it fits a format
# with at least this confidence; otherwise rapidocr's recogniser also reads the crop and both
# candidate sets go through the format rules. It lifted exact reads on the real val crops from
# 0.77 to 0.80 with an earlier reader; with reader round 5 it adds nothing (end to end, same run:
# the same hits on every set, 48 ms/photo more at p50, more junk; on crops 0.919 against 0.925
# alone), so it is off by default.
CONSULT_PEER_BELOW = 0.8


class CombinedReader:
    """Our EasyOCR reader, with the rapidocr peer consulted on the crops it is unsure of."""

    def __init__(
        self,
        reader: PlateReader,
        peer: RapidPeer | None,
        formats: Collection[str] | None = None,
        consult_below: float = CONSULT_PEER_BELOW,
    ) -> None:
        self.reader = reader
        self.peer = peer
        self.formats = formats  # the plate formats accepted; None: all
        # The benchmark also measures the peer asked about every crop (1.0), on this same path.
        self.consult_below = consult_below
        # Readings of the int8 graph are not the float graph's to the last character.
        mode = "+int8" if reader.int8 else ""
        self.version = reader.version + mode + ("+rapidocr" if peer else "")

    def read_batch(
        self,
        crops: Sequence[np.ndarray],
        keep: Callable[[int, OcrResult], bool] | None = None,
    ) -> list[OcrResult | None]:
        """A reading per crop; None for the crops that `keep(index, own reading)` refuses.

        Our reader reads every crop first, so the check costs no second reading; the peer is
        asked only about the kept crops that our reader is unsure of.
        """
        ours = self.reader.candidates(crops, self.formats)
        own = [best_of(options, self.formats) for options in ours]
        chosen = [k for k, r in enumerate(own) if keep is None or keep(k, r)]
        results: list[OcrResult | None] = [None] * len(crops)
        finished = [own[k] for k in chosen]
        if self.peer is not None and chosen:
            finished = consult_peer(
                self.peer,
                [crops[k] for k in chosen],
                [ours[k] for k in chosen],
                finished,
                self.consult_below,
                self.formats,
            )
        for k, result in zip(chosen, finished, strict=True):
            results[k] = result
        return results


DEFAULT_MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
PEER_ENV = "PLATECHECK_READER_PEER"


class PlateEngine:
    """Detector and reader loaded once; `recognize_batch` is safe to call repeatedly."""

    def __init__(
        self,
        detector: PlateDetector,
        reader: CombinedReader,
        regions: str = DEFAULT_REGIONS,
        check: ReaderCheck | None = None,
        *,
        second_look: bool = False,
    ) -> None:
        self.detector = detector
        self.reader = reader
        # The deployment's plate regions (strict: other text is never a plate).
        self.regions = regions
        reader.formats = region_formats(regions)
        self.version = f"{detector.version}+{reader.version}"
        self.crop_pad = CROP_PAD
        self.crop_shape = crop_shape(reader.formats)
        # Which detections are plates: sure ones, and weaker ones that our reader can read
        # (recognition/pipeline/reader_check.py; fitted per detector and reader, in the
        # detector's manifest). Without one, the detector's threshold alone.
        self.check = check if check is not None else ReaderCheck.plain(detector.threshold)
        # A photo with no plate read surely is looked at again with its contrast stretched
        # (`recognize_batch`); `load_engine` turns it on.
        self.second_look = second_look
        self.second_look_below = SECOND_LOOK_BELOW
        # Detections at this score or more are hidden in a redacted copy whatever they read.
        self.hide_min_score = HIDE_MIN_SCORE
        if self.check.reader and self.check.reader != reader.reader.version:
            log.warning(
                "the detector's reader check was fitted with reader %s, not %s; refit it with "
                "python -m recognition.training.fit_reader_check",
                self.check.reader,
                reader.reader.version,
            )

    def detect(
        self,
        images: Sequence[np.ndarray],
        *,
        equalise: bool = False,
        zoom_out: float = 1.0,
        threshold: float | None = None,
    ) -> list[list[PlateDetection]]:
        """The candidate plates on each image: the detector's, and the pieces of one plate
        joined along their line (`line_join`). `equalise`: the detector sees the image with its
        local contrast stretched (the second look); `zoom_out`: smaller (the third);
        `threshold`: the lowest score kept (default: the check's candidates; fitting a check
        asks for lower)."""
        floor = self.check.candidate if threshold is None else threshold
        found = self.detector.detect(images, threshold=floor, equalise=equalise, zoom_out=zoom_out)
        return [with_joined(dets) for dets in found]

    def cuts(self, image: np.ndarray, detections: Sequence[PlateDetection]) -> list[PlateCut]:
        """Each detection's plate cut from `image` as the reader gets it: straightened, padded
        and shaped for the engine's formats."""
        return [plate_cut(image, d.corners, self.crop_pad, self.crop_shape) for d in detections]

    def recognize_batch(self, images: Sequence[np.ndarray]) -> list[PhotoResult]:
        """Every plate on each image, in input order.

        The second look: a photo with no plate read at `second_look_below` or more is detected
        again with its local contrast stretched (`plate_detector.equalised`), and the plates
        found are read from the photo itself. A plate in shadow or on a dull photo is often found
        only then. Photos with a plate cost nothing more; the others cost a second detection.

        The third look: a photo still without one is detected again shrunk ZOOM_OUT times on a
        plain canvas (`plate_detector.zoomed_out`). A plate filling most of the photo (a
        close-up, a camera a metre from the car) is larger than any the network learnt; it finds
        only its parts there, and the whole plate at half the size.
        """
        results = self._recognize(images)
        if not self.second_look:
            return results
        for name, look in (
            ("second_look_ms", {"equalise": True}),
            ("zoom_out_ms", {"zoom_out": ZOOM_OUT}),
        ):
            unsure = [k for k, result in enumerate(results) if not self._sure(result)]
            if not unsure:
                break
            again = self._recognize([images[k] for k in unsure], **look)
            for k, other in zip(unsure, again, strict=True):
                results[k] = _after_another_look(results[k], other, name)
        return results

    def _sure(self, result: PhotoResult) -> bool:
        return any(p.confidence >= self.second_look_below for p in result.plates)

    def _recognize(
        self, images: Sequence[np.ndarray], *, equalise: bool = False, zoom_out: float = 1.0
    ) -> list[PhotoResult]:
        t0 = time.perf_counter()
        detections = self.detect(images, equalise=equalise, zoom_out=zoom_out)
        t1 = time.perf_counter()
        flat = [(img, d) for img, dets in zip(images, detections, strict=True) for d in dets]
        cuts = [
            cut for image, dets in zip(images, detections, strict=True)
            for cut in self.cuts(image, dets)
        ]  # fmt: skip
        crops = [cut.crop for cut in cuts]
        t2 = time.perf_counter()

        def keep(k: int, own: OcrResult) -> bool:
            return self.check.keeps(score=flat[k][1].score, read=CropRead.of(own))

        readings = self.reader.read_batch(crops, keep) if crops else []
        t3 = time.perf_counter()
        n = max(len(images), 1)
        timings = {
            "detect_ms": (t1 - t0) * 1000 / n,
            "rectify_ms": (t2 - t1) * 1000 / n,
            "read_ms": (t3 - t2) * 1000 / n,
        }
        results: list[PhotoResult] = []
        per_plate = iter(zip(readings, cuts, strict=True))
        for image, dets in zip(images, detections, strict=True):
            size = photo_size(image)
            pairs = []
            for d in dets:
                ocr, cut = next(per_plate)
                if ocr is not None:  # None: the reader check dropped it
                    pairs.append((d, ocr, cut))
            read = {id(d): _reading(d, ocr, cut, size) for d, ocr, cut in pairs if ocr.valid}
            plates = _distinct(list(read.values()))
            rejected = tuple(
                RejectedText(ocr.text, float(ocr.confidence) * d.score, on_photo(d.box, size))
                for d, ocr, _ in pairs
                if not ocr.valid and ocr.text
            )
            areas = areas_to_hide(
                [
                    PlateArea(
                        read[id(d)].corners if id(d) in read else _outline(d, size),
                        d.score,
                        id(d) in read,
                    )
                    for d in dets
                ],
                self.hide_min_score,
            )
            results.append(PhotoResult(plates, dict(timings), rejected, areas))
        return results


# A photo none of whose plates reads at this confidence (reader x detector) or more gets the
# second look. Chosen on the train split (`recognition.evaluation e2e --split train`): from
# "only photos with no plate" up to 0.1 the same photos are read right (real train 319 of 337
# against 317 without the second look, junk unchanged); at 0.2-0.3 a surer second reading
# replaced a right one.
SECOND_LOOK_BELOW = 0.1
# How many times smaller the third look shows the photo. Chosen on the real train photos whose
# plate fills most of the frame (Brazilian close-ups where the first looks found only the city
# line and single characters): 1.5, 2 and 3 all found and read both; 2 is the middle.
ZOOM_OUT = 2.0
# A detection scored this much or more is hidden in a redacted copy even when its text is no
# plate of the deployment's regions or the reader check dropped it. Chosen with the margin
# (`redact.HIDE_MARGIN`) on the train split (`recognition.evaluation redact --split train`,
# 1,171 photos): of the pairs that hide at most 2 % of a photo outside the labelled plates (the
# median photo), the one that hides the most plates whole, 0.826 (0.3 with 0.25; 0.5 with 0.35
# 0.809; every car photo of openalpr's from a margin of 0.25 on, at any score up to 0.7).
HIDE_MIN_SCORE = 0.3


def areas_to_hide(areas: Sequence[PlateArea], min_score: float) -> tuple[PlateArea, ...]:
    """The areas a redacted copy hides: where a plate was read, and detections scored
    `min_score` or more."""
    return tuple(a for a in areas if a.read or a.score >= min_score)


def _after_another_look(first: PhotoResult, other: PhotoResult, name: str) -> PhotoResult:
    """A photo's result after another look: the plates of both, one report per plate
    (`_distinct`: the surer of two readings of one plate), and the look's time as `name`."""
    timings = {**first.timings_ms, name: sum(other.timings_ms.values())}
    plates = _distinct([*first.plates, *other.plates])
    seen = {r.text for r in first.rejected}
    rejected = first.rejected + tuple(r for r in other.rejected if r.text not in seen)
    return PhotoResult(plates, timings, rejected, first.areas + other.areas)


# A reported plate whose box lies this much inside a surer one's (or holds it) is the same plate
# cut another way, e.g. `2KA7740` beside `KA7740PP`.
SAME_PLATE_SHARE = 0.5


def _distinct(plates: list[PlateReading]) -> tuple[PlateReading, ...]:
    """One report per plate: the surest of those with the same text or overlapping boxes, unless
    a less sure one extends it (`AX0787CO` read from the joined pieces beside `AX0787` read from
    one piece): a clipped reading is a wrong one, however sure."""
    kept: list[PlateReading] = []
    for plate in sorted(plates, key=lambda p: -p.confidence):
        same = [k for k in kept if _same_plate(plate, k)]
        if not same:
            kept.append(plate)
        elif all(k.text in plate.text and len(k.text) < len(plate.text) for k in same):
            kept = [k for k in kept if k not in same] + [plate]
    return tuple(sorted(kept, key=lambda p: -p.confidence))


def _same_plate(a: PlateReading, b: PlateReading) -> bool:
    box_a, box_b = np.asarray(a.box), np.asarray(b.box)
    overlap = max(inside_share(box_a, box_b), inside_share(box_b, box_a))
    return a.text == b.text or overlap >= SAME_PLATE_SHARE


def crop_shape(formats: Collection[str]) -> CropShape:
    """How the plates of these formats are cut: US plates alone have a shape of their own."""
    return US_PLATES if all(FORMATS[f].region == "us" for f in formats) else WIDE_PLATES


def on_photo(
    box: tuple[float, float, float, float], size: tuple[float, float]
) -> tuple[float, float, float, float]:
    """The part of `box` (x1, y1, x2, y2) on a photo of `size` (width, height)."""
    x1, x2 = (min(max(x, 0.0), size[0]) for x in (box[0], box[2]))
    y1, y2 = (min(max(y, 0.0), size[1]) for y in (box[1], box[3]))
    return float(x1), float(y1), float(x2), float(y2)


def _outline(det: PlateDetection, size: tuple[float, float]) -> tuple[Point, Point, Point, Point]:
    """A detection's corners (TL, TR, BR, BL), the part on a photo of `size` (width, height)."""
    quad = np.clip(np.asarray(det.corners, np.float32).reshape(4, 2), 0.0, np.asarray(size))
    (a, b), (c, d), (e, f), (g, h) = (map(float, point) for point in quad)
    return (a, b), (c, d), (e, f), (g, h)


def _reading(
    det: PlateDetection, ocr: OcrResult, cut: PlateCut, size: tuple[float, float]
) -> PlateReading:
    """The report of a plate read on a photo of `size` (width, height). Its outline is the
    detector's, or the quadrilateral read where that was measured on the plate (a red plate's
    ends, which its mask often misses); of a plate across the photo's edge (the zoomed-out
    look's canvas shows past it), the part on the photo."""
    quad, box = np.asarray(det.corners, np.float32).reshape(4, 2), det.box
    if cut.ends_found:
        quad = cut.quad
        (x1, y1), (x2, y2) = quad.min(axis=0), quad.max(axis=0)
        box = (float(x1), float(y1), float(x2), float(y2))
    quad = np.clip(quad, 0.0, np.asarray(size, np.float32))
    box = on_photo(box, size)
    corners = tuple((float(x), float(y)) for x, y in quad)
    return PlateReading(
        text=ocr.text,
        format=ocr.format,
        confidence=float(ocr.confidence) * det.score,
        char_confidences=tuple(float(c) for c in ocr.char_confidences),
        alternatives=tuple(ocr.alternatives),
        corners=corners,  # type: ignore[arg-type]
        box=box,
        detection_score=det.score,
    )


def load_engine(
    models_dir: Path | None = None,
    *,
    with_peer: bool | None = None,
    regions: str = DEFAULT_REGIONS,
    reader_int8: bool | None = None,
) -> PlateEngine:
    """Load the detector and reader from `models_dir`; raises EngineUnavailable if missing.

    `with_peer`: also ask rapidocr's recogniser about the crops our reader is unsure of (None:
    as PLATECHECK_READER_PEER says; off by default, see CONSULT_PEER_BELOW).
    `regions`: the plate regions reported ("ua,eu"; "us,br,eu,ua" for the openalpr sets);
    an unknown code raises `regions.UnknownRegion` before any weights are loaded.
    `reader_int8`: the reader's fast int8 graph (None: PLATECHECK_READER_INT8 decides).
    """
    region_formats(regions)  # a bad setting fails fast, before the slow load
    folder = Path(models_dir) if models_dir else DEFAULT_MODELS_DIR
    detector = PlateDetector.load(folder / "detector")
    reader = CombinedReader(
        PlateReader.load(folder / "ocr", int8=reader_int8),
        RapidPeer() if (env_flag(PEER_ENV) if with_peer is None else with_peer) else None,
    )
    log.info("engine loaded: %s", detector.version)
    check = ReaderCheck.from_manifest(detector.manifest, detector.threshold)
    return PlateEngine(detector, reader, regions, check, second_look=True)
