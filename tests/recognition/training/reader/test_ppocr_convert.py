from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
from onnx import numpy_helper

from recognition.pipeline import ppocr_net
from recognition.pipeline.ocr_input import LINE_H, LINE_W
from recognition.training.reader.ppocr_convert import (
    CHARSET,
    HEAD_BIAS,
    HEAD_WEIGHT,
    head_rows,
    onnxruntime_logits,
    prepared,
    rapidocr_rec_path,
    strip_weights,
)


@pytest.fixture(scope="module")
def original() -> onnx.ModelProto:
    return onnx.load(str(rapidocr_rec_path()))


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> tuple[onnx.ModelProto, ppocr_net.Model]:
    model = prepared(rapidocr_rec_path())
    folder = tmp_path_factory.mktemp("ppocr")
    onnx.save(strip_weights(model), str(folder / ppocr_net.SKELETON))
    net = ppocr_net.Model(num_class=len(CHARSET) + 1, graph_file=str(folder / ppocr_net.SKELETON))
    ppocr_net.load_onnx_weights(net, model)
    return model, net.eval()


def _initializer(model: onnx.ModelProto, name: str) -> np.ndarray:
    return next(numpy_helper.to_array(i) for i in model.graph.initializer if i.name == name)


def test_the_converted_network_matches_onnxruntime(converted) -> None:
    # given the pretrained graph at the reader's input size, converted to torch
    model, net = converted
    x = np.random.default_rng(3).uniform(-1, 1, (2, 3, LINE_H, LINE_W)).astype(np.float32)
    # when both run the same input
    with torch.no_grad():
        ours = net(torch.from_numpy(x)).numpy()
    theirs = onnxruntime_logits(model, x)
    # then the logits agree (float32 rounding only) over the plate alphabet plus blank
    assert ours.shape == theirs.shape == (2, LINE_W // 8, len(CHARSET) + 1)
    assert np.abs(ours - theirs).max() < 1e-3


def test_grey_input_is_read_as_three_equal_channels(converted) -> None:
    _, net = converted
    grey = torch.rand(1, 1, LINE_H, LINE_W) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(net(grey), net(grey.expand(-1, 3, -1, -1)))


def test_cutting_the_head_keeps_the_pretrained_rows(original, converted) -> None:
    # given the original 18,710-class head and the cut one
    model, _ = converted
    rows = head_rows(original)
    # then the rows kept are blank (0) and each plate character's own pretrained row
    characters = {p.key: p.value for p in original.metadata_props}["character"].split("\n")
    assert rows[0] == 0
    assert [characters[i - 1] for i in rows[1:]] == list(CHARSET)
    np.testing.assert_array_equal(
        _initializer(model, HEAD_WEIGHT), _initializer(original, HEAD_WEIGHT)[:, rows]
    )
    np.testing.assert_array_equal(
        _initializer(model, HEAD_BIAS), _initializer(original, HEAD_BIAS)[rows]
    )


def test_every_weight_is_trainable_and_gets_a_gradient(converted) -> None:
    _, net = converted
    net.train()
    try:
        net(torch.rand(2, 1, LINE_H, LINE_W)).logsumexp(-1).mean().backward()
        params = list(net.named_parameters())
        assert sum(p.numel() for _, p in params) > 1_000_000
        assert [name for name, p in params if p.grad is None] == []
    finally:
        net.eval()
        net.zero_grad(set_to_none=True)


def test_no_same_upper_padding_is_left(converted) -> None:
    model, _ = converted
    auto_pads = [a.s for n in model.graph.node for a in n.attribute if a.name == "auto_pad"]
    assert b"SAME_UPPER" not in auto_pads


def test_the_skeleton_keeps_no_learnt_weights(converted) -> None:
    model, _ = converted
    skeleton = strip_weights(model)
    assert skeleton.ByteSize() < model.ByteSize() / 20


def test_frozen_inference_runs_the_trained_weights_on_onnxruntime(converted) -> None:
    # given the converted network with weights changed as fine-tuning would change them
    _, net = converted
    tuned = ppocr_net.Model(num_class=len(CHARSET) + 1, graph_file=str(net.skeleton_path))
    tuned.load_state_dict(net.state_dict())
    with torch.no_grad():
        for p in tuned.parameters():
            p.mul_(1.01).add_(0.001)
    tuned.eval()
    x = torch.from_numpy(np.random.default_rng(5).uniform(-1, 1, (3, 1, LINE_H, LINE_W))).float()
    with torch.no_grad():
        expected = tuned(x).numpy()
    # when it is frozen for inference
    assert tuned.freeze(threads=1)
    # then a forward pass without gradients goes through onnxruntime and gives the tuned logits
    assert tuned.session is not None
    with torch.no_grad():
        got = tuned(x).numpy()
    assert np.abs(got - expected).max() < 1e-3
    assert np.abs(got - net(x).detach().numpy()).max() > 1e-3  # not the untuned weights
    # and with gradients on (training), the torch module still runs
    out = tuned(x)
    assert out.requires_grad


def test_freezing_refuses_weights_written_to_the_wrong_places(converted, monkeypatch) -> None:
    _, net = converted
    tuned = ppocr_net.Model(num_class=len(CHARSET) + 1, graph_file=str(net.skeleton_path))
    tuned.load_state_dict(net.state_dict())
    names = ppocr_net.initializer_names(tuned.skeleton)
    # two same-shaped weights swapped: the graph would run, but read nonsense
    by_shape: dict[tuple[int, ...], list[str]] = {}
    state = tuned.graph.state_dict()
    for key in names:
        by_shape.setdefault(tuple(state[key].shape), []).append(key)
    a, b = next(keys for keys in by_shape.values() if len(keys) >= 2)[:2]
    swapped = {**names, a: names[b], b: names[a]}
    monkeypatch.setattr(ppocr_net, "initializer_names", lambda _: swapped)
    assert not tuned.freeze(threads=1)
    assert tuned.session is None
