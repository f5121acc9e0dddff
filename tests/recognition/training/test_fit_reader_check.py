from __future__ import annotations

from recognition.pipeline.reader_check import ReaderCheck


def test_the_fit_grid_offers_the_plain_threshold_first_so_ties_keep_it() -> None:
    from recognition.training.fit_reader_check import grid

    checks = list(grid(0.893))
    assert checks[0] == ReaderCheck.plain(0.893)
    assert len(set(checks)) == len(checks) > 100
    # and among equal scores the check that weighs no length comes before one that does
    assert checks[1].min_chars == 0
    assert {c.min_chars for c in checks} == {0, 3, 4}
