"""What moderators corrected: each plate typed over an engine reading is paired with the reading it
replaced, summarised per engine version, and written out as crops the reader trains on."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import cv2
import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from recognition import services
from recognition.corrections import (
    Correction,
    corrections_placed,
    corrections_summary,
    plates_unreported,
)
from recognition.corrections_export import (
    CorrectionsExportError,
    corrections_export,
    listing_in_val,
)
from recognition.datasets import load_detected_crops
from recognition.models import Reading
from recognition.pipeline.ocr import PlateReader
from recognition.pipeline.regions import FORMATS
from recognition.synth.plates import render_plate
from tests.fixtures.factories import (
    ListingFactory,
    PhotoFactory,
    PhotoReadFactory,
    ReadingFactory,
    UserFactory,
)

MODELS = Path(__file__).resolve().parents[2] / "models"
PLACE = [[10.0, 10.0], [50.0, 10.0], [50.0, 22.0], [10.0, 22.0]]
OTHER_PLACE = [[100.0, 10.0], [140.0, 10.0], [140.0, 22.0], [100.0, 22.0]]
V1, V2 = "det-a+ocr-a", "det-b+ocr-b"
pytestmark = pytest.mark.django_db


def correction(engine_text: str | None, text: str) -> Correction:
    engine = {} if engine_text is None else {"engine_reading_id": 1, "engine_text": engine_text}
    return Correction(2, 1, 1, text, (), timezone.now(), **engine)


@pytest.mark.parametrize(
    ("engine_text", "typed", "kind", "edits"),
    [
        ("AA1234BB", "AA1234BB", "confirmed", []),
        ("1234BB", "AA1234BB", "clipped", [("", "A"), ("", "A")]),
        ("AA1234B", "AA1234BB", "clipped", [("", "B")]),
        ("AA1234B8", "AA1234BB", "misread", [("8", "B")]),
        ("AA12348B", "AA1234B", "other", [("8", "")]),
        (None, "AA1234BB", "unmatched", []),
    ],
)
def test_a_correction_says_how_the_engine_read_the_plate(engine_text, typed, kind, edits) -> None:
    c = correction(engine_text, typed)
    assert c.kind == kind
    assert c.edits == edits


def _engine(photo, text: str, version: str = V1, corners=PLACE, fmt: str = "ua_2015") -> Reading:
    return ReadingFactory(
        photo=photo, plate_text=text, model_version=version, corners=corners, plate_format=fmt
    )


def _typed(photo, text: str, base: Reading | None, user=None) -> Reading:
    return services.reading_create_human(
        photo_id=photo.pk,
        plate_text=text,
        user=user or UserFactory(),
        base_reading_id=base.pk if base else None,
    )


def test_a_plate_typed_over_a_reading_is_paired_with_it():
    # given two engine readings on a photo, and a moderator typing over one of them
    photo = PhotoFactory()
    read = _engine(photo, "AA1234B")
    _engine(photo, "KA0101AM", corners=OTHER_PLACE)
    typed = _typed(photo, "aa 1234 bb", read)
    # then the correction pairs the typed plate with the reading at its place
    (c,) = corrections_placed()
    assert (c.reading_id, c.photo_id, c.listing_id) == (typed.pk, photo.pk, photo.listing_id)
    assert (c.text, c.engine_reading_id, c.engine_text) == ("AA1234BB", read.pk, "AA1234B")
    assert (c.engine_version, c.engine_format, c.kind) == (V1, "ua_2015", "clipped")


def test_the_later_of_two_corrections_at_one_place_stands_and_placeless_ones_are_left_out():
    photo = PhotoFactory()
    read = _engine(photo, "AA1234B")
    _typed(photo, "AA1234BE", read)
    later = _typed(photo, "AA1234BB", read)
    _typed(photo, "BC7777AX", None)  # typed without a place on the photo
    assert [(c.reading_id, c.text) for c in corrections_placed()] == [(later.pk, "AA1234BB")]


def test_a_reading_made_after_the_correction_is_not_the_one_corrected():
    # given a correction of version 1's reading, then a re-read by version 2 at the same corners
    photo = PhotoFactory()
    read = _engine(photo, "AA1234B")
    _typed(photo, "AA1234BB", read)
    _engine(photo, "AA1234BB", version=V2)
    # then the correction is still of version 1's reading
    (c,) = corrections_placed()
    assert (c.engine_reading_id, c.engine_version) == (read.pk, V1)
    # and `since` leaves out what was typed before it
    assert corrections_placed(since=timezone.now() + dt.timedelta(seconds=1)) == []


def test_the_summary_counts_each_versions_corrections_and_mixups():
    # given version 1 read 4 photos and moderators corrected 3 of its readings, version 2 one
    photos = [PhotoFactory() for _ in range(5)]
    for photo in photos[:4]:
        PhotoReadFactory(photo=photo, model_version=V1)
    _typed(photos[0], "AA1234BB", _engine(photos[0], "AA1234B8"))
    _typed(photos[1], "BC7777AX", _engine(photos[1], "8C7777AX"))
    _typed(photos[2], "KA0101AM", _engine(photos[2], "0101AM"))
    _typed(photos[4], "AE2020OP", _engine(photos[4], "AE2O2OOP", version=V2))
    # and typed a plate twice on a photo version 1 read and reported none on
    _typed(photos[3], "BC7777AX", None)
    _typed(photos[3], "BC7777AX", None)
    # when summarised
    summary = corrections_summary()
    # then version 1 comes first with its kinds and the characters it read otherwise
    v1, v2 = summary.versions
    assert (v1.version, v1.corrections, v1.photos_read) == (V1, 3, 4)
    assert v1.per_thousand == pytest.approx(750.0)
    assert (v1.count("misread"), v1.count("clipped")) == (2, 1)
    assert sorted(v1.top_substitutions()) == [("8", "B", 2)]
    assert (v1.missed, v1.added, v1.unreported) == (2, 0, 1)
    assert (v2.version, v2.corrections, v2.per_thousand, v2.unreported) == (V2, 1, None, 0)
    assert v2.top_substitutions() == [("O", "0", 2)]
    # and the latest come first in the list, capped at the limit asked for
    assert [c.text for c in summary.latest] == ["AE2020OP", "KA0101AM", "BC7777AX", "AA1234BB"]
    capped = corrections_summary(limit=4, shown=1)  # the latest 4 typed: 2 placeless, 2 placed
    assert (capped.total, capped.capped, len(capped.latest)) == (2, True, 1)
    assert not summary.capped


def test_a_plate_typed_without_a_place_counts_for_the_version_that_had_read_the_photo():
    # given a photo read by version 1, then a plate typed on it, then a re-read by version 2
    photo = PhotoFactory()
    PhotoReadFactory(photo=photo, model_version=V1, read_at=timezone.now() - dt.timedelta(1))
    typed = _typed(photo, "KA0101AM", None)
    PhotoReadFactory(photo=photo, model_version=V2, read_at=timezone.now() + dt.timedelta(1))
    # then it is version 1's unreported plate, not a correction
    (u,) = plates_unreported()
    assert (u.reading_id, u.photo_id, u.text, u.engine_version) == (
        typed.pk, photo.pk, "KA0101AM", V1,
    )  # fmt: skip
    assert corrections_placed() == []


def _photo_with_plates(*plates: tuple[str, tuple[int, int, int, int]]):
    """A stored photo of a grey scene with each rendered plate pasted axis-aligned at (x, y, w,
    h); the plates' texts and corners."""
    rng = random.Random(7)
    scene = np.full((480, 640, 3), 90, np.uint8)
    pasted = []
    for fmt, (x, y, w, h) in plates:
        plate = render_plate(fmt, rng)
        scene[y : y + h, x : x + w] = cv2.resize(plate.image, (w, h), interpolation=cv2.INTER_AREA)
        corners = [[x, y], [x + w, y], [x + w, y + h], [x, y + h]]
        pasted.append((plate, [[float(a), float(b)] for a, b in corners]))
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(scene, cv2.COLOR_RGB2BGR), [95, 95])
    assert ok
    photo = PhotoFactory(listing=ListingFactory(), content=jpeg.tobytes(), width=640, height=480)
    return photo, pasted


