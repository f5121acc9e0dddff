"""The plate reader: the recogniser trained here, loaded and run through EasyOCR, plus format rules.

    reader = PlateReader.load(Path("models/ocr"))   # checks the manifest; EasyOCR is built lazily
    results = reader.read_batch([crop, ...])         # straightened RGB crops from rectify()

EasyOCR's `Reader` (detector off, custom `platereader` network) owns the network and its
character converter. `read_batch` feeds it the whole batch at once with EasyOCR's own
`AlignCollate` preprocessing, and keeps the per-frame probabilities that `Reader.recognize` throws
away: they give per-character confidences and the CTC alternatives that the format rules need.
`Reader.recognize` on the same line gives the same text (a test holds this).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import logging
import os
import threading
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from recognition.pipeline.ctc import LineRead, best_path, join_rows, variants
from recognition.pipeline.format_hint import format_hint
from recognition.pipeline.ocr_input import (
    LINE_H,
    LINE_W,
    row_splits,
    shows_rows,
    to_line_input,
)
from recognition.pipeline.regions import FORMATS, Candidate, FormatHint, Resolved, resolve
from recognition.pipeline.regions.table import MAX_ALTERNATIVES
from recognition.pipeline.types import Alternative, EngineUnavailable, WeightsRejected
from recognition.pipeline.weights import read_verified, sha256_file

log = logging.getLogger(__name__)
T = TypeVar("T")

MODEL_NAME = "platereader"
# The int8 graph of the same weights (recognition.training.reader.quantize), when the manifest
# records one. Opt-in (PLATECHECK_READER_INT8=1, or `int8=True`): it reads a batch of lines
# 1.3-1.5x faster on the CPU but, measured, 1.5-3 % fewer lines exactly (models/ocr/MODEL_CARD.md),
# so the accurate float graph is the default and the fast one a deployment's choice.
INT8_GRAPH = f"{MODEL_NAME}.int8.onnx"
INT8_ENV = "PLATECHECK_READER_INT8"


def env_flag(name: str) -> bool:
    """A deployment's on/off switch in the environment (1, true, yes, on: on)."""
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


# Lines per forward pass: larger batches stop paying off on 2 CPU cores and cost memory.
BATCH_LINES = 64
# The PP-OCR network is convolutions and two attention blocks, which use both cores: on 20
# synthetic photos (engine without the peer) reading took 582 ms/photo p50 on 1 thread and 334 on
# 2. (The earlier BiLSTM reader was faster on 1 thread: 12 against 41 ms a crop.)
INFER_THREADS = 2
# A square crop whose ink shows no rows is not read again row by row (see
# PlateReader.candidates) when its one-line reading is a valid plate scoring at least this
# (its confidence times the crop's prior for its format) ...
ROWS_UNLESS = 0.9
# ... or reads fewer characters than this. A two-row plate squeezed into one line still shows
# most of a row (4 to 6 characters on synthetic two-row photos), while three quarters of the
# square crops that are not plates read 0 to 2. Where the ink shows rows, they are always read.
# A square Ukrainian plate seen from the side can read as its bottom row alone, thin top row
# unseen by the ink too (`2929XM` for `IE2929XM`, at 0.91): a valid US serial, but not a sure
# one on a crop with the Ukrainian band (US prior 0.3).
ROWS_MIN_CHARS = 3
# ... unless it reads two of them surely: the bottom row of a square 1995 plate is two large
# letters (`528-92` over `MM`), and a line read across the square can see them alone (`MM` at
# 0.84). Most square crops that are not plates read their one or two characters far less surely.
# On the train split (`e2e --split train --per-type 30`): Ukrainian types 253 of 270 against 252,
# real train photos 323 of 337 and junk 0.53 a photo as before.
ROWS_SURE_SHORT = 0.5


@contextlib.contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(min(n, before))
    try:
        yield
    finally:
        torch.set_num_threads(before)


@dataclass(frozen=True)
class OcrResult:
    text: str  # canonical Latin
    format: str
    confidence: float
    char_confidences: tuple[float, ...]
    alternatives: tuple[Alternative, ...]
    lines: tuple[str, ...]  # the text of each printed line, top to bottom
    valid: bool = False  # the text fits its format's rules


