"""A tiny detection set on disk: `openalpr_endtoend` labels of train and val photos."""

from __future__ import annotations

import json
from pathlib import Path


def write_detection_set(root: Path, *, train: int, val: int) -> Path:
    """Labels (no images) of `train` then `val` photos named `train0.jpg`, `val0.jpg`, ..., each
    with one boxed plate, under `root/openalpr_endtoend`; returns that folder."""
    folder = root / "openalpr_endtoend"
    folder.mkdir()
    rows = [
        {"image": f"{split}{k}.jpg", "split": split, "plates": [{"box": [1, 1, 9, 5]}]}
        for split, n in (("train", train), ("val", val))
        for k in range(n)
    ]
    (folder / "labels.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder
