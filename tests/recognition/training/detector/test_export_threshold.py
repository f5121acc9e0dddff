"""The exported detector's operating threshold is set on the train split, never on val."""

from __future__ import annotations

import json
from types import SimpleNamespace

import torch

from recognition.pipeline.maskrcnn import DetectorConfig
from recognition.pipeline.weights import MANIFEST
from recognition.training.detector import train
from tests.recognition.training.detection_set import write_detection_set


def test_the_exported_threshold_is_the_f1_best_one_on_train_photos(tmp_path, monkeypatch) -> None:
    # given a detection set of train and val photos, and a best checkpoint whose val pass found
    # its best F1 at 0.45
    write_detection_set(tmp_path, train=3, val=3)
    run = tmp_path / "run"
    run.mkdir()
    val_metrics = {"threshold": 0.45, "precision": 0.9, "recall": 0.7, "f1": 0.79}
    torch.save(
        {"model": {}, "step": 5, "config": json.dumps(DetectorConfig().to_json()),
         "metrics": json.dumps(val_metrics)},
        run / "best.pth",
    )  # fmt: skip
    model = SimpleNamespace(transform=SimpleNamespace(min_size=(448,), max_size=900))
    model.load_state_dict = lambda state: None
    monkeypatch.setattr(train, "build_detector", lambda cfg: model)
    scored: list[list[str]] = []

    def evaluate(net, photos, ignore):  # type: ignore[no-untyped-def]
        scored.append([photos.dataset.records[i].path.name for i in photos.indices])
        return {"threshold": 0.62, "precision": 0.95, "recall": 0.8, "f1": 0.87}

    monkeypatch.setattr(train, "evaluate", evaluate)
    # when the best weights are exported
    models = tmp_path / "models"
    train.main(train.get_args_parser().parse_args([
        "--data", str(tmp_path), "--out", str(run), "--export", str(models),
        "--angle-check", "0", "--val-limit", "2",
    ]))  # fmt: skip
    # then the threshold is the F1-best one on two train photos, seen at the inference size
    manifest = json.loads((models / MANIFEST).read_text())
    assert manifest["threshold"] == 0.62
    assert len(scored) == 1
    assert len(scored[0]) == 2
    assert all(name.startswith("train") for name in scored[0])
    assert model.transform.min_size == (DetectorConfig().min_size,)


def test_shipped_weights_get_their_threshold_set_again_on_train_photos(
    tmp_path, monkeypatch
) -> None:
    """Weights exported when the threshold was the F1-best on val photos: `--refit-threshold`
    sets it as an export now does, and keeps the rest of their manifest."""
    from recognition.pipeline.maskrcnn import build_detector
    from recognition.pipeline.weights import write_manifest

    # given exported weights whose manifest holds a threshold fitted on val and a reader check
    write_detection_set(tmp_path, train=3, val=3)
    cfg = DetectorConfig()
    folder = tmp_path / "detector"
    folder.mkdir()
    torch.save(build_detector(cfg).state_dict(), folder / "detector.pth")
    check = {"sure": 0.9, "candidate": 0.1, "min_confidence": 0.05}
    write_manifest(
        folder / "detector.pth", version="det-test", input_size=[cfg.min_size, cfg.max_size],
        extra={"config": cfg.to_json(), "threshold": 0.805, "reader_check": check},
    )  # fmt: skip
    scored: list[list[str]] = []

    def evaluate(net, photos, ignore):  # type: ignore[no-untyped-def]
        scored.append([photos.dataset.records[i].path.name for i in photos.indices])
        return {"threshold": 0.93, "precision": 0.95, "recall": 0.8, "f1": 0.87}

    monkeypatch.setattr(train, "evaluate", evaluate)
    # when its threshold is set again
    train.main(train.get_args_parser().parse_args([
        "--data", str(tmp_path), "--refit-threshold", str(folder),
        "--angle-check", "0", "--val-limit", "2",
    ]))  # fmt: skip
    # then it is the F1-best one on train photos, kept in the exported range, and the rest of the
    # manifest (the weights' hash, the reader check) is as it was
    manifest = json.loads((folder / MANIFEST).read_text())
    assert (manifest["threshold"], manifest["train_f1_threshold"]) == (0.9, 0.93)
    assert manifest["reader_check"] == check
    assert manifest["version"] == "det-test"
    assert len(scored) == 1
    assert all(name.startswith("train") for name in scored[0])
