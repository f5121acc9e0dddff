"""Lock order between the cross-check and the writers that reference its listing.

The foreign keys are deferred: a moderator's decision checks its audit entry's listing at its
commit (FOR KEY SHARE on the listing row), after it has locked the flag. The cross-check locks
the listing, then its flags. Were the cross-check's listing lock one that blocks FOR KEY SHARE,
the two would wait for each other.
"""

from __future__ import annotations

import threading

import pytest

from registry import crosscheck as rules
from tests.fixtures.factories import FlagFactory, ListingFactory
from tests.fixtures.locks import in_thread, until_done_or_waiting_for_a_lock
from webapp.checks import services as checks
from webapp.checks.models import Flag
from webapp.review import services as review

# How long one side waits for the other; generous, the machine is shared.
WAIT_S = 20


@pytest.mark.django_db(transaction=True)
def test_a_decision_committing_while_the_cross_check_holds_its_listing_does_not_deadlock(
    moderator, monkeypatch
):
    # given a cross-check that has locked the listing and is working out its findings
    flag = FlagFactory(listing=ListingFactory())
    listing_locked, decision_waits = threading.Event(), threading.Event()
    real_crosscheck = rules.crosscheck

    def crosscheck(facts):  # type: ignore[no-untyped-def]
        listing_locked.set()
        decision_waits.wait(WAIT_S)
        return real_crosscheck(facts)

    monkeypatch.setattr(rules, "crosscheck", crosscheck)
    errors: list[BaseException] = []
    checking = in_thread(lambda: checks.listing_crosscheck(listing_id=flag.listing_id), errors)
    checking.start()
    assert listing_locked.wait(WAIT_S), "the cross-check never started"
    # when a moderator confirms one of its flags meanwhile (it locks the flag, then commits)
    deciding = in_thread(
        lambda: review.flag_confirm(flag_id=flag.pk, version=flag.version, user=moderator),
        errors,
    )
    deciding.start()
    until_done_or_waiting_for_a_lock(deciding, WAIT_S)
    decision_waits.set()  # the cross-check goes on to lock the listing's flags
    checking.join(WAIT_S)
    deciding.join(WAIT_S)
    # then both finish, one after the other
    assert not checking.is_alive()
    assert not deciding.is_alive()
    assert errors == []
    flag.refresh_from_db()
    assert flag.status == Flag.Status.CONFIRMED
