from __future__ import annotations

from pathlib import Path

import pytest

SAMPLES = Path(__file__).parent / "samples"
DEMO = Path(__file__).resolve().parents[2] / "registry" / "sample_data" / "register_demo.csv"


@pytest.fixture
def samples() -> Path:
    return SAMPLES


@pytest.fixture
def demo_register() -> Path:
    return DEMO