def _check_files(folder: Path, manifest: dict[str, Any]) -> None:
    for suffix in (".yaml", ".py", ".onnx"):
        if not (folder / f"{MODEL_NAME}{suffix}").exists():
            raise EngineUnavailable(
                f"reader unavailable: {folder / (MODEL_NAME + suffix)} is missing"
            )
    # The network's shape (the pretrained graph, weights stripped) is checked like the weights.
    graph = folder / f"{MODEL_NAME}.onnx"
    if sha256_file(graph) != manifest.get("graph_sha256"):
        raise WeightsRejected(
            f"reader graph {graph} rejected: its sha256 does not match the manifest's "
            "graph_sha256 (file corrupt or replaced; re-export the reader)"
        )
    int8 = manifest.get("int8")
    if int8:
        path = folder / str(int8.get("file", ""))
        if not path.is_file():
            raise EngineUnavailable(f"reader unavailable: {path} named by the manifest is missing")
        if sha256_file(path) != int8.get("sha256"):
            raise WeightsRejected(
                f"reader int8 graph {path} rejected: its sha256 does not match the manifest's "
                "(file corrupt or replaced; run recognition.training.reader.quantize again)"
            )
        if int8.get("from_weights") != manifest.get("sha256"):
            raise WeightsRejected(
                f"reader int8 graph {path} was made from other weights than {manifest['file']}: "
                "run recognition.training.reader.quantize again"
            )
    if list(manifest.get("input_size", [])) != [LINE_H, LINE_W]:
        raise WeightsRejected(
            f"reader weights in {folder} expect input {manifest.get('input_size')}, "
            f"this code feeds {[LINE_H, LINE_W]}: re-export them"
        )


