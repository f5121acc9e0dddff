"""Who has which open flag in front of them: soft holds, so that moderators working one queue
do not all land on the same flag.

Opening an open flag's page holds it for ``REVIEW_HOLD_SECONDS`` (the page renews the hold
every minute while it stays open); deciding it, opening another flag or going back to the queue
lets it go. Other moderators' *Next*, the page after their decision and their bulk decisions
pass a held flag by, and its row in their queue and its page name the holder. Nothing is
refused: a moderator may still decide a held flag on its page, and the flag's ``version``
settles who was first (``services._claim``).

Times are set and compared on the database's clock, as every lease here is, so that moderators'
web processes on hosts with drifting clocks agree on when a hold is over.

    flag_hold(flag=..., user=...)           # take or renew; the hold now (maybe another's)
    holds_release(user=...)                 # let go of the moderator's hold
    held_by_others(user)                    # a condition for Flag querysets
    holds_of(flag_ids, user=...)            # other moderators' live holds, for a page of rows
    seconds_held(flag_id=..., user=...)     # how long the deciding moderator had it open
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import (
    Case,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    When,
)
from django.db.models.functions import Now

from webapp.checks.models import Flag
from webapp.review.models import FlagHold


@dataclass(frozen=True)
class Hold:
    """A live hold as a page shows it."""

    flag_id: int
    user_id: int
    username: str
    since: dt.datetime
    until: dt.datetime
    mine: bool


def hold_seconds() -> int:
    return int(settings.REVIEW_HOLD_SECONDS)


def _until() -> ExpressionWrapper:
    return ExpressionWrapper(
        Now() + dt.timedelta(seconds=hold_seconds()), output_field=DateTimeField()
    )


def _live_holds(holds: QuerySet[FlagHold], user: AbstractBaseUser) -> list[Hold]:
    """The live ones of ``holds``, as pages show them (``mine``: held by ``user``)."""
    rows = holds.filter(until__gt=Now()).values_list(
        "flag_id", "user_id", "user__username", "since", "until"
    )
    return [Hold(*row, mine=row[1] == user.pk) for row in rows]


def _live_hold(flag_id: int, user: AbstractBaseUser) -> Hold | None:
    return next(iter(_live_holds(FlagHold.objects.filter(flag_id=flag_id), user)), None)


def flag_hold(*, flag: Flag, user: AbstractBaseUser) -> Hold | None:
    """Hold an open flag for ``user`` unless another moderator's hold on it is live; renews
    the user's own. Returns the live hold after that (``mine`` false: someone else has it), or
    None for a decided flag. The user's holds on other flags are let go. Four statements at most
    (three to renew)."""
    if flag.status != Flag.Status.OPEN:
        holds_release(user=user)
        return None
    flag_id = flag.pk
    FlagHold.objects.filter(user=user).exclude(flag_id=flag_id).delete()
    # Compare-and-set: our own hold, or one that is over, becomes ours. A concurrent taker
    # waits on the row lock, then finds the row no longer matches.
    taken = (
        FlagHold.objects.filter(flag_id=flag_id)
        .filter(Q(user=user) | Q(until__lte=Now()))
        .update(
            since=Case(When(user=user, then=F("since")), default=Now()),
            user=user,
            until=_until(),
        )
    )
    if not taken:
        try:
            with transaction.atomic():
                FlagHold.objects.create(flag_id=flag_id, user=user, since=Now(), until=_until())
        except IntegrityError:
            # Another moderator's live hold (its row is there), or the flag was deleted
            # meanwhile (its foreign key, checked when this commits).
            pass
    return _live_hold(flag_id, user)


def holds_release(*, user: AbstractBaseUser) -> None:
    """Let go of ``user``'s hold."""
    FlagHold.objects.filter(user=user).delete()


def flag_holds_release(flag_ids: Iterable[int]) -> None:
    """The flags are decided: whoever held them, they are held no more."""
    FlagHold.objects.filter(flag_id__in=list(flag_ids)).delete()


def seconds_held(*, flag_id: int, user: AbstractBaseUser) -> int | None:
    """How long ``user`` has held the flag (since opening it), on the database's clock; None
    when they hold it not (a bulk decision, an API call, a hold that went to another)."""
    held_for = (
        FlagHold.objects.filter(flag_id=flag_id, user=user)
        .annotate(held_for=ExpressionWrapper(Now() - F("since"), output_field=DurationField()))
        .values_list("held_for", flat=True)
        .first()
    )
    return None if held_for is None else max(0, round(held_for.total_seconds()))


def held_by_others(user: AbstractBaseUser) -> Exists:
    """True for a flag (``Flag`` queryset row) another moderator holds now."""
    return Exists(
        FlagHold.objects.filter(flag_id=OuterRef("pk"), until__gt=Now()).exclude(user_id=user.pk)
    )


def holds_of(flag_ids: Iterable[int], *, user: AbstractBaseUser) -> dict[int, Hold]:
    """Other moderators' live holds on these flags, by flag id (one query)."""
    others = FlagHold.objects.filter(flag_id__in=list(flag_ids)).exclude(user_id=user.pk)
    return {hold.flag_id: hold for hold in _live_holds(others, user)}


__all__ = [
    "Hold",
    "flag_hold",
    "flag_holds_release",
    "held_by_others",
    "hold_seconds",
    "holds_of",
    "holds_release",
    "seconds_held",
]
