from __future__ import annotations

import cv2
import numpy as np
import pytest
from django.urls import reverse

from recognition.models import Reading
from recognition.selectors import characters_read
from tests.fixtures.factories import FlagFactory, ListingFactory, PhotoFactory, ReadingFactory
from tests.webapp.review.conftest import PLATE_CORNERS
from webapp.checks.models import Flag
from webapp.review import services
from webapp.review.crop import CROP_WIDTH, plate_crop_png
from webapp.review.models import AuditEntry
from webapp.review.selectors.detail import misread_of

pytestmark = pytest.mark.django_db


def test_the_detail_page_uses_a_bounded_number_of_queries(
    mod_client, flagged_listing, django_assert_max_num_queries
):
    # given a listing with several photos and readings, other listings and audit entries
    listing = flagged_listing["listing"]
    for _ in range(4):
        photo = PhotoFactory(listing=listing, width=64, height=48, model_version="test-1")
        ReadingFactory(photo=photo, plate_text="AA1234B8")
        ReadingFactory(photo=photo, plate_text="AA1234B8", model_version="old-0")
        ReadingFactory(
            photo=PhotoFactory(listing=ListingFactory(owner=None)), plate_text="AA1234B8"
        )
    for kind in ("make_mismatch", "colour_mismatch", "year_mismatch"):
        FlagFactory(listing=listing, kind=kind, key=kind)
    flag = flagged_listing["flag"]

    # 16: the other listings are the flag evidence's query (readings, then declared plates);
    # 6 more take the moderator's hold on the flag (webapp.review.holds.flag_hold: 4, and the
    # savepoint around its INSERT); 1 says how current the register is, 1 reads the seller's
    # edits
    with django_assert_max_num_queries(24):
        response = mod_client.get(reverse("review:flag", args=[flag.pk]))

    assert response.status_code == 200
    assert response.content.count(b"<polygon") == 5
    assert b"old-0" not in response.content  # older model versions stay out of the way
    assert len(response.context["d"].other_listings) == 4


def test_the_detail_page_shows_the_three_columns_with_differences(mod_client, flagged_listing):
    flag = flagged_listing["flag"]

    response = mod_client.get(reverse("review:flag", args=[flag.pk]))

    rows = {row.label: row for row in response.context["d"].compare}
    assert rows["Plate"].declared == "AA1234BB"
    assert rows["Plate"].photos == "AA1234B8"
    assert rows["Plate"].differs
    assert not rows["Make"].differs
    # every character read surely: the correction form offers the plate read
    assert response.context["d"].suggested_plate == "AA1234B8"
    assert b'class="diff"' in response.content


@pytest.mark.usefixtures("reader_unsure_below")
def test_the_character_the_engine_doubted_is_marked_for_a_second_look(
    mod_client, moderator, flagged_listing
):
    # given: the engine read the last character (B or 8?) at 0.42; a moderator's correction
    # of another photo has no confidences at all
    reading = flagged_listing["reading"]
    reading.char_confidences = [0.99, 0.98, 0.97, 0.99, 0.96, 0.98, 0.95, 0.42]
    reading.save()
    other = PhotoFactory(listing=flagged_listing["listing"], model_version="test-1")
    ReadingFactory(photo=other, plate_text="AA1234BB", source=Reading.Source.HUMAN,
                   created_by=moderator, char_confidences=[])  # fmt: skip

    # when
    response = mod_client.get(reverse("review:flag", args=[flagged_listing["flag"].pk]))

    # then: only that character is marked, with its confidence on hover, and the reading is
    # called a likely misreading of the declared AA1234BB (it differs only there)
    page = response.content.decode()
    assert "Differs from the declared AA1234BB only where the engine was unsure" in page
    assert response.context["d"].suggested_plate == "AA1234BB"  # the correction form's plate
    plate_input = page.split('id="plate-input"')[1].split(">")[0]
    assert 'value="AA1234BB"' in plate_input
    assert page.count('class="char unsure"') == 1
    assert '<span class="char unsure" title="0.42">8</span>' in page
    assert '<span class="char" title="0.99">A</span>' in page
    views = [rv for pv in response.context["d"].photos for rv in pv.readings]
    human = next(rv for rv in views if rv.reading.source == Reading.Source.HUMAN)
    assert [c.confidence for c in human.characters] == [None] * 8


