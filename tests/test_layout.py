"""The house rules that a reader checks by eye, checked here so they stay true."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# STYLE.md: modules stay under ~500 lines; when one grows, make it a package.
MAX_MODULE_LINES = 500


def test_no_module_of_the_product_exceeds_500_lines() -> None:
    too_long = {
        str(path.relative_to(ROOT)): lines
        for package in ("webapp", "recognition", "registry")
        for path in sorted((ROOT / package).rglob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert too_long == {}
