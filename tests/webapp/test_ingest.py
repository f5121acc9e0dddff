from __future__ import annotations

import hashlib
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from recognition.models import Reading
from tests.fixtures import images
from tests.fixtures.factories import UserFactory
from webapp.listings.models import Listing, ListingEdit, Photo

pytestmark = pytest.mark.django_db


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def csv_ingest(csv_path: Path, text: str, *args: str, capture) -> str:
    """`ingest_listings` of `text` written as `csv_path`, messages sent on commit; its output."""
    csv_path.write_text(text)
    out = StringIO()
    with capture(execute=True):
        call_command("ingest_listings", str(csv_path), "--no-progress", *args, stdout=out)
    return out.getvalue()


def test_it_ingests_a_csv_and_is_idempotent(
    tmp_path: Path, engine_control: Path, partner, django_capture_on_commit_callbacks
):
    # given
    (tmp_path / "a.jpg").write_bytes(images.jpeg())
    (tmp_path / "b.webp").write_bytes(images.webp())
    (tmp_path / "bad.jpg").write_bytes(b"not a photo")
    (tmp_path / "listings.csv").write_text(
        "marketplace_id,declared_make,declared_year,photos\n"
        "MP-1,Lada,2015,a.jpg;b.webp\n"
        "MP-2,Kia,,bad.jpg;a.jpg\n"
    )
    out = StringIO()
    # when
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "ingest_listings", str(tmp_path), "--owner", "partner", "--no-progress", stdout=out
        )
        call_command("ingest_listings", str(tmp_path / "listings.csv"), "--no-progress", stdout=out)
    # then
    first, second = out.getvalue().strip().splitlines()
    tail = "; 0 listings updated, 0 held by another partner left as they were"
    assert first == "ingested 2 listings: 3 new photos, 0 already there, 1 rejected" + tail
    assert second == "ingested 0 listings: 0 new photos, 3 already there, 1 rejected" + tail
    assert not ListingEdit.objects.exists()  # nothing changed: nothing kept as an edit
    assert Listing.objects.get(marketplace_id="MP-1").declared_year == 2015
    assert Listing.objects.get(marketplace_id="MP-2").owner == partner
    assert set(Photo.objects.values_list("status", flat=True)) == {Photo.Status.DONE}
    assert Reading.objects.count() == 3


def test_the_next_export_updates_what_it_names_and_keeps_it_as_the_seller_s_edits(
    tmp_path: Path, engine_control: Path, partner, django_capture_on_commit_callbacks
):
    # given: two listings ingested for the partner, one of another partner's
    UserFactory(username="other")
    (tmp_path / "a.jpg").write_bytes(images.jpeg())
    (tmp_path / "b.png").write_bytes(images.png())
    csv_path = tmp_path / "listings.csv"

    def ingest(text: str, owner: str) -> str:
        return csv_ingest(csv_path, text, "--owner", owner,
                          capture=django_capture_on_commit_callbacks)  # fmt: skip

    ingest(
        "marketplace_id,declared_make,declared_model,declared_plate,photos\n"
        "MP-1,Lada,Vesta,AA1234BB,a.jpg\nMP-2,Kia,Rio,,\n",
        "partner",
    )
    ingest("marketplace_id,declared_make,photos\nMP-3,Opel,\n", "other")

    # when: the next export renames MP-1's car, clears its plate, adds a photo, and names no
    # model; it also names MP-3, which is not the partner's
    said = ingest(
        "marketplace_id,declared_make,declared_plate,photos\n"
        "MP-1,Skoda,,a.jpg;b.png\nMP-2,Kia,,\nMP-3,Fiat,,\n",
        "partner",
    )

    # then
    assert (
        "0 listings: 1 new photos, 1 already there, 0 rejected; 1 listings updated, 1 held" in said
    )
    mp1 = Listing.objects.get(marketplace_id="MP-1")
    assert (mp1.declared_make, mp1.declared_model, mp1.declared_plate) == ("Skoda", "Vesta", "")
    edits = [edit.changes for edit in mp1.edits.order_by("id")]
    new_photo = mp1.photos.order_by("-id").first()
    assert edits == [
        {"declared_make": ["Lada", "Skoda"], "declared_plate": ["AA1234BB", ""]},
        {"photo_added": [None, f"photo {new_photo.pk}"]},
    ]
    assert {edit.by.username for edit in mp1.edits.all()} == {"partner"}
    assert not ListingEdit.objects.exclude(listing=mp1).exists()
    assert Listing.objects.get(marketplace_id="MP-3").declared_make == "Opel"


