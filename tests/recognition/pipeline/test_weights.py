from __future__ import annotations

import json

import pytest

from recognition.pipeline.types import EngineUnavailable, WeightsRejected
from recognition.pipeline.weights import read_verified, write_manifest


def test_it_loads_weights_that_match_their_manifest(tmp_path):
    weights = tmp_path / "w.pth"
    weights.write_bytes(b"weights")
    write_manifest(weights, version="t-1", input_size=[512, 768])
    path, manifest = read_verified(tmp_path)
    assert path == weights
    assert manifest["version"] == "t-1"


def test_it_refuses_weights_with_the_wrong_sha256(tmp_path):
    weights = tmp_path / "w.pth"
    weights.write_bytes(b"weights")
    write_manifest(weights, version="t-1", input_size=[512, 768])
    weights.write_bytes(b"tampered")
    with pytest.raises(WeightsRejected, match="sha256"):
        read_verified(tmp_path)


def test_it_says_the_engine_is_unavailable_without_weights(tmp_path):
    with pytest.raises(EngineUnavailable, match="no trained weights"):
        read_verified(tmp_path)


def test_it_refuses_an_unreadable_manifest(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"version": "x"}))
    with pytest.raises(WeightsRejected, match="unreadable"):
        read_verified(tmp_path)
