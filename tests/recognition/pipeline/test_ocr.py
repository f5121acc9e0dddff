from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from recognition.pipeline import ppocr_net
from recognition.pipeline.ocr import OcrResult, PlateReader
from recognition.pipeline.ocr_input import LINE_H, LINE_W, split_lines
from recognition.pipeline.rectify import SQUARE_SIZE, WIDE_SIZE
from recognition.pipeline.types import EngineUnavailable, WeightsRejected
from recognition.synth.plates import render_plate

MODELS = Path(__file__).resolve().parents[3] / "models" / "ocr"


@pytest.fixture(scope="module")
def reader() -> PlateReader:
    return PlateReader.load(MODELS)


def rendered_crops(fmt: str, n: int, seed: int) -> list[tuple[np.ndarray, str]]:
    """Clean rendered plates at the rectifier's output size."""
    rng = random.Random(seed)
    size = SQUARE_SIZE if fmt == "ua_square" else WIDE_SIZE
    out = []
    for _ in range(n):
        plate = render_plate(fmt, rng)
        out.append((cv2.resize(plate.image, size, interpolation=cv2.INTER_AREA), plate.text))
    return out


def test_it_loads_offline_from_models_and_reports_its_version(reader: PlateReader) -> None:
    assert reader.version.startswith("ocr-")
    assert reader.easyocr_reader.recognizer is not None


def test_its_onnxruntime_threads_do_not_spin_between_readings(reader: PlateReader) -> None:
    # the detector runs on the same cores between two readings; spinning threads slowed it by half
    session = reader.easyocr_reader.recognizer.session
    assert session is not None
    options = session.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert options.intra_op_num_threads == 2


# Brazilian Mercosul plates put a letter where the older grey ones have a digit (ABC1D23 vs
# ABC1234), and the real training crops are all grey ones, hence the lower bar.
@pytest.mark.parametrize(("fmt", "at_least"), [("ua_2015", 9), ("ua_2004", 9), ("br", 7)])
def test_it_reads_rendered_plates_exactly(reader: PlateReader, fmt: str, at_least: int) -> None:
    # given clean rendered plates
    samples = rendered_crops(fmt, 12, seed=7)
    # when
    results = reader.read_batch([crop for crop, _ in samples])
    # then most are read exactly (a modest threshold: the benchmark measures the real figure)
    exact = sum(r.text == text for r, (_, text) in zip(results, samples, strict=True))
    assert exact >= at_least, [(r.text, t) for r, (_, t) in zip(results, samples, strict=True)]
    assert all(isinstance(r, OcrResult) and len(r.char_confidences) == len(r.text) for r in results)


def test_it_reads_square_plates_line_by_line(reader: PlateReader) -> None:
    samples = rendered_crops("ua_square", 8, seed=11)
    results = reader.read_batch([crop for crop, _ in samples])
    exact = [r for r, (_, text) in zip(results, samples, strict=True) if r.text == text]
    assert len(exact) >= 5, [(r.text, t) for r, (_, t) in zip(results, samples, strict=True)]
    assert all(r.format == "ua_square" and len(r.lines) == 2 for r in exact)


def test_it_gives_alternatives_with_scores(reader: PlateReader) -> None:
    crop, _ = rendered_crops("ua_2015", 1, seed=3)[0]
    noisy = cv2.GaussianBlur(crop, (0, 0), 2.5)
    result = reader.read_batch([noisy])[0]
    assert len(result.alternatives) <= 3
    assert all(a.text != result.text and 0.0 <= a.score <= 1.0 for a in result.alternatives)


def test_easyocr_recognize_reads_the_same_text(reader: PlateReader) -> None:
    # The product's reader is EasyOCR: its own recognize() agrees with our batched path.
    for crop, _ in rendered_crops("ua_2004", 3, seed=5) + rendered_crops("ua_square", 1, seed=5):
        lines = split_lines(crop) if crop.shape[1] < 2 * crop.shape[0] else (crop,)
        for line in lines:
            text, _ = reader.recognize_line(line)
            assert text == reader.read_lines([line])[0].text


def test_it_refuses_a_crop_that_is_not_an_image(reader: PlateReader) -> None:
    with pytest.raises(ValueError, match="RGB image"):
        reader.read_batch([np.zeros((0, 0, 3), np.uint8)])


def test_it_reads_an_empty_batch(reader: PlateReader) -> None:
    assert reader.read_batch([]) == []


