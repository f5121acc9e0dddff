from __future__ import annotations

import numpy as np

from recognition.pipeline.ctc import best_path, variants

CHARSET = "0123456789"


def frames(*steps: dict[str, float]) -> np.ndarray:
    """(time, classes) probabilities; each step names its classes ('-' the blank), the rest of
    the mass spread on no class (so a step need not sum to one)."""
    probs = np.full((len(steps), len(CHARSET) + 1), 1e-4, np.float32)
    for t, step in enumerate(steps):
        for ch, p in step.items():
            probs[t, 0 if ch == "-" else CHARSET.index(ch) + 1] = p
    return probs


def texts(probs: np.ndarray) -> dict[str, float]:
    return {c.text: c.score for c in variants(best_path(probs, CHARSET))}


def test_a_run_with_a_likely_blank_inside_is_also_read_as_the_character_twice() -> None:
    # "9666" whose middle frames of the last two 6s lean to the 6, the blank a close second
    read = texts(frames({"9": 1.0}, {"-": 1.0}, {"6": 1.0}, {"6": 0.64, "-": 0.36}, {"6": 0.99}))
    assert set(read) == {"96", "966"}
    assert read["966"] < read["96"]
    assert abs(read["966"] / read["96"] - 0.36 / 0.64) < 1e-3


def test_a_run_without_a_likely_blank_stays_one_character() -> None:
    read = texts(frames({"9": 1.0}, {"-": 1.0}, {"6": 1.0}, {"6": 0.95, "-": 0.05}, {"6": 0.99}))
    assert set(read) == {"96"}


def test_a_blank_at_the_end_of_a_run_does_not_double_it() -> None:
    # the run's own ends take no blank inside it: two frames hold one 6
    read = texts(frames({"9": 1.0}, {"6": 0.6, "-": 0.4}, {"6": 0.6, "-": 0.4}, {"-": 1.0}))
    assert "96" in read
    assert "966" not in read
