"""A second reader from the `rapidocr` wheel (PP-OCR recogniser, offline) and the combination.

The peer reads the same straightened crops as our reader. Its text is general-purpose: it also
reads the `UA` band, state names and separators, so its candidates are the whole text and its
word-level pieces. `consult_peer` puts both readers' candidates through the format rules (valid
format first, then score); our reader is always part of it and never dropped. The engine's
`CombinedReader` is the one place that combines them, in the product and in the benchmark.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Collection, Sequence
from typing import Any

import cv2
import numpy as np

from recognition.pipeline.format_hint import format_hint
from recognition.pipeline.ocr import INFER_THREADS, OcrResult, best_of, row_groups
from recognition.pipeline.ocr_input import row_splits
from recognition.pipeline.regions import Candidate, FormatHint, normalise_plate

log = logging.getLogger(__name__)

# Tokens the peer reads that are not part of the registration number.
NOISE_TOKENS = frozenset({"UA", "BR", "BRASIL", "BRAZIL", "USA", "EU"})
# The peer gives one score per text, not per character; its candidates are worth this much
# relative to ours when both readings fit a format equally well.
PEER_WEIGHT = 0.9
# A piece cut from the peer's text (a dropped band or state word) costs this factor.
PIECE_FACTOR = 0.85


class RapidPeer:
    """PP-OCR recogniser shipped in the rapidocr wheel; built on first use."""

    def __init__(self, cache: bool = False) -> None:
        self._rec: Any = None
        self._lock = threading.Lock()
        # Benchmarks run several systems over the same crops; they may share the peer's reads.
        self._cache: dict[bytes, tuple[str, float]] | None = {} if cache else None

    @property
    def rec(self) -> Any:
        if self._rec is None:
            with self._lock:
                if self._rec is None:
                    from rapidocr import RapidOCR

                    engine = RapidOCR(
                        params={
                            "Global.log_level": "error",
                            # rapidocr's default takes every core and spins on them, which
                            # stalls when a worker or a second reader shares the machine; the
                            # peer gets our reader's threads.
                            "EngineConfig.onnxruntime.intra_op_num_threads": INFER_THREADS,
                            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                        }
                    )
                    self._rec = engine._load_rec_model()  # type: ignore[no-untyped-call]
        return self._rec

    def read(self, images: Sequence[np.ndarray]) -> list[tuple[str, float]]:
        """(text, score) per RGB image, in order."""
        if not images:
            return []
        from rapidocr.ch_ppocr_rec.typings import TextRecInput

        keys = [_key(im) for im in images]
        cache = self._cache if self._cache is not None else {}
        todo = [k for k, key in enumerate(keys) if key not in cache]
        if todo:
            bgr = [cv2.cvtColor(np.ascontiguousarray(images[k]), cv2.COLOR_RGB2BGR) for k in todo]
            out = self.rec(TextRecInput(img=bgr))
            for k, t, s in zip(todo, out.txts, out.scores, strict=True):
                cache[keys[k]] = (str(t), float(s))
        return [cache[key] for key in keys]


def _key(image: np.ndarray) -> bytes:
    arr = np.ascontiguousarray(image)
    return hashlib.sha1(arr.tobytes(), usedforsecurity=False).digest() + str(arr.shape).encode()


def peer_candidates(text: str, score: float) -> list[Candidate]:
    """The peer's text as plate candidates: the whole of it and its pieces without band words."""
    words = [normalise_plate(w) for w in text.replace("-", " ").split()]
    words = [w for w in words if w]
    kept = [w for w in words if w not in NOISE_TOKENS]
    texts = {"".join(words): score, "".join(kept): score * PIECE_FACTOR}
    for w in kept:
        texts.setdefault(w, score * PIECE_FACTOR)
    for noise in NOISE_TOKENS:  # a band word glued to the number: "UAIE0487KK"
        joined = "".join(words)
        if joined.startswith(noise):
            texts.setdefault(joined[len(noise) :], score * PIECE_FACTOR)
    out = []
    for t, s in texts.items():
        t = "".join(ch for ch in t if ch.isalnum())
        if t:
            out.append(
                Candidate(t, s * PEER_WEIGHT, tuple(((ch, s),) for ch in t), source="rapidocr")
            )
    return out


def peer_options(
    peer: RapidPeer,
    crops: Sequence[np.ndarray],
    hints: Sequence[FormatHint],
    by_rows: Sequence[bool] | None = None,
) -> list[list[tuple[list[Candidate], FormatHint]]]:
    """The peer's ways of reading each crop, shaped like `PlateReader.candidates`; `by_rows[k]`
    says whether crop k is also read row by row (default: when its hint says it may be)."""
    jobs: list[tuple[int, str, np.ndarray]] = []
    for k, (crop, hint) in enumerate(zip(crops, hints, strict=True)):
        jobs.append((k, "whole", crop))
        if hint.two_line if by_rows is None else by_rows[k]:
            for j, split in enumerate(row_splits(crop)):
                jobs += [(k, f"{j}:{i}", row) for i, row in enumerate(split)]
    reads = peer.read([j[2] for j in jobs])
    parts: list[dict[str, tuple[str, float]]] = [{} for _ in crops]
    for (k, part, _), read in zip(jobs, reads, strict=True):
        parts[k][part] = read
    out = []
    for p, hint in zip(parts, hints, strict=True):
        options = [(peer_candidates(*p["whole"]), FormatHint(hint.priors, two_line=False))]
        for rows in row_groups(p):
            text = "".join(t for t, _ in rows)
            score = float(np.prod([s for _, s in rows]))
            options.append(
                (
                    peer_candidates(text, score),
                    FormatHint(hint.priors, two_line=True, rows=len(rows)),
                )
            )
        out.append(options)
    return out


def consult_peer(
    peer: RapidPeer,
    crops: Sequence[np.ndarray],
    ours: Sequence[list[tuple[list[Candidate], FormatHint]]],
    own: Sequence[OcrResult],
    consult_below: float,
    formats: Collection[str] | None = None,
) -> list[OcrResult]:
    """`own` (our reader's results from its candidates `ours`), with the peer's candidates
    merged in for the crops whose reading is invalid or below `consult_below`."""
    results = list(own)
    unsure = [k for k, r in enumerate(own) if not r.valid or r.confidence < consult_below]
    if not unsure:
        return results
    sub = [crops[k] for k in unsure]
    # The peer reads row by row exactly where our reader did, so the options pair up.
    read_rows = [len(ours[k]) > 1 for k in unsure]
    theirs = peer_options(peer, sub, [format_hint(c) for c in sub], read_rows)
    for k, b in zip(unsure, theirs, strict=True):
        merged = [(ca + cb, ha) for (ca, ha), (cb, _) in zip(ours[k], b, strict=True)]
        results[k] = best_of(merged, formats)
    return results


def peer_only(
    peer: RapidPeer,
    crops: Sequence[np.ndarray],
    hints: Sequence[FormatHint],
    formats: Collection[str] | None = None,
) -> list[OcrResult]:
    return [best_of(opts, formats) for opts in peer_options(peer, crops, hints)]
