"""The plate reader's network: PaddleOCR's pretrained PP-OCR recogniser, in EasyOCR's custom layout.

EasyOCR imports this file by name from its `user_network_directory` (the export copies it there
as `platereader.py`) and builds `Model(num_class=..., **network_params)` from the yaml, then loads
`platereader.pth` into it. The network's shape lives beside it in `platereader.onnx`: the
converted PP-OCR graph (`recognition.training.reader.ppocr_convert`) with its weights stripped,
which onnx2torch turns back into a torch module here, so the architecture is PaddleOCR's own
rather than a hand copy of it. Self-contained: torch, numpy, onnx and onnx2torch only.

EasyOCR feeds one grey channel normalised to [-1, 1]; PP-OCR was trained on three channels with
the same normalisation, so the grey channel is repeated.

Inference runs on onnxruntime once `freeze()` is called (the reader does, after EasyOCR has loaded
the weights): the current weights are written back into the skeleton graph, and a forward pass
without gradients goes through that session. On 2 CPU cores it is several times faster than the
onnx2torch module, whose many small operators each pay torch's dispatch cost. Training never
freezes, so every weight still trains in torch; `freeze()` checks the two paths agree before it
switches.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn

log = logging.getLogger(__name__)

SKELETON = "skeleton.onnx"
# onnxruntime and the torch module agree to about 2e-5 on these logits; far beyond that, the
# weights were not written back where they belong, and the torch path is kept.
FROZEN_MAX_DIFF = 1e-3
# An int8 graph cannot agree to the last digit, so it is held to the text instead: the class it
# picks at each time step, on lines of printed text (the caller's probe), must agree with the
# float module's this often.
INT8_MIN_AGREEMENT = 0.95
# onnx2torch's Slice indexes with a list, which torch still accepts but warns about on every
# forward pass; tests/recognition/training/reader/test_ppocr_convert.py compares the module with
# onnxruntime, so a change of meaning would fail there rather than pass silently.
warnings.filterwarnings(
    "ignore",
    message="Using a non-tuple sequence for multidimensional indexing",
    category=UserWarning,
)


def _stripped(init: onnx.TensorProto) -> bool:
    return not (init.raw_data or init.float_data or init.int64_data or init.int32_data)


def _materialise(skeleton: onnx.ModelProto) -> onnx.ModelProto:
    """Give each stripped initializer zeros of its shape, so onnx2torch can build the modules."""
    model = onnx.ModelProto()
    model.CopyFrom(skeleton)
    for init in model.graph.initializer:
        if _stripped(init):
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


def initializer_names(skeleton: onnx.ModelProto) -> dict[str, str]:
    """Which graph initializer each of the torch module's state entries was built from.

    onnx2torch does not keep the names, so every float initializer of more than one value gets
    a distinct random fill, and each state entry is matched to its fill by value.
    """
    from onnx2torch import convert

    probe = _materialise(skeleton)
    rng = np.random.default_rng(0)
    fills: dict[bytes, str] = {}
    for init in probe.graph.initializer:
        dtype = onnx.helper.tensor_dtype_to_np_dtype(init.data_type)
        if np.issubdtype(dtype, np.floating) and int(np.prod(init.dims)) > 1:
            values = rng.standard_normal(tuple(init.dims)).astype(dtype)
            fills[values.tobytes()] = init.name
            init.CopyFrom(numpy_helper.from_array(values, init.name))
    state = convert(probe).state_dict()
    return {k: fills[v.numpy().tobytes()] for k, v in state.items() if v.numpy().tobytes() in fills}


class Model(nn.Module):
    def __init__(self, num_class: int, graph_file: str = SKELETON, **_: object) -> None:
        super().__init__()
        path = Path(graph_file)
        if not path.is_absolute():
            path = Path(__file__).resolve().parent / path
        skeleton = onnx.load(str(path))
        self.skeleton = skeleton
        self.skeleton_path = path
        self.graph = build_graph(skeleton)
        self.session: Any = None  # onnxruntime, once frozen
        classes = self.graph(torch.zeros(1, 3, *input_size(skeleton))).shape[-1]
        if classes != num_class:
            raise ValueError(f"{path} has {classes} classes, the character list {num_class}")

    def forward(self, input: torch.Tensor, text: torch.Tensor | None = None) -> torch.Tensor:  # noqa: A002
        """Logits (batch, time, classes); `text` is unused (EasyOCR's signature)."""
        if input.shape[1] == 1:
            input = input.expand(-1, 3, -1, -1)  # noqa: A001
        if self._frozen_fits(input):
            feed = {self.session.get_inputs()[0].name: input.contiguous().numpy()}
            return torch.from_numpy(self.session.run(None, feed)[0])
        out: torch.Tensor = self.graph(input)
        return out

    def _frozen_fits(self, input: torch.Tensor) -> bool:  # noqa: A002
        """The session serves inference at the graph's fixed size; EasyOCR's own `recognize`
        may send other widths, which the torch module takes."""
        return (
            self.session is not None
            and not self.training
            and not torch.is_grad_enabled()
            and tuple(input.shape[2:]) == input_size(self.skeleton)
        )

    def to_onnx(self) -> onnx.ModelProto:
        """The skeleton graph carrying this module's current weights."""
        model = _materialise(self.skeleton)
        by_name = {init.name: init for init in model.graph.initializer}
        state = self.graph.state_dict()
        for key, name in initializer_names(self.skeleton).items():
            values = state[key].detach().cpu().numpy().astype(np.float32)
            by_name[name].CopyFrom(numpy_helper.from_array(values, name))
        return model

    def freeze(
        self, threads: int = 2, graph: Path | None = None, probe: np.ndarray | None = None
    ) -> bool:
        """Run inference on onnxruntime with the current weights; False (torch kept) when the
        two paths disagree. Puts the module in eval mode. Call again after changing the weights.

        `graph`: an int8 graph of these weights to run instead, held to INT8_MIN_AGREEMENT on
        `probe` (lines of text as the network takes them; random noise says nothing there).
        """
        import onnxruntime as ort

        self.eval()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # No busy-waiting between runs: the engine runs the detector (torch) between two
        # readings, and spinning reader threads took its cores (detection 150-170 ms a photo in
        # the pipeline against 102 alone, on 2 cores).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        model = Path(graph).read_bytes() if graph else self.to_onnx().SerializeToString()
        session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        if probe is None:
            probe = np.random.default_rng(1).uniform(-1, 1, (2, 3, *input_size(self.skeleton)))
        feed = torch.from_numpy(np.asarray(probe, dtype=np.float32))
        with torch.no_grad():
            expected = self.graph(feed).numpy()
        got = session.run(None, {session.get_inputs()[0].name: feed.numpy()})[0]
        if graph:
            error = 1.0 - float((got.argmax(-1) == expected.argmax(-1)).mean())
            agrees = error <= 1.0 - INT8_MIN_AGREEMENT
        else:
            error = float(np.abs(got - expected).max())
            agrees = error <= FROZEN_MAX_DIFF
        if not agrees:
            log.warning("onnxruntime differs from the torch module by %.2g; torch kept", error)
            self.session = None
            return False
        self.session = session
        return True


def load_onnx_weights(net: Model, model: onnx.ModelProto) -> None:
    """Copy the weights of a full (unstripped) graph of the same shape into `net`."""
    from onnx2torch import convert

    net.graph.load_state_dict(convert(model).state_dict())
