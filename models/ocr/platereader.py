"""The plate reader's network: PaddleOCR's pretrained PP-OCR recogniser, in EasyOCR's custom layout.

EasyOCR imports this file by name from its `user_network_directory` (the export copies it there
as `platereader.py`) and builds `Model(num_class=..., **network_params)` from the yaml, then loads
`platereader.pth` into it. The network's shape lives beside it in `platereader.onnx`: the
converted PP-OCR graph (`recognition.training.reader.ppocr_convert`) with its weights stripped,
which onnx2torch turns back into a torch module here, so the architecture is PaddleOCR's own
rather than a hand copy of it. Self-contained: torch, numpy, onnx and onnx2torch only.

EasyOCR feeds one grey channel normalised to [-1, 1]; PP-OCR was trained on three channels with
the same normalisation, so the grey channel is repeated.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn

SKELETON = "skeleton.onnx"
# onnx2torch's Slice indexes with a list, which torch still accepts but warns about on every
# forward pass; tests/recognition/training/reader/test_ppocr_convert.py compares the module with
# onnxruntime, so a change of meaning would fail there rather than pass silently.
warnings.filterwarnings(
    "ignore",
    message="Using a non-tuple sequence for multidimensional indexing",
    category=UserWarning,
)


def _materialise(skeleton: onnx.ModelProto) -> onnx.ModelProto:
    """Give each stripped initializer zeros of its shape, so onnx2torch can build the modules."""
    model = onnx.ModelProto()
    model.CopyFrom(skeleton)
    for init in model.graph.initializer:
        if not init.raw_data:
            dtype = onnx.helper.tensor_dtype_to_np_dtype(init.data_type)
            zeros = np.zeros(tuple(init.dims), dtype=dtype)
            init.CopyFrom(numpy_helper.from_array(zeros, init.name))
    return model


def _trainable(module: nn.Module) -> None:
    """onnx2torch keeps weights used by MatMul/Add as buffers; make every float one trainable."""
    for sub in module.modules():
        if isinstance(sub, nn.modules.batchnorm._BatchNorm):
            continue  # running statistics, not weights
        for name, buf in list(sub.named_buffers(recurse=False)):
            if buf is not None and buf.is_floating_point() and buf.numel() > 1:
                del sub._buffers[name]
                sub.register_parameter(name, nn.Parameter(buf.clone()))


def input_size(model: onnx.ModelProto) -> tuple[int, int]:
    """The (height, width) the graph was fixed at."""
    dims = model.graph.input[0].type.tensor_type.shape.dim
    return int(dims[2].dim_value), int(dims[3].dim_value)


def build_graph(model: onnx.ModelProto) -> nn.Module:
    from onnx2torch import convert

    graph: nn.Module = convert(_materialise(model))
    _trainable(graph)
    return graph


class Model(nn.Module):
    def __init__(self, num_class: int, graph_file: str = SKELETON, **_: object) -> None:
        super().__init__()
        path = Path(graph_file)
        if not path.is_absolute():
            path = Path(__file__).resolve().parent / path
        skeleton = onnx.load(str(path))
        self.graph = build_graph(skeleton)
        classes = self.graph(torch.zeros(1, 3, *input_size(skeleton))).shape[-1]
        if classes != num_class:
            raise ValueError(f"{path} has {classes} classes, the character list {num_class}")

    def forward(self, input: torch.Tensor, text: torch.Tensor | None = None) -> torch.Tensor:  # noqa: A002
        """Logits (batch, time, classes); `text` is unused (EasyOCR's signature)."""
        if input.shape[1] == 1:
            input = input.expand(-1, 3, -1, -1)  # noqa: A001
        out: torch.Tensor = self.graph(input)
        return out


def load_onnx_weights(net: Model, model: onnx.ModelProto) -> None:
    """Copy the weights of a full (unstripped) graph of the same shape into `net`."""
    from onnx2torch import convert

    net.graph.load_state_dict(convert(model).state_dict())
