from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from recognition.models import Reading
from tests.fixtures.factories import FlagFactory
from webapp.checks.models import Flag
from webapp.review import services
from webapp.review.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def crosscheck_calls(monkeypatch):
    """Records the listings the real cross-check runs for (a spy: it calls through)."""
    calls: list[int] = []
    real = services.listing_crosscheck

    def listing_crosscheck(*, listing_id: int) -> list[Flag]:
        calls.append(listing_id)
        return real(listing_id=listing_id)

    monkeypatch.setattr(services, "listing_crosscheck", listing_crosscheck)
    return calls


def test_confirm_closes_the_flag_and_writes_an_audit_entry(moderator, flagged_listing):
    flag = flagged_listing["flag"]

    decided = services.flag_confirm(
        flag_id=flag.pk, version=flag.version, user=moderator, note="clear case"
    )

    assert decided.status == Flag.Status.CONFIRMED
    assert decided.reviewer == moderator
    assert decided.reviewed_at is not None
    assert decided.version == flag.version + 1
    entry = AuditEntry.objects.get(flag=flag)
    assert entry.action == AuditEntry.Action.CONFIRM
    assert entry.user == moderator
    assert entry.before["status"] == "open"
    assert entry.after["status"] == "confirmed"
    assert entry.reason == "clear case"


def test_dismiss_needs_a_reason(moderator, flagged_listing):
    flag = flagged_listing["flag"]

    with pytest.raises(ValidationError):
        services.flag_dismiss(flag_id=flag.pk, version=flag.version, user=moderator, reason="  ")

    flag.refresh_from_db()
    assert flag.status == Flag.Status.OPEN
    assert not AuditEntry.objects.exists()


def test_dismiss_stores_the_reason(moderator, flagged_listing):
    flag = flagged_listing["flag"]

    services.flag_dismiss(
        flag_id=flag.pk, version=flag.version, user=moderator, reason="OCR misread"
    )

    flag.refresh_from_db()
    assert flag.status == Flag.Status.DISMISSED
    assert flag.note == "OCR misread"
    assert AuditEntry.objects.get().after["note"] == "OCR misread"


def test_a_stale_version_is_a_conflict_not_an_overwrite(
    moderator, second_moderator, flagged_listing
):
    # given two moderators who both loaded version 1
    flag = flagged_listing["flag"]
    services.flag_confirm(flag_id=flag.pk, version=1, user=moderator)

    # when the second one dismisses with the version they saw
    with pytest.raises(services.FlagConflict) as conflict:
        services.flag_dismiss(
            flag_id=flag.pk, version=1, user=second_moderator, reason="looks fine"
        )

    # then the first decision stands and the message says who made it
    flag.refresh_from_db()
    assert flag.status == Flag.Status.CONFIRMED
    assert flag.reviewer == moderator
    assert "moderator" in str(conflict.value)
    assert "confirmed" in str(conflict.value)
    assert AuditEntry.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_decisions_let_exactly_one_win(
    moderator, second_moderator, flagged_listing
):
    flag = flagged_listing["flag"]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def act(user, decide) -> None:
        barrier.wait()
        try:
            decide(user)
            outcomes.append("ok")
        except services.FlagConflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [
        threading.Thread(
            target=act,
            args=(moderator, lambda u: services.flag_confirm(flag_id=flag.pk, version=1, user=u)),
        ),
        threading.Thread(
            target=act,
            args=(
                second_moderator,
                lambda u: services.flag_dismiss(flag_id=flag.pk, version=1, user=u, reason="no"),
            ),
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["conflict", "ok"]
    flag.refresh_from_db()
    assert flag.version == 2
    assert AuditEntry.objects.filter(flag_ref=flag.pk).count() == 1


def test_bulk_decides_the_selected_flags_and_reports_conflicts(moderator, flagged_listing):
    listing = flagged_listing["listing"]
    first = flagged_listing["flag"]
    second = FlagFactory(listing=listing, kind="make_mismatch", key="make")
    stale = FlagFactory(listing=listing, kind="colour_mismatch", key="colour", version=3)

    result = services.flags_bulk_decide(
        flags=[(first.pk, 1), (second.pk, 1), (stale.pk, 2)],
        user=moderator,
        status=Flag.Status.DISMISSED,
        reason="same seller, known car",
    )

    assert result.decided == [first.pk, second.pk]
    assert [c.current.pk for c in result.conflicts] == [stale.pk]
    assert set(Flag.objects.filter(status="dismissed").values_list("pk", flat=True)) == {
        first.pk,
        second.pk,
    }
    assert AuditEntry.objects.filter(bulk=True).count() == 2


def test_bulk_dismiss_needs_a_reason(moderator, flagged_listing):
    flag = flagged_listing["flag"]
    with pytest.raises(ValidationError):
        services.flags_bulk_decide(
            flags=[(flag.pk, 1)], user=moderator, status=Flag.Status.DISMISSED
        )


def test_correct_plate_stores_a_human_reading_and_reruns_the_crosscheck(
    moderator, flagged_listing, crosscheck_calls
):
    flag, photo, reading = (
        flagged_listing["flag"],
        flagged_listing["photo"],
        flagged_listing["reading"],
    )

    correction = services.flag_correct_plate(
        flag_id=flag.pk,
        version=flag.version,
        user=moderator,
        photo_id=photo.pk,
        plate_text="aa 1234 bb",
        base_reading_id=reading.pk,
    )

    human = Reading.objects.get(pk=correction.reading_id)
    assert human.source == Reading.Source.HUMAN
    assert human.plate_text == "AA1234BB"
    assert human.created_by == moderator
    assert human.corners == reading.corners
    assert crosscheck_calls == [flag.listing_id]
    entry = AuditEntry.objects.get(action=AuditEntry.Action.CORRECT_PLATE)
    assert entry.after["plate_text"] == "AA1234BB"
    assert entry.before["plate_text"] == "AA1234B8"


def test_correct_plate_with_a_stale_version_changes_nothing(
    moderator, flagged_listing, crosscheck_calls
):
    flag, photo = flagged_listing["flag"], flagged_listing["photo"]
    services.flag_confirm(flag_id=flag.pk, version=1, user=moderator)

    with pytest.raises(services.FlagConflict):
        services.flag_correct_plate(
            flag_id=flag.pk, version=1, user=moderator, photo_id=photo.pk, plate_text="AA1234BB"
        )

    assert not Reading.objects.filter(source=Reading.Source.HUMAN).exists()
    assert crosscheck_calls == []


def test_correct_plate_rejects_a_photo_of_another_listing(
    moderator, flagged_listing, crosscheck_calls
):
    from tests.fixtures.factories import PhotoFactory

    flag = flagged_listing["flag"]
    elsewhere = PhotoFactory()

    with pytest.raises(ValidationError):
        services.flag_correct_plate(
            flag_id=flag.pk, version=1, user=moderator, photo_id=elsewhere.pk, plate_text="AA1234BB"
        )

    flag.refresh_from_db()
    assert flag.version == 1


def test_correct_plate_rejects_garbage(moderator, flagged_listing, crosscheck_calls):
    flag, photo = flagged_listing["flag"], flagged_listing["photo"]
    with pytest.raises(ValidationError):
        services.flag_correct_plate(
            flag_id=flag.pk, version=1, user=moderator, photo_id=photo.pk, plate_text="??"
        )
