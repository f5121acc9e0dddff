from __future__ import annotations

import argparse
import random
from pathlib import Path

import pytest
import torch

from recognition.synth.crops import FORMAT_WEIGHTS, synth_lines
from recognition.training.reader.train import build_model, format_weights, warm_start_state

MODELS = Path(__file__).resolve().parents[4] / "models"


def test_a_new_reader_round_can_start_from_the_shipped_reader() -> None:
    # given the exported reader, whose keys carry EasyOCR's `module.` prefix
    exported = torch.load(MODELS / "ocr" / "platereader.pth", weights_only=True)
    assert all(key.startswith("module.") for key in exported)
    # when it seeds a fresh model
    model = build_model(MODELS / "ocr" / "platereader.onnx")
    model.load_state_dict(warm_start_state(exported), strict=True)
    # then every weight is the shipped one
    key = next(iter(model.state_dict()))
    assert torch.equal(model.state_dict()[key], exported[f"module.{key}"])


def test_a_training_checkpoint_seeds_a_model_as_before() -> None:
    # given a checkpoint as the reader's training writes it
    state = build_model(MODELS / "ocr" / "platereader.onnx").state_dict()
    # when
    loaded = warm_start_state({"model": state, "epoch": 3})
    # then its weights are taken as they are
    assert loaded is state


def test_the_synthetic_mix_can_weigh_some_formats_more() -> None:
    # given a mix that draws only transit plates
    mix = format_weights(",".join(f"{fmt}=0" for fmt in FORMAT_WEIGHTS) + ",ua_transit=1")
    # when lines are drawn from it
    rng = random.Random(3)
    drawn = {line.format for _ in range(5) for line in synth_lines(rng, weights=mix)}
    # then every one is a transit plate, and the other formats keep their weights by default
    assert drawn == {"ua_transit"}
    assert format_weights("ua_transit=4") == {**FORMAT_WEIGHTS, "ua_transit": 4.0}


def test_an_unknown_format_in_the_mix_is_refused() -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="unknown format 'ua_tranzit'"):
        format_weights("ua_tranzit=4")
