"""Turn rapidocr's pretrained PP-OCR recogniser into the plate reader's trainable starting point.

    python -m recognition.training.reader.ppocr_convert --out runs/ppocr

The rapidocr wheel ships `PP-OCRv6_rec_small.onnx` (PaddleOCR, Apache-2.0): a PP-LCNet backbone,
an SVTR neck and a CTC head over 18,710 classes. onnx2torch refuses its `SAME_UPPER` auto-pads,
and symmetric pads would break a later Concat, so each one is rewritten as the explicit pads that
`SAME_UPPER` means for a fixed input size (from `onnx.shape_inference`). The head keeps only the
pretrained rows for blank, 0-9 and A-Z, and the final Softmax goes (CTC training wants logits;
EasyOCR applies its own softmax).

Writes `skeleton.onnx` (the graph with every initializer's data stripped: the network's shape,
which `ppocr_net.Model` rebuilds with onnx2torch) and `init.pth` (the pretrained weights as a
state dict of that module, for `recognition.training.reader.train --init-from`).
"""

from __future__ import annotations

import argparse
import logging
import math
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper, shape_inference

from recognition.pipeline import ppocr_net
from recognition.pipeline.ocr_input import LINE_H, LINE_W

logger = logging.getLogger("recognition.training.reader.ppocr_convert")

CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
HEAD_WEIGHT, HEAD_BIAS = "linear_8.w_0", "linear_8.b_0"
POOLS_AND_CONVS = ("Conv", "MaxPool", "AveragePool")


def rapidocr_rec_path() -> Path:
    import rapidocr

    return Path(rapidocr.__file__).parent / "models" / "PP-OCRv6_rec_small.onnx"


def _fix_input(model: onnx.ModelProto, height: int, width: int) -> None:
    dims = model.graph.input[0].type.tensor_type.shape.dim
    dims[0].dim_param = "batch"
    dims[2].dim_value, dims[3].dim_value = height, width


def _shapes(model: onnx.ModelProto) -> dict[str, list[int]]:
    inferred = shape_inference.infer_shapes(model)
    out: dict[str, list[int]] = {}
    for info in (*inferred.graph.value_info, *inferred.graph.input, *inferred.graph.output):
        out[info.name] = [d.dim_value for d in info.type.tensor_type.shape.dim]
    return out


def _same_upper_pads(size: list[int], kernel: list[int], strides: list[int]) -> list[int]:
    """ONNX `SAME_UPPER`: output = ceil(in / stride); the odd pixel of padding goes at the end."""
    begins, ends = [], []
    for n, k, s in zip(size, kernel, strides, strict=True):
        total = max((math.ceil(n / s) - 1) * s + k - n, 0)
        begins.append(total // 2)
        ends.append(total - total // 2)
    return begins + ends


def explicit_pads(model: onnx.ModelProto) -> int:
    """Rewrite every SAME_UPPER auto-pad as explicit pads; returns how many were rewritten."""
    shapes = _shapes(model)
    weights = {i.name: list(i.dims) for i in model.graph.initializer}
    rewritten = 0
    for node in model.graph.node:
        attrs = {a.name: a for a in node.attribute}
        if node.op_type not in POOLS_AND_CONVS or "auto_pad" not in attrs:
            continue
        if attrs["auto_pad"].s != b"SAME_UPPER":
            continue
        size = shapes[node.input[0]][2:]
        if "kernel_shape" in attrs:
            kernel = list(attrs["kernel_shape"].ints)
        else:
            kernel = weights[node.input[1]][2:]
        dilations = list(attrs["dilations"].ints) if "dilations" in attrs else [1] * len(kernel)
        kernel = [(k - 1) * d + 1 for k, d in zip(kernel, dilations, strict=True)]
        strides = list(attrs["strides"].ints) if "strides" in attrs else [1] * len(kernel)
        keep = [a for a in node.attribute if a.name not in ("auto_pad", "pads")]
        del node.attribute[:]
        node.attribute.extend(keep)
        node.attribute.append(
            helper.make_attribute("pads", _same_upper_pads(size, kernel, strides))
        )
        rewritten += 1
    return rewritten


def head_rows(model: onnx.ModelProto, charset: str = CHARSET) -> list[int]:
    """Indices of blank and of each character of `charset` in the pretrained head."""
    meta = {p.key: p.value for p in model.metadata_props}
    characters = meta["character"].split("\n")
    index = {ch: i + 1 for i, ch in enumerate(characters)}  # 0 is CTC blank
    return [0, *(index[ch] for ch in charset)]


def cut_head(model: onnx.ModelProto, rows: list[int]) -> None:
    """Keep the pretrained head's rows for blank and the plate alphabet; drop the Softmax."""
    for init in model.graph.initializer:
        if init.name == HEAD_WEIGHT:
            init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init)[:, rows], init.name))
        elif init.name == HEAD_BIAS:
            init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init)[rows], init.name))
    last = model.graph.node[-1]
    if last.op_type != "Softmax":
        raise ValueError(f"expected the graph to end in Softmax, found {last.op_type}")
    logits = last.input[0]
    model.graph.node.remove(last)
    output = model.graph.output[0]
    output.name = logits
    output.type.tensor_type.shape.dim[2].dim_value = len(rows)


