from __future__ import annotations

from pathlib import Path

import pytest

# The register files the registry's own tests import: the cross-check reads what they hold.
SAMPLES = Path(__file__).resolve().parents[2] / "registry" / "samples"


@pytest.fixture
def samples() -> Path:
    return SAMPLES