def test_with_prune_the_next_export_takes_off_the_photos_it_no_longer_lists(
    tmp_path: Path, engine_control: Path, partner, django_capture_on_commit_callbacks
):
    # given: two listings of two photos each, read by the engine
    (tmp_path / "a.jpg").write_bytes(images.jpeg())
    (tmp_path / "b.png").write_bytes(images.png())
    (tmp_path / "bad.jpg").write_bytes(b"not a photo")
    csv_path = tmp_path / "listings.csv"

    def ingest(text: str, *flags: str) -> str:
        return csv_ingest(csv_path, text, "--owner", "partner", *flags,
                          capture=django_capture_on_commit_callbacks)  # fmt: skip

    ingest("marketplace_id,photos\nMP-1,a.jpg;b.png\nMP-2,a.jpg;b.png\n")
    mp1, mp2 = (
        Listing.objects.get(marketplace_id="MP-1"),
        Listing.objects.get(marketplace_id="MP-2"),
    )
    b_on_mp1 = mp1.photos.get(sha256=sha256_of(tmp_path / "b.png"))
    assert Reading.objects.filter(photo=b_on_mp1).exists()

    # when: MP-1's export drops b.png, first without --prune, then with it; MP-2's drops a.jpg
    # while one of its photos cannot be read; a CSV without a photos column names no photos
    without = ingest("marketplace_id,photos\nMP-1,a.jpg\n")
    said = ingest("marketplace_id,photos\nMP-1,a.jpg\nMP-2,b.png;bad.jpg\n", "--prune")
    ingest("marketplace_id,declared_make\nMP-1,Lada\nMP-2,Kia\n", "--prune")

    # then: only MP-1's b.png went, kept as one seller's edit, with its readings
    assert "0 rejected;" in without
    assert "removed" not in without
    assert "2 already there, 1 rejected, 1 removed;" in said
    assert list(mp1.photos.values_list("sha256", flat=True)) == [sha256_of(tmp_path / "a.jpg")]
    assert not Reading.objects.filter(photo_id=b_on_mp1.pk).exists()
    assert mp2.photos.count() == 2
    removed = [e for e in mp1.edits.order_by("id") if "photo_removed" in e.changes]
    assert len(removed) == 1
    assert removed[0].by == partner
    assert removed[0].changes["photo_removed"][0].startswith(f"photo {b_on_mp1.pk}")
    assert not any("photo_removed" in e.changes for e in mp2.edits.all())


def test_it_ingests_a_folder_per_listing(tmp_path: Path, engine_control: Path):
    folder = tmp_path / "MP-9"
    folder.mkdir()
    (folder / "front.png").write_bytes(images.png())
    (folder / "listing.json").write_text(json.dumps({"declared_make": "BMW"}))
    call_command("ingest_listings", str(tmp_path), "--no-progress", stdout=StringIO())
    listing = Listing.objects.get(marketplace_id="MP-9")
    assert listing.declared_make == "BMW"
    assert listing.photos.count() == 1
    # ingested again: listing.json's keys are what it names; without the file, nothing changes
    (folder / "listing.json").write_text(
        json.dumps({"declared_make": "Audi", "declared_vin": None})
    )
    call_command("ingest_listings", str(tmp_path), "--no-progress", stdout=StringIO())
    (folder / "listing.json").unlink()
    call_command("ingest_listings", str(tmp_path), "--no-progress", stdout=StringIO())
    listing.refresh_from_db()
    assert (listing.declared_make, listing.declared_vin) == ("Audi", "")
    assert [edit.changes for edit in listing.edits.all()] == [{"declared_make": ["BMW", "Audi"]}]


@pytest.mark.parametrize(
    ("row", "field"),
    [
        pytest.param("MP-2,Kia,2015,AA 1234 BB / spare plate,", "declared_plate", id="long-plate"),
        pytest.param("MP-2,Kia,twenty,,", "declared_year", id="year-not-a-number"),
        pytest.param("MP-2,Kia,99999,,", "declared_year", id="year-out-of-range"),
        pytest.param(f"{'M' * 65},Kia,2015,,", "marketplace_id", id="long-id"),
    ],
)
def test_a_bad_row_stops_the_ingest_before_anything_is_written(
    tmp_path: Path, row: str, field: str
):
    # given: a good first row, and a second one the listing table cannot hold
    (tmp_path / "listings.csv").write_text(
        "marketplace_id,declared_make,declared_year,declared_plate,photos\n"
        f"MP-1,Lada,2015,AA1234BB,\n{row}\n"
    )

    # when
    with pytest.raises(CommandError) as caught:
        call_command("ingest_listings", str(tmp_path), "--no-progress", stdout=StringIO())

    # then: the operator is told where and what; no listing of the file was half-ingested
    assert "listings.csv:3" in str(caught.value)
    assert field in str(caught.value)
    assert not Listing.objects.exists()


def test_load_sample_prints_a_moderator_login(tmp_path: Path, engine_control: Path):
    out = StringIO()
    login_file = tmp_path / "login.txt"
    call_command("load_sample", "--login-file", str(login_file), stdout=out)
    call_command("load_sample", "--login-file", str(login_file), stdout=out)
    password = login_file.read_text().split()[1]
    assert out.getvalue().count(f"moderator login: moderator / {password}") == 2
    from django.contrib.auth import authenticate

    assert authenticate(username="moderator", password=password).is_staff


