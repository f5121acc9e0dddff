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


def test_the_check_is_fitted_on_train_photos_and_scored_on_val_ones(tmp_path, monkeypatch) -> None:
    """A choice is made on the train split: no val photo reaches the fit, all are held out."""

    from recognition.training import fit_reader_check as fit
    from tests.recognition.training.detection_set import write_detection_set

    # given a detection set with train and val photos (the scoring itself is a double)
    write_detection_set(tmp_path, train=4, val=3)

    class Detector:
        threshold = 0.5
        manifest: dict[str, object] = {}

    class Reader:
        version = "ocr-test"

    class Engine:
        detector = Detector()
        reader = type("Combined", (), {"reader": Reader()})()

    scored: list[list[str]] = []

    def score_photos(engine, records, floor):  # type: ignore[no-untyped-def]
        scored.append([r.path.name for r in records])
        return [], 0

    monkeypatch.setattr(fit, "load_engine", lambda *args, **kwargs: Engine())
    monkeypatch.setattr(fit, "score_photos", score_photos)
    monkeypatch.setattr(fit, "angle_reads", lambda *args: {})
    # when the check is fitted on two photos
    args = ["--data", str(tmp_path), "--models", str(tmp_path), "--fit-images", "2", "--dry-run"]
    fit.main(fit.get_args_parser().parse_args(args))
    # then it was fitted on two train photos and scored on every val photo
    fitted_on, held_out = scored
    assert len(fitted_on) == 2
    assert all(name.startswith("train") for name in fitted_on)
    assert sorted(held_out) == ["val0.jpg", "val1.jpg", "val2.jpg"]