class PlateReader:
    """Reads straightened plate crops; thread-safe lazy construction of the EasyOCR reader."""

    def __init__(self, folder: Path, manifest: dict[str, Any], int8: bool = False) -> None:
        self.folder = folder
        self.manifest = manifest
        self.int8 = int8  # run the manifest's int8 graph (checked at load) instead of the float
        self.version = str(manifest["version"])
        self.charset = str(manifest.get("character_list", ""))
        self._reader: Any = None
        self._lock = threading.Lock()

    @classmethod
    def load(cls, folder: Path, *, int8: bool | None = None) -> PlateReader:
        """Check the manifest (sha256, input size); raises EngineUnavailable or WeightsRejected.

        `int8`: run the int8 graph (None: as PLATECHECK_READER_INT8 says); the weights must
        have one (`python -m recognition.training.reader.quantize`).
        """
        # (the check happens here, at load; EasyOCR itself is built on first use)
        folder = Path(folder)
        _, manifest = read_verified(folder)
        _check_files(folder, manifest)
        int8 = env_flag(INT8_ENV) if int8 is None else int8
        if int8 and not manifest.get("int8"):
            raise EngineUnavailable(
                f"reader int8 graph wanted but {folder} has none: run "
                "python -m recognition.training.reader.quantize"
            )
        return cls(folder, manifest, int8)

    @property
    def easyocr_reader(self) -> Any:
        """The `easyocr.Reader` running our network, built on first use."""
        if self._reader is None:
            with self._lock:
                if self._reader is None:
                    self._reader = self._build()
        return self._reader

    def _build(self) -> Any:
        try:
            import easyocr
        except ImportError as exc:  # pragma: no cover - easyocr is a hard requirement
            raise EngineUnavailable("reader unavailable: easyocr is not installed") from exc
        folder = str(self.folder.resolve())
        # EasyOCR prints download progress and a CPU warning to stdout; keep logs clean.
        with contextlib.redirect_stdout(io.StringIO()):
            reader = easyocr.Reader(
                ["en"],
                gpu=False,
                detector=False,
                download_enabled=False,
                recog_network=MODEL_NAME,
                model_storage_directory=folder,
                user_network_directory=folder,
                quantize=bool(self.manifest.get("quantize", True)),
                verbose=False,
            )
        # EasyOCR switches to eval mode only inside its own predict loop; the batched path here
        # calls the network directly, and BatchNorm must not use batch statistics.
        reader.recognizer.eval()
        # Inference on onnxruntime with the loaded weights (ppocr_net.Model.freeze checks it
        # agrees with the torch module first): about 11 ms a line on one thread in profiling,
        # against 21 ms on two for the torch module; the int8 graph, when chosen, reads a batch
        # of lines 1.3-1.5x faster again.
        int8 = self.manifest.get("int8") if self.int8 else None
        frozen = reader.recognizer.freeze(
            INFER_THREADS,
            graph=self.folder / int8["file"] if int8 else None,
            probe=self.network_input([_printed_line(text) for text in PROBE_TEXTS]),
        )
        if "".join(reader.character) != self.charset:
            raise WeightsRejected(f"{self.folder}: yaml character_list does not match the manifest")
        log.info(
            "plate reader %s loaded through EasyOCR (%s)",
            self.version,
            ("onnxruntime, int8" if int8 else "onnxruntime") if frozen else "torch",
        )
        return reader

    # -- inference -----------------------------------------------------------------------------

    def line_probs(self, lines: Sequence[np.ndarray]) -> list[np.ndarray]:
        """(time, classes) probabilities per line, through EasyOCR's preprocessing and network."""
        import torch

        reader = self.easyocr_reader
        out: list[np.ndarray] = []
        for i in range(0, len(lines), BATCH_LINES):
            batch = _collate(lines[i : i + BATCH_LINES])
            with torch.no_grad(), _torch_threads(INFER_THREADS):
                logits = reader.recognizer(batch, None)
                out.extend(torch.softmax(logits, dim=2).numpy())
        return out

    @staticmethod
    def network_input(lines: Sequence[np.ndarray]) -> np.ndarray:
        """The network's input for RGB lines: (n, 3, LINE_H, LINE_W) float32, as EasyOCR
        prepares it (grey, aspect kept and padded, [-1, 1]) with the channel repeated."""
        batch: np.ndarray = _collate(lines).expand(-1, 3, -1, -1).contiguous().numpy()
        return batch

    def read_lines(self, lines: Sequence[np.ndarray]) -> list[LineRead]:
        return [best_path(p, self.charset) for p in self.line_probs(lines)] if lines else []

    def recognize_line(self, line: np.ndarray) -> tuple[str, float]:
        """EasyOCR's own `Reader.recognize` on one line (its text and confidence)."""
        result = self.easyocr_reader.recognize(to_line_input(line), detail=1, reformat=False)
        return (str(result[0][1]), float(result[0][2])) if result else ("", 0.0)

    def candidates(
        self, crops: Sequence[np.ndarray], formats: Collection[str] | None = None
    ) -> list[list[tuple[list[Candidate], FormatHint]]]:
        """Per crop, its readings as one line and, when it may hold several rows, row by row,
        each with its hint. `formats` as in `best_of`.

        The rows are read only when the one-line reading does not already settle the crop (see
        `_settled`): a square crop is split two ways, so its rows cost up to five more lines, and
        most square crops on a photo are wide plates seen at an angle or not plates at all.
        """
        hints = [format_hint(c) for c in crops]
        options = [
            [(variants(read), FormatHint(hint.priors, two_line=False))]
            for read, hint in zip(self.read_lines(crops), hints, strict=True)
        ]
        jobs: list[tuple[int, str, np.ndarray]] = []
        for k, (crop, hint) in enumerate(zip(crops, hints, strict=True)):
            if hint.two_line and not _settled(options[k], formats, crop):
                for j, split in enumerate(row_splits(crop)):
                    jobs += [(k, f"{j}:{i}", row) for i, row in enumerate(split)]
        per_crop: list[dict[str, LineRead]] = [{} for _ in crops]
        for (k, part, _), read in zip(jobs, self.read_lines([j[2] for j in jobs]), strict=True):
            per_crop[k][part] = read
        for k, parts in enumerate(per_crop):
            options[k] += _row_options(parts, hints[k])
        return options

    def read_batch(
        self, crops: Sequence[np.ndarray], formats: Collection[str] | None = None
    ) -> list[OcrResult]:
        """Read straightened RGB crops (any size; square ones may hold several rows), in order.

        `formats`: the plate formats accepted (None: all); other text is an invalid reading.
        """
        crops = [_as_rgb(c) for c in crops]
        return [best_of(options, formats) for options in self.candidates(crops, formats)]


