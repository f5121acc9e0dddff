"""An int8 graph of the exported plate reader, for faster inference on the CPU.

    python -m recognition.training.reader.quantize --models models/ocr --data ../shared/datasets

Static quantisation with onnxruntime: the convolutions' weights per channel and their inputs are
stored as int8, with activation ranges calibrated on `--calibration` training lines (real
`train` crops and synthetic plates of the Ukrainian formats; never a validation image). The
attention blocks' MatMuls stay float. Measured with round 4's weights on the 415 real val crops
of the training validation (best path, busy machine): float 0.942 exact in 9.0 s, int8
convolutions 0.937 in 6.7 s (1.34x; 1.5x on a batch bench), convolutions and MatMuls 0.928.
Percentile calibration (99.99) failed the reader's agreement check; leaving the first or the
last convolutions float did not read better (0.933, 0.925): the rest is calibration noise of a
few crops.

Writes `platereader.int8.onnx` beside the weights and records it in the manifest (`int8`: the
file, its sha256 and the sha256 of the float weights it was made from), which `PlateReader.load`
checks; a reader loaded with `int8=True` (or PLATECHECK_READER_INT8=1) then runs the int8 graph
through EasyOCR's network (`ppocr_net.Model.freeze`). It reads fewer lines exactly (round 5:
real val crops 0.937 against 0.964, synthetic Ukrainian 0.685 against 0.700, best path), so it
is a deployment's choice for speed, not the default. Re-exporting the weights drops the
record, so a stale int8 graph is never used.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import tempfile
from pathlib import Path

import numpy as np
import onnx

from recognition.datasets import load_real_crops
from recognition.pipeline.ocr import INT8_GRAPH, PlateReader
from recognition.pipeline.weights import MANIFEST, sha256_file
from recognition.synth.crops import synth_plate_crop

logger = logging.getLogger("recognition.training.reader.quantize")

# onnxruntime's per-channel DequantizeLinear needs opset 13; the PP-OCR graph is opset 11.
QUANT_OPSET = 17
QUANTISED_OPS = ("Conv",)
CALIBRATION_FORMATS = ("ua_2015", "ua_2004", "ua_square", "ua_transit", "ua_1995")


def calibration_lines(data_dir: Path, count: int, seed: int = 7) -> list[np.ndarray]:
    """RGB crops to calibrate on: two thirds real train crops, a third synthetic plates."""
    rng = random.Random(seed)
    real = load_real_crops(data_dir, "train")
    rng.shuffle(real)
    lines = [c.image for c in real[: count * 2 // 3]]
    while len(lines) < count:
        fmt = CALIBRATION_FORMATS[len(lines) % len(CALIBRATION_FORMATS)]
        crop, _, _ = synth_plate_crop(fmt, rng, yaw=rng.uniform(-50, 50))
        lines.append(crop)
    return lines


def quantize(models_dir: Path, data_dir: Path, count: int = 300) -> dict:
    """Write the int8 graph of the reader in `models_dir` and record it in its manifest."""
    from onnx import version_converter
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    reader = PlateReader.load(models_dir, int8=False)  # the float weights are quantised
    network = reader.easyocr_reader.recognizer
    name = network.skeleton.graph.input[0].name
    batches = [reader.network_input([line]) for line in calibration_lines(data_dir, count)]

    class Lines(CalibrationDataReader):
        def __init__(self) -> None:
            self.pending = iter(batches)

        def get_next(self) -> dict[str, np.ndarray] | None:
            batch = next(self.pending, None)
            return None if batch is None else {name: batch}

    float_graph = version_converter.convert_version(network.to_onnx(), QUANT_OPSET)
    target = models_dir / INT8_GRAPH
    with tempfile.TemporaryDirectory() as tmp:
        plain, prepared = Path(tmp) / "float.onnx", Path(tmp) / "prepared.onnx"
        onnx.save(float_graph, str(plain))
        quant_pre_process(str(plain), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(target),
            Lines(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            op_types_to_quantize=list(QUANTISED_OPS),
        )
    manifest_path = models_dir / MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest["int8"] = {
        "file": INT8_GRAPH,
        "sha256": sha256_file(target),
        "from_weights": manifest["sha256"],
        "ops": list(QUANTISED_OPS),
        "calibration": f"{count} lines: real train crops and synthetic Ukrainian plates",
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    logger.info("wrote %s (%.1f MB)", target, target.stat().st_size / 1e6)
    return manifest


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=Path("models/ocr"))
    parser.add_argument("--data", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--calibration", type=int, default=300, help="lines to calibrate on")
    args = parser.parse_args()
    quantize(args.models, args.data, args.calibration)


if __name__ == "__main__":
    main()
