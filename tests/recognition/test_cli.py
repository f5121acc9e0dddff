"""`python -m recognition recognize`, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "webapp/listings/sample_data/photos/AA1234BB_a.jpg"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "recognition", "recognize", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_it_prints_the_plate_of_the_shipped_sample_photo(tmp_path):
    overlay = tmp_path / "overlay.png"
    result = _run(str(SAMPLE), "--overlay", str(overlay))
    assert result.returncode == 0, result.stderr
    assert "AA1234BB" in result.stdout
    assert Image.open(overlay).size == Image.open(SAMPLE).size


def test_it_prints_json_with_corners(tmp_path):
    result = _run(str(SAMPLE), "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    plate = payload[0]["plates"][0]
    assert plate["text"] == "AA1234BB"
    assert plate["format"].startswith("ua")
    assert len(plate["corners"]) == 4


def test_the_copy_fit_to_publish_hides_the_plate_from_the_engine_itself(tmp_path):
    hidden = tmp_path / "hidden.png"
    result = _run(str(SAMPLE), "--json", "--hidden", str(hidden))
    assert result.returncode == 0, result.stderr
    (photo,) = json.loads(result.stdout)
    read = [area["corners"] for area in photo["areas"] if area["read"]]
    assert photo["plates"][0]["corners"] in read  # (a second cut of the same plate is hidden too)
    assert Image.open(hidden).size == Image.open(SAMPLE).size
    again = _run(str(hidden), "--json")
    assert again.returncode == 0, again.stderr
    (copy,) = json.loads(again.stdout)
    texts = [p["text"] for p in copy["plates"]] + [r["text"] for r in copy["debug"]["rejected"]]
    assert not any("1234" in text for text in texts), texts


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"%PDF-1.4 not a photo", "not an image"),
        (SAMPLE.read_bytes()[:3000], "corrupt or truncated"),
    ],
    ids=["empty", "non-image", "truncated"],
)
def test_bad_input_gets_a_clear_message_not_a_traceback(tmp_path, content, message):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(content)
    result = _run(str(bad))
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_photo_without_a_plate_gives_an_empty_list(tmp_path):
    empty = tmp_path / "wall.png"
    Image.fromarray(np.full((400, 600, 3), 200, np.uint8)).save(empty)
    result = _run(str(empty), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["plates"] == []


def test_the_engine_is_reported_unavailable_without_weights(tmp_path):
    result = _run(str(SAMPLE), "--models", str(tmp_path))
    assert result.returncode == 2
    assert "engine unavailable" in result.stderr