@pytest.mark.parametrize(
    ("read", "confidences", "declared", "expected"),
    [
        ("AA1234B8", [0.9] * 7 + [0.4], "AA1234BB", "AA1234BB"),  # only the unsure one differs
        ("AA1234B8", [0.9] * 8, "AA1234BB", ""),  # a sure 8: another car, or a wrong declaration
        ("AA1284B8", [0.9] * 5 + [0.4, 0.9, 0.4], "AA1234BB", ""),  # a sure 8 differs too
        ("AA1234B8", [0.9] * 7 + [0.4], "аа 1234 вв", "AA1234BB"),  # declared in Cyrillic
        ("AA1234BB", [0.4] * 8, "AA1234BB", ""),  # the same plate: nothing to say
        ("AA123B8", [0.4] * 7, "AA1234BB", ""),  # another length
    ],
)
def test_a_reading_is_a_likely_misreading_only_where_the_engine_was_unsure(
    read, confidences, declared, expected
):
    characters = characters_read(text=read, confidences=confidences, unsure_below=0.6)
    assert misread_of(characters, declared) == expected


def test_the_outline_is_drawn_in_photo_pixels(mod_client, flagged_listing):
    response = mod_client.get(reverse("review:flag", args=[flagged_listing["flag"].pk]))

    assert b'viewBox="0 0 640 480"' in response.content
    assert b'points="200.0,300.0 430.0,290.0 432.0,340.0 202.0,352.0"' in response.content


