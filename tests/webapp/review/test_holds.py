"""Moderators working one queue: a flag one of them has open is held (webapp/review/holds.py),
and the others' Next, bulk decisions and queue rows pass it by or name the holder."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.fixtures.factories import FlagFactory, ListingFactory
from tests.fixtures.locks import in_thread
from webapp.checks.models import Flag
from webapp.review import holds, services
from webapp.review.models import FlagHold

pytestmark = pytest.mark.django_db


def _flags(n: int, **kwargs) -> list[Flag]:
    """`n` open flags, in queue order (same severity, oldest first)."""
    flags = [
        FlagFactory(listing=ListingFactory(owner=None), key=f"K{i}", plate_text=f"AA{i:04d}BB",
                    severity=3, **kwargs)
        for i in range(n)
    ]  # fmt: skip
    now = timezone.now()
    for i, flag in enumerate(flags):
        Flag.objects.filter(pk=flag.pk).update(created_at=now - dt.timedelta(minutes=60 - i))
    return flags


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _expire(flag: Flag) -> None:
    FlagHold.objects.filter(flag=flag).update(until=timezone.now() - dt.timedelta(seconds=1))


def test_opening_a_flag_holds_it_and_another_moderator_sees_who(moderator, second_moderator):
    first, _second = _flags(2)

    mine = holds.flag_hold(flag=first, user=moderator)
    theirs = holds.flag_hold(flag=first, user=second_moderator)

    assert mine is not None
    assert mine.mine
    assert mine.username == moderator.username
    assert theirs is not None
    assert not theirs.mine
    assert theirs.user_id == moderator.pk
    assert FlagHold.objects.get(flag=first).user == moderator  # not taken over
    seconds = (mine.until - mine.since).total_seconds()
    assert seconds == pytest.approx(holds.hold_seconds(), abs=2)


def test_renewing_keeps_since_and_moves_until(moderator):
    (flag,) = _flags(1)
    first = holds.flag_hold(flag=flag, user=moderator)
    FlagHold.objects.filter(flag=flag).update(until=timezone.now() + dt.timedelta(seconds=5))

    again = holds.flag_hold(flag=flag, user=moderator)

    assert again is not None
    assert again.since == first.since
    assert again.until > timezone.now() + dt.timedelta(seconds=holds.hold_seconds() - 5)


def test_a_hold_that_ran_out_goes_to_the_next_moderator(moderator, second_moderator):
    (flag,) = _flags(1)
    holds.flag_hold(flag=flag, user=moderator)
    _expire(flag)

    hold = holds.flag_hold(flag=flag, user=second_moderator)

    assert hold is not None
    assert hold.mine
    assert hold.user_id == second_moderator.pk


def test_a_moderator_holds_one_flag_at_a_time(moderator):
    first, second = _flags(2)
    holds.flag_hold(flag=first, user=moderator)
    holds.flag_hold(flag=second, user=moderator)

    assert list(FlagHold.objects.values_list("flag_id", flat=True)) == [second.pk]


def test_a_decided_flag_is_not_held_and_deciding_lets_go(moderator, second_moderator):
    first, second = _flags(2)
    holds.flag_hold(flag=first, user=moderator)

    # The other moderator decides it on its page anyway: allowed, and the hold goes with it.
    services.flag_confirm(flag_id=first.pk, version=first.version, user=second_moderator)

    assert not FlagHold.objects.exists()
    first.refresh_from_db()
    assert holds.flag_hold(flag=first, user=moderator) is None
    # Deciding one's own held flag lets go of it too.
    holds.flag_hold(flag=second, user=moderator)
    assert FlagHold.objects.filter(flag=second, user=moderator).exists()
    services.flag_dismiss(flag_id=second.pk, version=second.version, user=moderator, reason="x")
    assert not FlagHold.objects.exists()


def test_next_passes_by_a_flag_another_moderator_has_open(moderator, second_moderator):
    first, second, third = _flags(3)
    alice, bob = _client(moderator), _client(second_moderator)

    alice.get(reverse("review:flag", args=[second.pk]))
    page = bob.get(reverse("review:flag", args=[first.pk]))

    assert page.context["next_url"].startswith(reverse("review:flag", args=[third.pk]))
    assert "hidden" in page.content.decode().split('id="hold-banner"')[1].split(">")[0]
    # Bob opens the held flag itself: he sees who has it, and it stays Alice's.
    held = bob.get(reverse("review:flag", args=[second.pk]))
    assert f"{moderator.username} has had this flag open since" in held.context["hold_message"]
    assert FlagHold.objects.get(flag=second).user == moderator
    # Alice's own Next is not changed by her own hold.
    own = alice.get(reverse("review:flag", args=[first.pk]))
    assert own.context["next_url"].startswith(reverse("review:flag", args=[second.pk]))


def test_after_a_decision_the_next_flag_is_one_nobody_has_open(moderator, second_moderator):
    first, second, third = _flags(3)
    alice, bob = _client(moderator), _client(second_moderator)
    alice.get(reverse("review:flag", args=[second.pk]))

    response = bob.post(
        reverse("review:confirm", args=[first.pk]), {"version": first.version, "reason": ""}
    )

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("review:flag", args=[third.pk]))


def test_the_queue_names_the_holder_and_lets_go_of_ones_own_hold(moderator, second_moderator):
    first, second = _flags(2)
    alice, bob = _client(moderator), _client(second_moderator)
    alice.get(reverse("review:flag", args=[first.pk]))
    bob.get(reverse("review:flag", args=[second.pk]))

    page = bob.get(reverse("review:queue"))

    rows = {f.pk: f.held_by for f in page.context["page"].flags}
    assert rows[first.pk].username == moderator.username
    assert rows[second.pk] is None
    assert f'data-held-by="{moderator.username}"' in page.content.decode()
    # Back at the queue, Bob has no flag in front of him any more.
    assert list(FlagHold.objects.values_list("user_id", flat=True)) == [moderator.pk]


def test_bulk_decisions_leave_out_flags_others_have_open(moderator, second_moderator):
    first, second, third = _flags(3)
    holds.flag_hold(flag=second, user=moderator)
    bob = _client(second_moderator)

    ticked = bob.post(
        reverse("review:bulk"),
        {"decision": "confirm", "flag": [first.pk, second.pk],
         f"version_{first.pk}": first.version, f"version_{second.pk}": second.version},
        follow=True,
    )  # fmt: skip

    statuses = dict(Flag.objects.values_list("pk", "status"))
    assert statuses == {first.pk: "confirmed", second.pk: "open", third.pk: "open"}
    text = ticked.content.decode()
    assert "1 flag was left undecided: another moderator has it open" in text
    assert moderator.username in text

    # "All matching": the confirmation counts only the flags nobody else has open.
    form = {"decision": "dismiss", "reason": "old", "scope": "filter", "querystring": ""}
    confirm = bob.post(reverse("review:bulk"), form)
    assert confirm.context["total"] == 1
    assert confirm.context["held"] == 1
    assert 'id="bulk-held"' in confirm.content.decode()
    bob.post(reverse("review:bulk"), {**form, "confirm_total": 1})
    statuses = dict(Flag.objects.values_list("pk", "status"))
    assert statuses == {first.pk: "confirmed", second.pk: "open", third.pk: "dismissed"}


def test_the_open_page_renews_its_hold(moderator, second_moderator):
    (flag,) = _flags(1)
    url = reverse("review:hold", args=[flag.pk])
    alice = _client(moderator)
    bob = Client(enforce_csrf_checks=True)
    bob.force_login(second_moderator)

    mine = alice.post(url).json()
    assert mine["held"]
    assert mine["mine"]
    assert mine["message"] == ""
    assert bob.post(url).status_code == 403  # no CSRF token: refused
    assert alice.get(url).status_code == 405
    _expire(flag)
    assert _client(second_moderator).post(url).json()["mine"]  # ran out: Bob's now
    theirs = alice.post(url).json()
    assert theirs["held"]
    assert not theirs["mine"]
    assert theirs["user"] == second_moderator.username
    assert second_moderator.username in theirs["message"]


def test_the_hold_endpoint_is_for_moderators(client, django_user_model):
    (flag,) = _flags(1)
    url = reverse("review:hold", args=[flag.pk])
    assert client.post(url).status_code == 302  # to the login page
    client.force_login(django_user_model.objects.create_user("partner", password="x"))
    assert client.post(url).status_code == 403
    assert not FlagHold.objects.exists()


def test_a_flag_that_is_gone_is_a_404_and_holds_nothing(moderator):
    (flag,) = _flags(1)
    url = reverse("review:hold", args=[flag.pk])
    flag.delete()  # a re-run of the cross-check deletes an open flag whose finding went away

    assert _client(moderator).post(url).status_code == 404
    assert not FlagHold.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_moderators_opening_one_flag_at_once_one_holds_it(moderator, second_moderator):
    if connection.vendor != "postgresql":
        pytest.skip("a race of two database sessions needs PostgreSQL")
    (flag,) = _flags(1)
    start = threading.Barrier(2)
    results: dict[int, holds.Hold | None] = {}
    errors: list[BaseException] = []

    def take(user) -> None:
        start.wait(timeout=10)
        results[user.pk] = holds.flag_hold(flag=flag, user=user)

    threads = [in_thread(lambda u=u: take(u), errors) for u in (moderator, second_moderator)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert not errors
    holder = FlagHold.objects.get(flag=flag).user_id
    assert sorted(hold.mine for hold in results.values()) == [False, True]
    assert {hold.user_id for hold in results.values()} == {holder}
