"""Reading CTC output: best path, per-character probabilities and nearby alternative texts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from recognition.pipeline.regions import Candidate

TOP_K = 3
# Characters below this probability are worth trying with their runner-up.
UNSURE = 0.9
# At most this many unsure characters are varied (2**n alternatives).
MAX_VARIED = 3
# A character held over three or more frames may be two of it, when a frame inside the run
# gives the blank (which separates repeats) at least this share of the character's probability.
SPLIT_MIN = 0.25


@dataclass(frozen=True)
class LineRead:
    """The reader's best path for one text line."""

    text: str
    score: float  # product of the characters' probabilities
    char_probs: tuple[tuple[tuple[str, float], ...], ...]  # per char top-k, read char first
    # (char index, blank / char probability) for a run of frames that could be the char twice
    splits: tuple[tuple[int, float], ...] = ()


def best_path(probs: np.ndarray, charset: str) -> LineRead:
    """Greedy CTC decoding of (time, classes) probabilities, class 0 = blank."""
    best = probs.argmax(axis=1)
    chars: list[tuple[tuple[str, float], ...]] = []
    runs: list[tuple[int, int]] = []  # each char's first and last frame
    prev, peak = 0, -1.0
    for t, idx in enumerate(best):
        if idx == 0:
            prev = 0
            continue
        p = float(probs[t, idx])
        if idx == prev:
            runs[-1] = (runs[-1][0], t)
            if p > peak:  # keep the frame where the repeated character is surest
                peak = p
                chars[-1] = _top_k(probs[t], charset)
            continue
        chars.append(_top_k(probs[t], charset))
        runs.append((t, t))
        prev, peak = idx, p
    text = "".join(c[0][0] for c in chars)
    score = float(np.prod([c[0][1] for c in chars])) if chars else 0.0
    return LineRead(text, score, tuple(chars), _splits(probs, best, runs))


def _splits(
    probs: np.ndarray, best: np.ndarray, runs: Sequence[tuple[int, int]]
) -> tuple[tuple[int, float], ...]:
    """The runs that could be their character twice: a blank at a frame inside the run (not
    at its ends) separates two repeats, at the cost of that frame's blank / char ratio."""
    out = []
    for i, (first, last) in enumerate(runs):
        if last - first < 2:
            continue
        inner = np.arange(first + 1, last)
        ratio = float((probs[inner, 0] / np.maximum(probs[inner, best[first]], 1e-9)).max())
        if ratio >= SPLIT_MIN:
            out.append((i, min(ratio, 1.0)))
    return tuple(out)


def _top_k(frame: np.ndarray, charset: str) -> tuple[tuple[str, float], ...]:
    order = np.argsort(frame[1:])[::-1][:TOP_K]
    return tuple((charset[i], float(frame[i + 1])) for i in order)


def variants(line: LineRead) -> list[Candidate]:
    """The best path and its runner-up substitutions at the least sure characters."""
    out = [Candidate(line.text, line.score, line.char_probs)]
    unsure = sorted(
        (c[0][1], i) for i, c in enumerate(line.char_probs) if c[0][1] < UNSURE and len(c) > 1
    )
    for _, i in unsure[:MAX_VARIED]:
        for cand in list(out):
            chars = list(cand.text)
            probs = list(cand.char_probs)
            alt, p_alt = probs[i][1]
            chars[i] = alt
            probs[i] = (probs[i][1], probs[i][0], *probs[i][2:])
            score = cand.score / max(probs[i][1][1], 1e-9) * p_alt
            out.append(Candidate("".join(chars), score, tuple(probs)))
    for i, ratio in sorted(line.splits, reverse=True):  # later first: earlier indices hold
        out += [_doubled(cand, i, ratio) for cand in list(out)]
    return out


def _doubled(cand: Candidate, i: int, ratio: float) -> Candidate:
    """`cand` with its `i`-th character read twice (a run split by a blank, `_splits`); a
    substitution of that character doubles as it stands."""
    probs = (*cand.char_probs[: i + 1], *cand.char_probs[i:])
    return Candidate(cand.text[: i + 1] + cand.text[i:], cand.score * ratio, probs)


def join_rows(rows: Sequence[list[Candidate]], limit: int = 4) -> list[Candidate]:
    """Candidates of a plate of several rows: the rows' texts joined top to bottom, best first.

    The format rules put the rows in the plate's canonical order (`PlateFormat.to_canonical`).
    """
    out = [Candidate("", 1.0, ())]
    for row in rows:
        out = [
            Candidate(a.text + b.text, a.score * b.score, a.char_probs + b.char_probs)
            for a in out
            for b in row[:limit]
        ]
        out = sorted(out, key=lambda c: c.score, reverse=True)[: limit * limit]
    return out if rows else []


def join_lines(top: list[Candidate], bottom: list[Candidate], limit: int = 4) -> list[Candidate]:
    """Two-line plate candidates: top line text followed by bottom line text."""
    return join_rows([top, bottom], limit)