def test_the_plate_crop_is_straightened_and_enlarged(mod_client, flagged_listing):
    response = mod_client.get(reverse("review:plate_crop", args=[flagged_listing["reading"].pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    image = cv2.imdecode(np.frombuffer(response.content, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape[1] == CROP_WIDTH
    # the plate is white: a straightened crop is mostly white, not the red car around it
    assert image.mean() > 150


def test_the_crop_function_maps_the_corners_to_the_output_rectangle():
    from tests.webapp.review.conftest import car_photo_bytes

    png = plate_crop_png(photo_bytes=car_photo_bytes(), corners=PLATE_CORNERS)
    crop = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)

    h, w = crop.shape
    # the engine's crop (the one the reader saw, with its margin), enlarged to the page's width
    assert w == 520
    assert 80 < h < 140  # 230 x 52 px plate keeps roughly its 4.5:1 shape
    assert (crop[h // 2] > 200).mean() > 0.3  # the white plate fills the middle of the crop


def test_a_reading_without_corners_has_no_crop(mod_client, flagged_listing):
    reading = ReadingFactory(photo=flagged_listing["photo"], corners=[])
    assert mod_client.get(reverse("review:plate_crop", args=[reading.pk])).status_code == 404


def test_the_audit_trail_is_shown_on_the_flag(mod_client, moderator, flagged_listing):
    flag = flagged_listing["flag"]
    services.flag_dismiss(
        flag_id=flag.pk, version=1, user=moderator, reason="OCR misread the plate"
    )

    response = mod_client.get(reverse("review:flag", args=[flag.pk]))

    assert b"audit-entry" in response.content
    assert b"OCR misread the plate" in response.content


def test_a_second_moderator_gets_a_clear_message(mod_client, second_moderator, flagged_listing):
    # given the page was loaded at version 1, then someone else confirmed
    flag = flagged_listing["flag"]
    services.flag_confirm(flag_id=flag.pk, version=1, user=second_moderator)

    response = mod_client.post(
        reverse("review:dismiss", args=[flag.pk]), {"version": 1, "reason": "fine"}, follow=True
    )

    flag.refresh_from_db()
    assert flag.status == Flag.Status.CONFIRMED
    messages = [str(m) for m in response.context["messages"]]
    assert any("changed by moderator2" in m for m in messages)
    assert AuditEntry.objects.count() == 1


def test_a_decision_moves_on_to_the_next_flag_of_the_queue(mod_client, flagged_listing):
    flag = flagged_listing["flag"]
    later = FlagFactory(
        listing=ListingFactory(owner=None), key="BB", plate_text="BB0000BB", severity=1
    )

    response = mod_client.post(
        reverse("review:confirm", args=[flag.pk]) + "?status=open", {"version": 1}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("review:flag", args=[later.pk]) + "?status=open"


def test_correcting_the_plate_reruns_the_real_crosscheck(mod_client, moderator, flagged_listing):
    from webapp.checks.services import listing_crosscheck

    # given flags produced by the real cross-check for a misread plate
    listing, photo, reading = (
        flagged_listing["listing"],
        flagged_listing["photo"],
        flagged_listing["reading"],
    )
    Flag.objects.filter(listing=listing).delete()
    flags = listing_crosscheck(listing_id=listing.pk)
    assert flags, "the misread should raise at least one flag"
    flag = flags[0]

    # when the moderator types what the photo really shows
    response = mod_client.post(
        reverse("review:correct", args=[flag.pk]),
        {
            "version": flag.version,
            "photo_id": photo.pk,
            "base_reading_id": reading.pk,
            "plate_text": "AA1234BB",
        },
    )

    # then a human reading exists, the cross-check ran and the audit says so
    assert response.status_code == 302
    assert Reading.objects.filter(photo=photo, source="human", plate_text="AA1234BB").exists()
    entry = AuditEntry.objects.get(action=AuditEntry.Action.CORRECT_PLATE)
    assert entry.flag_ref == flag.pk
    assert not Flag.objects.filter(
        listing=listing, kind=Flag.Kind.DECLARED_PLATE_MISMATCH, status=Flag.Status.OPEN
    ).exists()


def test_the_register_column_shows_the_current_record_and_the_older_ones(
    mod_client, flagged_listing
):
    import datetime as dt
    import uuid

    from registry.models import ImportRun, RegisterRecord

    run = ImportRun.objects.create(file_name="r.csv", file_sha256="0" * 64)
    for day, brand, colour in (
        (dt.date(2019, 5, 1), "HONDA", "black"),
        (dt.date(2023, 2, 1), "TOYOTA", "white"),
    ):
        RegisterRecord.objects.create(
            plate="АА1234В8", plate_latin="AA1234B8", brand=brand, model="COROLLA",
            colour=colour, make_year=2018, d_reg=day, oper_name="registration",
            import_run=run, line=1, row_hash=uuid.uuid4(),
        )  # fmt: skip

    response = mod_client.get(reverse("review:flag", args=[flagged_listing["flag"].pk]))

    detail = response.context["d"]
    assert detail.register_current.make == "TOYOTA"
    assert [r.make for r in detail.register_history] == ["HONDA"]
    rows = {row.label: row for row in detail.compare}
    assert not rows["Make"].differs  # Toyota vs TOYOTA is the same make
    assert b"Older register records" in response.content


def test_a_deregistered_plate_shows_the_car_it_left_as_history(mod_client):
    import datetime as dt
    import uuid

    from registry.models import ImportRun, RegisterRecord

    # given a plate whose latest operation took its Toyota off the register
    listing = ListingFactory(declared_plate="AA1234BB", declared_make="Honda")
    flag = FlagFactory(listing=listing, kind="plate_deregistered", key="AA1234BB")
    run = ImportRun.objects.create(file_name="r.csv", file_sha256="0" * 64)
    for line, (day, operation) in enumerate(
        (
            (dt.date(2023, 2, 1), "ПЕРЕРЕЄСТРАЦІЯ НА НОВОГО ВЛАСНИКА ЗА ДОГОВОРОМ КУПІВЛІ-ПРОДАЖУ"),
            (dt.date(2024, 5, 2), "ЗНЯТТЯ З ОБЛІКУ У ЗВ'ЯЗКУ З УТИЛІЗАЦІЄЮ"),
        ),
        start=1,
    ):
        RegisterRecord.objects.create(
            plate="АА1234ВВ", plate_latin="AA1234BB", brand="TOYOTA", model="CAMRY",
            colour="БІЛИЙ", make_year=2018, d_reg=day, oper_name=operation,
            import_run=run, line=line, row_hash=uuid.uuid4(),
        )  # fmt: skip

    # when the moderator opens the flag and the plate's history
    response = mod_client.get(reverse("review:flag", args=[flag.pk]))
    history = mod_client.get(reverse("review:plate_history", args=["AA1234BB"]))

    # then the plate is shown as deregistered, and the Toyota as the car it left, not compared
    content = response.content.decode()
    assert f"Flag #{flag.pk}: Plate deregistered" in content
    assert response.context["d"].register_current.deregistered
    assert 'id="deregistered"' in content
    assert "2024-05-02" in content
    rows = {row.label: row for row in response.context["d"].compare}
    assert not rows["Make"].differs
    assert '<span class="status deregistered">deregistered</span>' in history.content.decode()


def test_a_deregistered_vin_shows_when_and_how_the_car_left_the_register(mod_client):
    import datetime as dt
    import uuid

    from registry.models import ImportRun, RegisterRecord
    from webapp.checks.services import listing_crosscheck

    # given a Camry listed by its VIN, which the register last saw leave the country
    listing = ListingFactory(declared_vin="JTNB11HK0J3000001", declared_model="Camry")
    run = ImportRun.objects.create(file_name="r.csv", file_sha256="1" * 64)
    for line, (day, code, operation) in enumerate(
        (
            (dt.date(2023, 2, 1), 315, "ПЕРЕРЕЄСТРАЦІЯ НА НОВОГО ВЛАСНИКА"),
            (dt.date(2024, 5, 2), 520, "ЗНЯТТЯ З ОБЛІКУ ПРИ ВИВЕЗЕННІ ЗА КОРДОН"),
        ),
        start=1,
    ):
        RegisterRecord.objects.create(
            plate="АА1234ВВ", plate_latin="AA1234BB", vin="JTNB11HK0J3000001", brand="TOYOTA",
            model="CAMRY", make_norm="TOYOTA", model_norm="CAMRY", colour="БІЛИЙ",
            make_year=2018, d_reg=day, oper_code=code, oper_name=operation, import_run=run,
            line=line, row_hash=uuid.uuid4(),
        )  # fmt: skip
    [flag] = listing_crosscheck(listing_id=listing.pk)

    # when the moderator opens the flag
    response = mod_client.get(reverse("review:flag", args=[flag.pk]))

    # then the page says when and how the declared car left the register, and what it was
    content = response.content.decode()
    assert f"Flag #{flag.pk}: VIN deregistered" in content
    message = content.split('id="vin-deregistered"', 1)[1].split("</p>", 1)[0]
    assert "JTNB11HK0J3000001" in message
    assert "2024-05-02" in message
    assert "ЗНЯТТЯ З ОБЛІКУ ПРИ ВИВЕЗЕННІ ЗА КОРДОН" in message
    assert "taken out of Ukraine" in message
    assert "TOYOTA CAMRY 2018, АА1234ВВ" in message


def test_the_admin_searches_audit_entries(client, moderator, flagged_listing):
    from tests.fixtures.factories import UserFactory

    flag = flagged_listing["flag"]
    services.flag_dismiss(flag_id=flag.pk, version=1, user=moderator, reason="OCR misread")
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)

    found = client.get("/admin/review/auditentry/", {"q": "misread", "action__exact": "dismiss"})
    missing = client.get("/admin/review/auditentry/", {"q": "nothing-like-this"})
    entry = AuditEntry.objects.get()
    change = client.get(f"/admin/review/auditentry/{entry.pk}/change/")

    assert found.status_code == 200
    assert b"OCR misread" in found.content
    assert b"OCR misread" not in missing.content
    assert change.status_code == 200


def test_a_declared_plate_with_a_slash_still_opens_the_flag(mod_client):
    # given: no photo was read and the seller typed the plate with a slash
    listing = ListingFactory(declared_plate="AB/1234CD")
    flag = FlagFactory(listing=listing, kind="plate_not_in_register", plate_text="")

    # when
    response = mod_client.get(reverse("review:flag", args=[flag.pk]))

    # then: the page renders and links to the plate's history
    assert response.status_code == 200
    link = reverse("review:plate_history", args=["AB/1234CD"])
    assert f'href="{link}"'.encode() in response.content


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("confirm", {"version": 1}),
        ("dismiss", {"version": 1, "reason": "fine"}),
        ("correct", {"version": 1, "plate_text": "AA1234BB", "photo_id": 0}),
    ],
)
def test_acting_on_a_flag_the_crosscheck_removed_meanwhile_says_so(
    mod_client, flagged_listing, action, data
):
    # given the page was loaded, then a re-run of the cross-check deleted the open flag
    flag = flagged_listing["flag"]
    data = {**data, "photo_id": flagged_listing["photo"].pk}
    Flag.objects.filter(pk=flag.pk).delete()

    # when
    response = mod_client.post(
        reverse(f"review:{action}", args=[flag.pk]) + "?status=open", data, follow=True
    )

    # then: back to the same queue with the reason, not a bare "Not found" page
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("review:queue") + "?status=open"
    messages = [str(m) for m in response.context["messages"]]
    assert "This flag no longer exists." in messages
    assert not AuditEntry.objects.exists()


def test_the_photo_as_published_hides_the_plate_for_the_moderator(mod_client, flagged_listing):
    photo = flagged_listing["photo"]
    photo.plate_areas = [{"corners": PLATE_CORNERS, "score": 0.97, "read": True}]
    photo.save(update_fields=["plate_areas"])
    url = reverse("review:photo_redacted", args=[photo.pk])
    response = mod_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    copy = cv2.imdecode(np.frombuffer(response.content, np.uint8), cv2.IMREAD_GRAYSCALE)
    with photo.image.open("rb") as handle:
        original = cv2.imdecode(np.frombuffer(handle.read(), np.uint8), cv2.IMREAD_GRAYSCALE)
    # The drawn plate's black text on white is gone: no dark pixel is left inside it.
    text = (slice(312, 340), slice(215, 400))
    assert original[text].min() < 60
    assert copy[text].min() > 100
    assert abs(int(copy[50, 50]) - int(original[50, 50])) < 8  # far from it, as it was
    assert mod_client.get(url, {"style": "swirl"}).status_code == 400
    photo.status = "pending"
    photo.save(update_fields=["status"])
    pending = mod_client.get(url)
    assert pending.status_code == 409
    assert b"pending" in pending.content


@pytest.mark.parametrize(("days", "stale"), [(10, False), (60, True)])
def test_the_register_column_says_how_current_the_register_is(
    mod_client, flagged_listing, days, stale
):
    from datetime import timedelta

    from django.utils import timezone

    from registry.models import ImportRun

    # given the register last imported `days` ago (and a failed import since, which counts not)
    finished = timezone.now() - timedelta(days=days)
    ImportRun.objects.create(file_name="r.zip", status=ImportRun.Status.DONE, finished_at=finished)
    ImportRun.objects.create(
        file_name="bad.zip", status=ImportRun.Status.FAILED, finished_at=timezone.now()
    )
    flag = flagged_listing["flag"]
    plate = flag.plate_text or flagged_listing["listing"].declared_plate
    # when a moderator opens the flag and the plate's history
    pages = [
        mod_client.get(reverse("review:flag", args=[flag.pk])).content.decode(),
        mod_client.get(reverse("review:plate_history", args=[plate])).content.decode(),
    ]
    # then both say when, and warn when it is over 45 days old
    for page in pages:
        assert f"The register as imported on {finished:%Y-%m-%d}." in page
        assert ('id="register-stale"' in page) is stale


def test_no_register_age_is_claimed_without_an_import(mod_client, flagged_listing):
    page = mod_client.get(reverse("review:flag", args=[flagged_listing["flag"].pk]))
    assert page.context["d"].register_age is None
    assert b'id="register-age"' not in page.content


def test_the_flag_page_shows_what_the_seller_changed(mod_client, flagged_listing, partner):
    from webapp.listings.services import listing_declared_update

    listing = flagged_listing["listing"]
    before = listing.declared_make
    listing_declared_update(
        listing_id=listing.pk, changes={"declared_make": "Tesla", "declared_year": 2021},
        by=partner,
    )  # fmt: skip
    page = mod_client.get(reverse("review:flag", args=[flagged_listing["flag"].pk]))
    html = page.content.decode()
    assert 'id="edits"' in html
    assert f"<th>Make</th><td>{before}</td><td>Tesla</td><td>partner</td>" in html
    year = listing.declared_year or "—"
    assert f"<th>Year</th><td>{year}</td><td>2021</td><td></td>" in html
