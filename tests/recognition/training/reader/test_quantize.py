"""The reader's int8 graph: made from the exported weights, recorded in the manifest, run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from recognition.pipeline.ocr import PlateReader
from recognition.pipeline.weights import sha256_file
from recognition.training.reader.quantize import quantize

MODELS = Path(__file__).resolve().parents[4] / "models" / "ocr"


def test_quantize_writes_a_graph_of_these_weights_that_the_reader_runs(tmp_path: Path) -> None:
    # given an exported reader without an int8 graph
    folder = tmp_path / "ocr"
    shutil.copytree(MODELS, folder, ignore=shutil.ignore_patterns("__pycache__", "*.int8.onnx"))
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["int8"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    # when it is quantised (no dataset folder: synthetic calibration lines only)
    written = quantize(folder, tmp_path / "no-datasets", count=12)
    # then the manifest names the graph and the weights it was made from
    assert written["int8"]["from_weights"] == manifest["sha256"]
    assert (folder / written["int8"]["file"]).stat().st_size < 25_000_000
    # and the reader loads it, checks it and reads through it
    reader = PlateReader.load(folder, int8=True)
    assert reader.easyocr_reader.recognizer.session is not None
    int8_path = folder / written["int8"]["file"]
    assert reader.manifest["int8"]["sha256"] == sha256_file(int8_path)
