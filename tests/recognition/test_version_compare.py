"""Two engine versions compared on the photos both read: each photo read is kept (empty results
too), plates are paired by text then by place, and the moderators' plates score each version."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from recognition import services
from recognition.models import PhotoRead, Reading
from recognition.pipeline.types import PhotoResult, PlateReading
from recognition.version_compare import Plate, box_iou, photo_diff, versions_compare
from tests.fixtures.factories import PhotoFactory, ReadingFactory, UserFactory

OLD, NEW = "det-a+ocr-a", "det-b+ocr-b"
LEFT = [10.0, 10.0, 50.0, 22.0]
RIGHT = [200.0, 10.0, 240.0, 22.0]


def plate(text: str, box: list[float], reading_id: int = 0) -> Plate:
    return Plate(reading_id, text, 0.9, tuple(box))


def test_the_same_text_is_one_plate_wherever_its_box() -> None:
    alike, differ = photo_diff([plate("AA1234BB", LEFT)], [plate("AA1234BB", RIGHT)])
    assert (alike, differ) == (1, [])


def test_another_text_at_the_same_place_is_the_plate_read_otherwise() -> None:
    old, new = plate("AA1234BB", LEFT), plate("AA1234BE", [11.0, 10.0, 51.0, 23.0])
    alike, differ = photo_diff([old], [new])
    assert alike == 0
    assert differ == [("changed", old, new)]


def test_plates_at_different_places_are_one_lost_and_one_gained() -> None:
    old, new = plate("AA1234BB", LEFT), plate("KA0101AM", RIGHT)
    assert photo_diff([old], [new]) == (0, [("lost", old, None), ("gained", None, new)])


def test_the_largest_overlap_is_paired_first() -> None:
    old = plate("AA1234BB", LEFT)
    near, far = plate("AA1234BE", LEFT), plate("AA1234BX", [30.0, 10.0, 70.0, 22.0])
    assert box_iou(LEFT, far.box) > 0.3
    _, differ = photo_diff([old], [far, near])
    assert differ == [("changed", old, near), ("gained", None, far)]


def test_box_overlap() -> None:
    assert box_iou(LEFT, LEFT) == pytest.approx(1.0)
    assert box_iou(LEFT, RIGHT) == 0.0
    assert box_iou([0, 0, 2, 2], [1, 0, 3, 2]) == pytest.approx(1 / 3)
    assert box_iou([], LEFT) == 0.0


def _read(photo, version: str, *texts: str, box: list[float] = LEFT) -> list[Reading]:
    PhotoRead.objects.create(
        photo=photo, model_version=version, plates=len(texts), read_at=timezone.now()
    )
    return [
        ReadingFactory(photo=photo, model_version=version, plate_text=t, box=box) for t in texts
    ]


@pytest.mark.django_db
def test_two_versions_are_compared_on_the_photos_both_read() -> None:
    # given photos both versions read: one alike, one read otherwise, one where the new
    # version found nothing, one where the old one found nothing; and one only the new read
    alike, otherwise, lost, gained, fresh = (PhotoFactory() for _ in range(5))
    _read(alike, OLD, "AA1234BB")
    _read(alike, NEW, "AA1234BB")
    _read(otherwise, OLD, "BC7777AX")
    _read(otherwise, NEW, "BC7771AX")
    _read(lost, OLD, "KA0101AM")
    _read(lost, NEW)
    _read(gained, OLD)
    _read(gained, NEW, "AE2020OP")
    _read(fresh, NEW, "AI5555II")
    # and a moderator typed in the plate of the photo the old version misread
    services.reading_create_human(photo_id=otherwise.pk, plate_text="BC7771AX", user=UserFactory())
    # when they are compared
    c = versions_compare(base=OLD, candidate=NEW)
    # then
    assert (c.photos_both, c.photos, c.identical) == (4, 4, 1)
    assert (c.same, c.changed, c.lost, c.gained) == (1, 1, 1, 1)
    kinds = {(ch.kind, ch.photo_id) for ch in c.changes}
    assert kinds == {("changed", otherwise.pk), ("lost", lost.pk), ("gained", gained.pk)}
    changed = next(ch for ch in c.changes if ch.kind == "changed")
    assert (changed.base.text, changed.candidate.text) == ("BC7777AX", "BC7771AX")
    assert (c.base_human.read_right, c.base_human.plates) == (0, 1)
    assert (c.candidate_human.read_right, c.candidate_human.plates, c.candidate_human.rate) == (
        1,
        1,
        1.0,
    )
    # the latest photos only, when asked for fewer
    assert versions_compare(base=OLD, candidate=NEW, photos=2).photos == 2
    assert len(versions_compare(base=OLD, candidate=NEW, shown=1).changes) == 1


@pytest.mark.django_db
def test_storing_a_reading_keeps_the_photo_read_even_with_no_plate() -> None:
    empty, one = PhotoFactory(), PhotoFactory()
    claims = services.photos_claim(photo_ids=[empty.pk, one.pk], engine_version=NEW, worker="w")
    found = PlateReading(
        "AA1234BB",
        "ua_2015",
        0.9,
        (0.9,) * 8,
        (),
        ((0, 0), (4, 0), (4, 1), (0, 1)),
        (0, 0, 4, 1),
        1,
    )
    results = {empty.pk: PhotoResult(()), one.pk: PhotoResult((found,))}
    services.photos_readings_store(
        engine_version=NEW, results=[(claim, results[claim.photo_id]) for claim in claims]
    )
    reads = dict(PhotoRead.objects.filter(model_version=NEW).values_list("photo_id", "plates"))
    assert reads == {empty.pk: 0, one.pk: 1}


@pytest.mark.django_db
def test_the_command_compares_the_latest_version_with_the_one_before(capsys) -> None:
    photo = PhotoFactory()
    _read(photo, OLD, "AA1234BB")
    _read(photo, NEW, "AA1234BE")
    call_command("compare_versions")
    out = capsys.readouterr().out
    assert f"{OLD} -> {NEW}: 1 photos compared" in out
    assert "read otherwise (same place)  1" in out
    assert "AA1234BB (0.97) -> AA1234BE (0.97)" in out
    with pytest.raises(CommandError, match="no photo read by nope"):
        call_command("compare_versions", OLD, "nope")
    with pytest.raises(CommandError, match="both versions"):
        call_command("compare_versions", OLD)


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_the_photos_each_version_read_before_it() -> None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    def migrate(targets):
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(targets)
        return executor.loader.project_state(targets).apps

    # given photos read before the table: one with plates, one the photo's version found none on
    old = migrate([("recognition", "0005_crosscheck_request_failures")])
    listing = old.get_model("listings", "Listing").objects.create(marketplace_id="MP-MIG")
    photos = old.get_model("listings", "Photo").objects

    def photo(sha: str, **fields):
        return photos.create(listing=listing, sha256=sha * 64, width=8, height=8, **fields)

    with_plates = photo("a", status="done", model_version=NEW)
    empty = photo("b", status="done", model_version=NEW)
    pending = photo("c", status="pending")
    readings = old.get_model("recognition", "Reading").objects
    for version, text in ((OLD, "AA1234BB"), (NEW, "AA1234BB"), (NEW, "KA0101AM")):
        readings.create(photo=with_plates, model_version=version, plate_text=text, confidence=1)
    readings.create(
        photo=empty, model_version="human", source="human", plate_text="X", confidence=1
    )
    # when it migrates forward
    new = migrate([("recognition", "0006_photo_read")])
    # then each version's reads are kept, the empty one too; a human reading is no read
    reads = new.get_model("recognition", "PhotoRead").objects.values_list(
        "photo_id", "model_version", "plates"
    )
    assert sorted(reads) == sorted(
        [(with_plates.pk, OLD, 1), (with_plates.pk, NEW, 2), (empty.pk, NEW, 0)]
    )
    assert pending.pk not in {r[0] for r in reads}
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


@pytest.mark.django_db
def test_the_rollout_gate_fails_a_candidate_that_does_worse(capsys) -> None:
    # given a candidate that loses one of the base's two plates, one a moderator had typed in
    kept, lost = PhotoFactory(), PhotoFactory()
    _read(kept, OLD, "AA1234BB")
    _read(kept, NEW, "AA1234BB")
    _read(lost, OLD, "KA0101AM")
    _read(lost, NEW)
    services.reading_create_human(photo_id=lost.pk, plate_text="KA0101AM", user=UserFactory())
    # then the gate refuses it when half the plates lost is too many, or moderators' plates drop
    with pytest.raises(
        CommandError, match=r"0\.500 of the base's plates reported only by the base"
    ):
        call_command("compare_versions", OLD, NEW, "--max-lost", "0.1")
    with pytest.raises(CommandError, match="0 of the 1 plates moderators typed in"):
        call_command("compare_versions", OLD, NEW, "--no-worse-on-moderators")
    # and lets it through within its limits (none read otherwise here)
    call_command("compare_versions", OLD, NEW, "--max-lost", "0.5", "--max-changed", "0")
    assert "only the base reported       1" in capsys.readouterr().out
