"""The read benchmark measures the engine's own combination of the two readers.

Our reader is the real one from models/ocr; the rapidocr peer is a double at the edge (a second
network), which records the crops it is asked about and answers a fixed plate.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from recognition.evaluation.reading import reader_systems
from recognition.pipeline.engine import CONSULT_PEER_BELOW, CombinedReader
from recognition.pipeline.ocr import PlateReader
from recognition.pipeline.regions import region_formats
from tests.recognition.pipeline.test_ocr import rendered_crops

MODELS = Path(__file__).resolve().parents[3] / "models" / "ocr"
PEER_TEXT = "AA1234BB"


class RecordingPeer:
    """Answers every image with one plate text; remembers which whole crops it was asked about."""

    def __init__(self, crops: Sequence[np.ndarray]) -> None:
        self.crops = crops
        self.asked: list[int] = []

    def read(self, images: Sequence[np.ndarray]) -> list[tuple[str, float]]:
        for image in images:
            self.asked += [k for k, crop in enumerate(self.crops) if image is crop]
        return [(PEER_TEXT, 0.9) for _ in images]


@pytest.fixture(scope="module")
def reader() -> PlateReader:
    return PlateReader.load(MODELS)


@pytest.fixture(scope="module")
def crops() -> list[np.ndarray]:
    # two clean plates our reader is sure of, and a blank crop it cannot read
    plates = [crop for crop, _ in rendered_crops("ua_2015", 2, seed=3)]
    return [*plates, np.full_like(plates[0], 127)]


def test_the_combined_system_asks_the_peer_about_every_crop(reader, crops) -> None:
    # given
    peer = RecordingPeer(crops)
    # when
    reader_systems(reader, peer)["combined"](crops, region_formats("ua"))  # type: ignore[arg-type]
    # then
    assert sorted(set(peer.asked)) == [0, 1, 2]


def test_the_fallback_system_is_the_engine_s_reading_path(reader, crops) -> None:
    # given the benchmark's system and the engine's reader over the same peer answers
    formats = region_formats("ua")
    bench_peer, engine_peer = RecordingPeer(crops), RecordingPeer(crops)
    engine_reader = CombinedReader(reader, engine_peer, formats)  # type: ignore[arg-type]
    # when
    measured = reader_systems(reader, bench_peer)["combined_fallback"](crops, formats)  # type: ignore[arg-type]
    shipped = engine_reader.read_batch(crops)
    # then both read alike, and the peer was asked only about the crops our reader is unsure of
    assert measured == shipped
    own = [reader.read_batch([c], formats)[0] for c in crops]
    unsure = [k for k, r in enumerate(own) if not r.valid or r.confidence < CONSULT_PEER_BELOW]
    assert sorted(set(bench_peer.asked)) == sorted(set(engine_peer.asked)) == unsure
    assert unsure == [2]  # the blank crop only: the rendered plates read at 0.99