def prepared(source: Path, height: int = LINE_H, width: int = LINE_W) -> onnx.ModelProto:
    """The pretrained graph at a fixed input size, explicit pads, plate head, logits out."""
    model = onnx.load(str(source))
    _fix_input(model, height, width)
    rewritten = explicit_pads(model)
    rows = head_rows(model)
    cut_head(model, rows)
    del model.graph.value_info[:]  # shapes inferred for the 18,710-class head
    onnx.checker.check_model(model)
    logger.info(
        "%s: %d SAME_UPPER pads made explicit, head cut to %d", source, rewritten, len(rows)
    )
    return model


# Float initializers at least this large are learnt weights; smaller ones (and integer ones:
# shapes, slice bounds) are the graph's own constants and must keep their values.
STRIP_MIN_ELEMENTS = 32


def strip_weights(model: onnx.ModelProto) -> onnx.ModelProto:
    """The graph alone: learnt weights keep their name, type and shape, not their data."""
    skeleton = onnx.ModelProto()
    skeleton.CopyFrom(model)
    for init in skeleton.graph.initializer:
        if init.data_type != onnx.TensorProto.FLOAT or math.prod(init.dims) < STRIP_MIN_ELEMENTS:
            continue
        init.ClearField("raw_data")
        for field in ("float_data", "int32_data", "int64_data", "double_data"):
            init.ClearField(field)
    return skeleton


def onnxruntime_logits(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return np.asarray(session.run(None, {session.get_inputs()[0].name: x})[0])


def convert(source: Path, output_dir: Path) -> dict[str, float]:
    model = prepared(source)
    output_dir.mkdir(parents=True, exist_ok=True)
    onnx.save(strip_weights(model), str(output_dir / ppocr_net.SKELETON))
    net = ppocr_net.Model(
        num_class=len(CHARSET) + 1, graph_file=str((output_dir / ppocr_net.SKELETON).resolve())
    )
    ppocr_net.load_onnx_weights(net, model)
    net.eval()
    torch.save(net.state_dict(), output_dir / "init.pth")
    x = np.random.default_rng(0).uniform(-1, 1, (2, 3, LINE_H, LINE_W)).astype(np.float32)
    with torch.no_grad():
        ours = net(torch.from_numpy(x)).numpy()
    diff = float(np.abs(ours - onnxruntime_logits(model, x)).max())
    logger.info("converted: max |torch - onnxruntime| = %.2e over logits %s", diff, ours.shape)
    return {"max_abs_diff": diff}


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Convert rapidocr's PP-OCR recogniser", add_help=add_help
    )
    p.add_argument("--source", default=None, type=Path, help="the .onnx (default: rapidocr's)")
    p.add_argument("--out", default="runs/ppocr", type=Path)
    return p


def main(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    convert(args.source or rapidocr_rec_path(), args.out)


if __name__ == "__main__":
    main(get_args_parser().parse_args())
