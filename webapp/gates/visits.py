"""Writes for visits: a site's entry and exit gates opening for a plate make its stays.

`visit_record` runs in the passage's own transaction, once, when the passage first opens
(`passages.passage_vote`). A device's offline queue may send frames up to a week late, so each
end of a stay is placed by its capture time (the passage's `started_at`), not by arrival:

- an entry at `t` first completes the "entry not seen" visit whose exit is the first after `t`
  (the exit arrived before the entry's frames did); otherwise it starts a visit, which is
  "on site", or "exit not seen" when the plate is known to have entered again later without a
  seen exit. An earlier visit still "on site" becomes "exit not seen": the vehicle cannot be
  inside twice.
- an exit at `t` ends the plate's latest visit that entered by `t`, if that has no exit yet;
  otherwise it is a visit of its own, "left, entry not seen".

A plate opening the same end twice within `rules.REPEAT_WINDOW` is one arrival (or departure), seen
again. An operator may end a stay whose exit was missed (`visit_close`): "exit not seen" too.
Readings of one plate at two gates may differ in a confusable character (`B`/`8`), so
a stay's ends are matched on `rules.confusable_key`. Each site's visits are written one passage
at a time (its row is locked): an entry and an exit gate deciding at once must not both miss
the other.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from webapp.gates import audit, rules
from webapp.gates.models import AuditAction, Direction, Passage, Site, Visit

logger = logging.getLogger(__name__)


@transaction.atomic  # a savepoint in the passage's own transaction; its own one elsewhere
def visit_record(*, passage: Passage) -> Visit | None:
    """The visit this opened passage starts, ends or completes; None where it counts none (a
    gate for both ways or of no site, no voted plate, a passage already recorded)."""
    gate = passage.gate
    if gate.site_id is None or gate.direction == Direction.BOTH or not passage.voted_plate:
        return None
    Site.objects.select_for_update().filter(pk=gate.site_id).first()
    if Visit.objects.filter(Q(entry_passage=passage) | Q(exit_passage=passage)).exists():
        return None  # recorded already
    key = rules.confusable_key(passage.voted_plate)
    plate_visits = Visit.objects.filter(site_id=gate.site_id, plate_key=key)
    at, end = passage.started_at, "entered_at" if gate.direction == Direction.ENTRY else "exited_at"
    seen = plate_visits.filter(
        **{f"{end}__range": (at - rules.REPEAT_WINDOW, at + rules.REPEAT_WINDOW)}
    )
    if (same := seen.first()) is not None:
        return same  # the same arrival (or departure), seen again
    if gate.direction == Direction.ENTRY:
        visit = _entry(passage, key, plate_visits)
    else:
        visit = _exit(passage, key, plate_visits)
    logger.info(
        "visit %s of %s at %s: %s", visit.pk, visit.plate, gate.name, visit.get_state_display()
    )
    return visit


class NotOnSite(ValueError):
    """The stay to end is not one of a vehicle on the site (ended already, or another site's)."""


@transaction.atomic
def visit_close(
    *, site: Site, visit_id: int, user: AbstractBaseUser, via: str = audit.VIA_CODE
) -> Visit:
    """An operator takes a vehicle off the site whose exit the gates missed: its stay ends
    "exit not seen", and it no longer counts as on site. An exit read later still ends it."""
    Site.objects.select_for_update().filter(pk=site.pk).first()
    visit = Visit.objects.filter(site=site, pk=visit_id).first()
    if visit is None or visit.state != Visit.State.INSIDE:
        raise NotOnSite(f"visit {visit_id} is not of a vehicle on site {site.pk}")
    visit.state = Visit.State.EXIT_UNSEEN
    visit.closed_by = user  # type: ignore[assignment]
    visit.closed_at = timezone.now()
    visit.save(update_fields=["state", "closed_by", "closed_at"])
    audit.record(
        action=AuditAction.VISIT_CLOSED,
        actor=user,
        via=via,
        site=site,
        plate=visit.plate,
        before={"state": Visit.State.INSIDE.value, "entered_at": audit.stamp(visit.entered_at)},
        after={"state": visit.state, "closed_at": audit.stamp(visit.closed_at)},
    )
    logger.info("visit %s of %s closed by %s", visit.pk, visit.plate, user)
    return visit


def visits_close_stale() -> int:
    """Take off their sites the cars on site longer than the site's close_stays_after_hours
    (their exits were missed): "exit not seen", closed by nobody. The count closed."""
    closed = 0
    for site in Site.objects.filter(close_stays_after_hours__isnull=False).order_by("id"):
        with transaction.atomic():
            Site.objects.select_for_update().filter(pk=site.pk).first()
            now = timezone.now()
            cut = now - timedelta(hours=site.close_stays_after_hours or 0)
            n = Visit.objects.filter(
                site=site, state=Visit.State.INSIDE, entered_at__lt=cut
            ).update(state=Visit.State.EXIT_UNSEEN, closed_at=now)
        if n:
            logger.info(
                "%s: %d stays of more than %s h closed", site.name, n, site.close_stays_after_hours
            )
        closed += n
    return closed


def _entry(passage: Passage, key: str, plate_visits: QuerySet[Visit]) -> Visit:
    at = passage.started_at
    later_exit = (
        plate_visits.filter(state=Visit.State.ENTRY_UNSEEN, exited_at__gte=at)
        .order_by("exited_at", "id")
        .first()
    )
    if (
        later_exit is not None
        and not plate_visits.filter(
            entered_at__gt=at, entered_at__lte=later_exit.exited_at
        ).exists()
    ):
        later_exit.entry_passage = passage
        later_exit.entered_at = at
        later_exit.state = Visit.State.LEFT
        later_exit.save(update_fields=["entry_passage", "entered_at", "state"])
        return later_exit
    entered_again = plate_visits.filter(entered_at__gt=at).exists()
    plate_visits.filter(state=Visit.State.INSIDE, entered_at__lt=at).update(
        state=Visit.State.EXIT_UNSEEN
    )
    return Visit.objects.create(
        site_id=passage.gate.site_id,
        plate=passage.voted_plate,
        plate_key=key,
        state=Visit.State.EXIT_UNSEEN if entered_again else Visit.State.INSIDE,
        entry_passage=passage,
        entered_at=at,
    )


def _exit(passage: Passage, key: str, plate_visits: QuerySet[Visit]) -> Visit:
    at = passage.started_at
    # The plate's last entry by then: a stay ended already means this exit is not its end.
    stay = plate_visits.filter(entered_at__lte=at).order_by("-entered_at", "-id").first()
    if stay is not None and stay.exited_at is None:
        stay.exit_passage = passage
        stay.exited_at = at
        stay.state = Visit.State.LEFT
        stay.save(update_fields=["exit_passage", "exited_at", "state"])
        return stay
    return Visit.objects.create(
        site_id=passage.gate.site_id,
        plate=passage.voted_plate,
        plate_key=key,
        state=Visit.State.ENTRY_UNSEEN,
        exit_passage=passage,
        exited_at=at,
    )