# Printed lines that check a frozen graph against the torch module (`ppocr_net.Model.freeze`).
PROBE_TEXTS = ("AA1234BB", "KA0587CO", "BC7777CB", "123 45 AB")


def _printed_line(text: str) -> np.ndarray:
    """Dark text on a light plate-sized line: what the network reads, without a renderer."""
    import cv2

    line = np.full((48, 200, 3), 235, np.uint8)
    cv2.putText(line, text, (6, 38), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (20, 20, 20), 3, cv2.LINE_AA)
    return line


def _collate(lines: Sequence[np.ndarray]) -> Any:
    """EasyOCR's AlignCollate over RGB lines: a (n, 1, LINE_H, LINE_W) tensor."""
    from easyocr.recognition import AlignCollate
    from PIL import Image

    collate = AlignCollate(imgH=LINE_H, imgW=LINE_W, keep_ratio_with_pad=True)
    return collate([Image.fromarray(to_line_input(line), "L") for line in lines])


def _settled(
    options: Sequence[tuple[Sequence[Candidate], FormatHint]],
    formats: Collection[str] | None,
    crop: np.ndarray,
) -> bool:
    """The one-line reading decides a crop whose ink shows no rows: a sure valid plate, or too
    little text to be one."""
    best = resolve(*options[0], formats)
    too_little = len(best.text) < ROWS_MIN_CHARS and not (
        len(best.text) == ROWS_MIN_CHARS - 1 and best.confidence >= ROWS_SURE_SHORT
    )
    decided = (best.valid and best.score >= ROWS_UNLESS) or too_little
    return decided and not shows_rows(crop)  # the ink's profile only where it can matter


def _row_options(
    parts: dict[str, LineRead], hint: FormatHint
) -> list[tuple[list[Candidate], FormatHint]]:
    """Each way of splitting the crop into rows (`split:row` keys), joined top to bottom."""
    return [
        (join_rows([variants(r) for r in rows]), FormatHint(hint.priors, True, rows=len(rows)))
        for rows in row_groups(parts)
    ]


def row_groups(parts: dict[str, T]) -> list[list[T]]:
    """Rows of each split, top to bottom, from the `split:row` keys."""
    groups: dict[int, dict[int, T]] = {}
    for key, value in parts.items():
        if ":" in key:
            j, i = key.split(":")
            groups.setdefault(int(j), {})[int(i)] = value
    return [[g[i] for i in sorted(g)] for _, g in sorted(groups.items())]


def _as_rgb(crop: np.ndarray) -> np.ndarray:
    arr = np.asarray(crop)
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4) or arr.shape[0] < 2 or arr.shape[1] < 2:
        raise ValueError(f"a plate crop must be an RGB image, got shape {arr.shape}")
    return np.ascontiguousarray(arr[..., :3].astype(np.uint8, copy=False))


def to_result(best: Resolved) -> OcrResult:
    fmt = FORMATS.get(best.format)
    return OcrResult(
        text=best.text,
        format=best.format,
        confidence=round(float(best.confidence), 4),
        char_confidences=tuple(round(float(c), 4) for c in best.char_confidences),
        alternatives=best.alternatives,
        lines=(fmt.lines(best.text) if fmt else (best.text,)) if best.text else (),
        valid=best.valid,
    )


def best_of(
    options: Sequence[tuple[Sequence[Candidate], FormatHint]],
    formats: Collection[str] | None = None,
) -> OcrResult:
    """Resolve each way of reading a crop and keep the best (valid format first, then score).

    Only `formats` (None: all) make a reading valid; see `regions.region_formats`.
    """
    resolved = [resolve(cands, hint, formats) for cands, hint in options]
    best = max(resolved, key=lambda r: (r.valid, r.score))
    extra = [
        Alternative(r.text, round(r.confidence, 4)) for r in resolved if r is not best and r.text
    ]
    seen, unique = {best.text}, []
    for alt in (*best.alternatives, *extra):
        if alt.text not in seen:
            seen.add(alt.text)
            unique.append(alt)
    return to_result(dataclasses.replace(best, alternatives=tuple(unique[:MAX_ALTERNATIVES])))
