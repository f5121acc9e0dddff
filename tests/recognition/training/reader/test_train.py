from __future__ import annotations

from pathlib import Path

import torch

from recognition.training.reader.train import build_model, warm_start_state

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