def test_the_export_cuts_each_plate_as_the_engine_did_and_labels_its_rows(tmp_path):
    # given a one-row and a two-row plate the engine misread and a moderator corrected
    photo, [(wide, wide_at), (square, square_at)] = _photo_with_plates(
        ("ua_2015", (60, 60, 260, 56)), ("ua_square", (360, 200, 196, 140))
    )
    _typed(photo, wide.text, _engine(photo, wide.text[:-1], corners=wide_at))
    _typed(photo, square.text, _engine(photo, "1234", corners=square_at, fmt="ua_square"))
    out = tmp_path / "corrections"
    # when exported (every listing to train)
    report = corrections_export(out=out, val_share=0.0, regions="ua,eu")
    # then each one-row plate is one crop and each two-row plate its rows, top to bottom
    assert (report.corrections, report.plates["train"], report.crops["train"]) == (2, 2, 3)
    rows = [json.loads(line) for line in (out / "train" / "labels.jsonl").read_text().splitlines()]
    assert [(r["text"], r["row"], r["plate"]) for r in rows] == [
        (wide.text, 0, wide.text),
        *((line, k, square.text) for k, line in enumerate(FORMATS["ua_square"].lines(square.text))),
    ]
    assert {r["source"] for r in rows} == {"moderators"}
    assert {r["region"] for r in rows} == {"ua"}
    assert rows[0]["engine_text"] == wide.text[:-1]
    assert (out / "val" / "labels.jsonl").read_text() == ""
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["crops"] == {"train": 3}
    assert not (tmp_path / "corrections.partial").exists()
    # and the shipped reader reads each crop as labelled: the rows are cut where they are printed
    crops = load_detected_crops(out / "train")
    reader = PlateReader.load(MODELS / "ocr")
    assert [r.text for r in reader.read_lines([c.image for c in crops])] == [c.text for c in crops]