@pytest.mark.parametrize(
    "photos", ["../other/car.jpg", "{other}/car.jpg", "car.jpg;../other/car.jpg"], ids=str
)
def test_a_photo_outside_the_export_s_folder_stops_the_ingest(tmp_path: Path, photos: str):
    # given: another partner's photo beside the export's folder, named by the export
    export, other = tmp_path / "export", tmp_path / "other"
    export.mkdir()
    other.mkdir()
    (other / "car.jpg").write_bytes(images.jpeg())
    (export / "car.jpg").write_bytes(images.jpeg())
    (export / "listings.csv").write_text(
        f"marketplace_id,photos\nMP-1,car.jpg\nMP-2,{photos.format(other=other)}\n"
    )
    # when
    with pytest.raises(CommandError) as caught:
        call_command("ingest_listings", str(export), "--no-progress", stdout=StringIO())
    # then: the operator is told which line and why; nothing of the file was ingested
    assert "listings.csv:3" in str(caught.value)
    assert "outside the export's folder" in str(caught.value)
    assert not Listing.objects.exists()


def test_a_link_in_a_listing_s_folder_to_a_file_outside_stops_the_ingest(tmp_path: Path):
    export, other = tmp_path / "export", tmp_path / "other"
    (export / "MP-9").mkdir(parents=True)
    other.mkdir()
    (other / "secret.jpg").write_bytes(images.jpeg())
    (export / "MP-9" / "front.jpg").symlink_to(other / "secret.jpg")
    with pytest.raises(CommandError, match="outside the export's folder"):
        call_command("ingest_listings", str(export), "--no-progress", stdout=StringIO())
    assert not Photo.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        pytest.param(
            "listings.csv", "marketplace_id,declared_make\nMP-1,Лада\n".encode("cp1251"),
            "listings.csv: not UTF-8 text (byte 34 is 0xcb); export it as UTF-8", id="cp1251-csv",
        ),
        pytest.param(
            "listings.csv", b"id,make\nMP-1,Lada\n",
            "listings.csv: no marketplace_id column (its columns: id, make)", id="no-id-column",
        ),
        pytest.param(
            "listings.csv", b"marketplace_id,declared_make\nMP-1," + b"x" * 200_000 + b"\n",
            "listings.csv:2: not CSV (field larger than field limit", id="huge-field",
        ),
        pytest.param(
            "MP-9/listing.json", b'{"declared_make": "BMW",\n}',
            "listing.json:2: not JSON (Expecting property name", id="broken-json",
        ),
        pytest.param(
            "MP-9/listing.json", '{"declared_make": "Лада"}'.encode("cp1251"),
            "listing.json: not UTF-8 text", id="cp1251-json",
        ),
    ],
)  # fmt: skip
def test_a_file_that_cannot_be_read_stops_the_ingest_saying_which_and_why(
    tmp_path: Path, name: str, content: bytes, said: str
):
    # given: a good listing beside the file
    (tmp_path / "MP-1").mkdir()
    (tmp_path / "MP-1" / "front.png").write_bytes(images.png())
    (tmp_path / name).parent.mkdir(exist_ok=True)
    (tmp_path / name).write_bytes(content)

    # when
    with pytest.raises(CommandError) as caught:
        call_command("ingest_listings", str(tmp_path), "--no-progress", stdout=StringIO())

    # then: the operator reads the file, and what to do; nothing was ingested
    assert said in str(caught.value)
    assert not Listing.objects.exists()


def test_a_dry_run_says_what_the_ingest_would_do_and_writes_nothing(
    tmp_path: Path, engine_control: Path, partner, settings, django_capture_on_commit_callbacks
):
    # given: MP-1 ingested with two photos; the next export renames its car, drops b.png and
    # adds c.webp, brings a new MP-2 and a bad photo
    (tmp_path / "a.jpg").write_bytes(images.jpeg())
    (tmp_path / "b.png").write_bytes(images.png())
    (tmp_path / "c.webp").write_bytes(images.webp())
    (tmp_path / "bad.jpg").write_bytes(b"not a photo")
    csv_path = tmp_path / "listings.csv"

    def ingest(text: str, *flags: str) -> str:
        return csv_ingest(csv_path, text, "--owner", "partner", *flags,
                          capture=django_capture_on_commit_callbacks).strip()  # fmt: skip

    ingest("marketplace_id,declared_make,photos\nMP-1,Lada,a.jpg;b.png\n")
    nxt = "marketplace_id,declared_make,photos\nMP-1,Skoda,a.jpg;c.webp\nMP-2,Kia,a.jpg;bad.jpg\n"
    media = sorted(p.name for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file())
    rows = (Listing.objects.count(), Photo.objects.count(), ListingEdit.objects.count())

    # when
    dry = ingest(nxt, "--prune", "--dry-run")

    # then: nothing written, no file, nothing sent to the engine
    assert (Listing.objects.count(), Photo.objects.count(), ListingEdit.objects.count()) == rows
    assert sorted(p.name for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()) == media
    assert Listing.objects.get(marketplace_id="MP-1").declared_make == "Lada"
    # and the ingest itself then does what the dry run said
    done = ingest(nxt, "--prune")
    assert dry == "dry run, nothing written: would have " + done
    assert done.startswith("ingested 1 listings: 2 new photos, 1 already there, 1 rejected, ")
    assert "1 removed; 1 listings updated" in done