def test_weights_with_a_wrong_sha256_are_refused(tmp_path: Path) -> None:
    # given a copy of the reader whose manifest names another checksum
    folder = tmp_path / "ocr"
    shutil.copytree(MODELS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["sha256"] = "0" * 64
    (folder / "manifest.json").write_text(json.dumps(manifest))
    # when / then
    with pytest.raises(WeightsRejected, match="sha256"):
        PlateReader.load(folder)


def test_weights_for_another_input_size_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "ocr"
    shutil.copytree(MODELS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["input_size"] = [64, 256]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(WeightsRejected, match="input"):
        PlateReader.load(folder)


def test_a_missing_reader_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(EngineUnavailable, match="no trained weights"):
        PlateReader.load(tmp_path / "nothing-here")


def test_a_replaced_network_graph_is_refused(tmp_path: Path) -> None:
    # given a copy of the reader whose graph file was altered after export
    folder = tmp_path / "ocr"
    shutil.copytree(MODELS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    with (folder / "platereader.onnx").open("ab") as fh:
        fh.write(b"\0")
    # when / then
    with pytest.raises(WeightsRejected, match="graph"):
        PlateReader.load(folder)


def test_the_float_graph_is_the_default_and_int8_is_chosen(
    reader: PlateReader, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not reader.int8
    monkeypatch.setenv("PLATECHECK_READER_INT8", "1")
    assert PlateReader.load(MODELS).int8
    assert not PlateReader.load(MODELS, int8=False).int8


def test_int8_wanted_without_an_int8_graph_is_unavailable(tmp_path: Path) -> None:
    folder = tmp_path / "ocr"
    shutil.copytree(MODELS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["int8"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert not PlateReader.load(folder).int8
    with pytest.raises(EngineUnavailable, match="quantize"):
        PlateReader.load(folder, int8=True)


def test_the_shipped_reader_runs_its_int8_graph_when_chosen() -> None:
    # the manifest records an int8 graph of exactly the shipped weights, and inference uses it
    reader = PlateReader.load(MODELS, int8=True)
    int8 = reader.manifest["int8"]
    assert int8["from_weights"] == reader.manifest["sha256"]
    import onnx
    import onnxruntime as ort
    import torch

    graph = MODELS / int8["file"]
    assert "DequantizeLinear" in {node.op_type for node in onnx.load(str(graph)).graph.node}
    network = reader.easyocr_reader.recognizer
    lines = reader.network_input([crop for crop, _ in rendered_crops("ua_2015", 3, seed=5)])
    with torch.no_grad():
        used = network(torch.from_numpy(lines)).numpy()
        floats = network.graph(torch.from_numpy(lines)).numpy()
    direct = ort.InferenceSession(str(graph), providers=["CPUExecutionProvider"])
    expected = direct.run(None, {direct.get_inputs()[0].name: lines})[0]
    assert np.abs(used - expected).max() < 1e-4  # the int8 graph's own output
    assert np.abs(used - floats).max() > 1e-3  # not the float module's


@pytest.mark.parametrize(
    ("change", "why"),
    [("file", "int8 graph .* sha256"), ("from_weights", "other weights")],
)
def test_a_replaced_or_stale_int8_graph_is_refused(tmp_path: Path, change: str, why: str) -> None:
    # given a copy of the reader whose int8 graph was altered, or made from other weights
    folder = tmp_path / "ocr"
    shutil.copytree(MODELS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    manifest = json.loads((folder / "manifest.json").read_text())
    if change == "file":
        with (folder / manifest["int8"]["file"]).open("ab") as fh:
            fh.write(b"\0")
    else:
        manifest["int8"]["from_weights"] = "0" * 64
        (folder / "manifest.json").write_text(json.dumps(manifest))
    # when / then
    with pytest.raises(WeightsRejected, match=why):
        PlateReader.load(folder)


def test_an_int8_graph_that_reads_otherwise_is_not_run(reader: PlateReader, tmp_path: Path) -> None:
    # given the float graph of weights shifted as another training round would shift them,
    # offered as the int8 graph of the shipped weights
    import onnx
    import torch

    network = reader.easyocr_reader.recognizer
    skeleton = str(network.skeleton_path)
    other = ppocr_net.Model(num_class=len(reader.charset) + 1, graph_file=skeleton)
    other.load_state_dict(network.state_dict())
    with torch.no_grad():
        for p in other.parameters():
            p.add_(torch.randn_like(p) * p.std().nan_to_num(0.0))
    wrong = tmp_path / "wrong.onnx"
    onnx.save(other.to_onnx(), str(wrong))
    text = reader.network_input([crop for crop, _ in rendered_crops("ua_2015", 4, seed=3)])
    try:
        # when it is frozen with it, then the torch module stays in charge
        assert not network.freeze(1, graph=wrong, probe=text)
        assert network.session is None
    finally:
        int8 = reader.manifest["int8"]["file"]
        assert network.freeze(2, graph=MODELS / int8, probe=text)  # the shipped graph passes


def test_the_network_code_easyocr_loads_is_the_sources() -> None:
    # EasyOCR imports models/ocr/platereader.py by name; it must be the reviewed source file.
    source = Path(ppocr_net.__file__).read_bytes()
    assert (MODELS / "platereader.py").read_bytes() == source


def test_the_shipped_reader_starts_from_the_pretrained_network() -> None:
    manifest = json.loads((MODELS / "manifest.json").read_text())
    assert manifest["network_params"] == {"graph_file": "platereader.onnx"}
    assert "PP-OCR" in manifest["pretrained"]
    assert manifest["input_size"] == [LINE_H, LINE_W]