def test_the_export_splits_by_listing_and_leaves_out_an_unreadable_photo(tmp_path):
    # given two listings' corrections, one of them on a photo whose file is broken
    listings = [ListingFactory() for _ in range(40)]
    val = [listing for listing in listings if listing_in_val(listing.pk, 0.5)]
    train = [listing for listing in listings if not listing_in_val(listing.pk, 0.5)]
    assert val  # about half each
    assert train
    photo_val, pasted_val = _photo_with_plates(("ua_2015", (60, 60, 260, 56)))
    photo_val.listing = val[0]
    photo_val.save()
    _typed(photo_val, pasted_val[0][0].text, _engine(photo_val, "X", corners=pasted_val[0][1]))
    broken = PhotoFactory(listing=train[0], content=b"not an image at all")
    _typed(broken, "AA1234BB", _engine(broken, "AA1234B"))
    # when exported with half the listings to val
    report = corrections_export(out=tmp_path / "out", val_share=0.5, regions="ua,eu")
    # then the val listing's plate is in val, and the broken photo is counted, not written
    assert (dict(report.plates), dict(report.skipped)) == ({"val": 1}, {"photo unreadable": 1})
    assert len(load_detected_crops(tmp_path / "out" / "val")) == 1


def test_an_export_never_overwrites_one_unless_asked(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("earlier")
    with pytest.raises(CorrectionsExportError, match="--replace"):
        corrections_export(out=out)
    assert (out / "keep.txt").read_text() == "earlier"
    corrections_export(out=out, replace=True)
    assert not (out / "keep.txt").exists()
    assert json.loads((out / "manifest.json").read_text())["corrections"] == 0


def test_a_stopped_export_leaves_nothing_behind(tmp_path):
    # given two corrections, and an export stopped (Ctrl-C) after the first
    for _ in range(2):
        photo, [(plate, at)] = _photo_with_plates(("ua_2015", (60, 60, 260, 56)))
        _typed(photo, plate.text, _engine(photo, "X", corners=at))

    def stopped(items, total):
        for k, item in enumerate(items):
            if k == 1:
                raise KeyboardInterrupt
            yield item

    exports = tmp_path / "exports"
    exports.mkdir()
    with pytest.raises(KeyboardInterrupt):
        corrections_export(out=exports / "out", progress=stopped, regions="ua,eu")
    # then neither the export nor its partial folder is there
    assert list(exports.iterdir()) == []


def test_the_command_exports_and_prints_each_versions_corrections(tmp_path, capsys):
    photo = PhotoFactory()
    _typed(photo, "AA1234BB", _engine(photo, "AA1234B8"))
    out = tmp_path / "out"
    call_command("export_corrections", "--out", str(out), "--no-progress")
    printed = capsys.readouterr().out
    assert "1 corrected plates" in printed
    assert f"{V1}: 1 corrections (misread 1); characters read otherwise: 8->B 1" in printed
    assert "plates typed where it reported none: 0" in printed
    assert f"--detected-crops runs/ocr_detcrops {out / 'train'}" in printed
    with pytest.raises(CommandError, match="exists and is not empty"):
        call_command("export_corrections", "--out", str(out), "--no-progress")
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("export_corrections", "--out", str(out), "--since", "yesterday")
