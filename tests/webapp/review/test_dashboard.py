from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.fixtures.factories import FlagFactory, ListingFactory
from webapp.checks.models import Flag
from webapp.review import holds, services
from webapp.review.models import AuditEntry, FlagHold
from webapp.review.selectors import dashboard_stats

pytestmark = pytest.mark.django_db


def _decided(kind: str, status: str, model_version: str, hours: float, moderator) -> Flag:
    flag = FlagFactory(
        listing=ListingFactory(owner=None),
        kind=kind,
        key=f"{kind}-{status}-{hours}",
        plate_text="AA0000AA",
        evidence={"model_version": model_version},
    )
    now = timezone.now()
    Flag.objects.filter(pk=flag.pk).update(
        status=status,
        reviewer=moderator,
        reviewed_at=now,
        created_at=now - dt.timedelta(hours=hours),
    )
    return flag


def test_false_alarm_rate_per_kind_and_model_version(moderator):
    _decided("make_mismatch", "dismissed", "v1", 2, moderator)
    _decided("make_mismatch", "confirmed", "v2", 4, moderator)
    _decided("vin_mismatch", "dismissed", "v1", 6, moderator)
    FlagFactory(listing=ListingFactory(owner=None), key="open")

    stats = dashboard_stats(days=7)

    kinds = {r.label: (r.dismissed, r.decided) for r in stats.by_kind}
    models = {r.label: r.rate for r in stats.by_model}
    assert kinds == {"Make mismatch": (1, 2), "VIN mismatch": (1, 1)}
    assert models == {"v1": 1.0, "v2": 0.0}
    assert stats.open_now == 1
    assert sum(stats.confirmed) == 1
    assert sum(stats.dismissed) == 2
    assert stats.median_hours[-1] == pytest.approx(4.0, abs=0.01)
    assert len(stats.days) == 7


def test_the_model_version_falls_back_to_the_listings_photos(moderator):
    from tests.fixtures.factories import PhotoFactory

    flag = _decided("make_mismatch", "dismissed", "", 1, moderator)
    PhotoFactory(listing=flag.listing, model_version="engine-7")

    assert [r.label for r in dashboard_stats(days=7).by_model] == ["engine-7"]


def test_the_dashboard_page_draws_charts(mod_client, moderator):
    _decided("make_mismatch", "dismissed", "v1", 2, moderator)

    response = mod_client.get(reverse("review:dashboard"), {"days": "14"})

    assert response.status_code == 200
    assert response.content.count(b"<svg") == 4
    assert b"False-alarm rate per model version" in response.content


def test_each_moderators_decisions_and_time_on_a_flag(moderator, second_moderator):
    flags = [FlagFactory(listing=ListingFactory(owner=None), key=f"K{i}") for i in range(5)]
    # the moderator opens two flags and decides each on its page, 90 and 30 s after opening
    for flag, seconds in ((flags[0], 90), (flags[1], 30)):
        holds.flag_hold(flag=flag, user=moderator)
        FlagHold.objects.filter(flag=flag).update(
            since=timezone.now() - dt.timedelta(seconds=seconds)
        )
        services.flag_dismiss(flag_id=flag.pk, version=flag.version, user=moderator, reason="x")
    # the other decides two in bulk and one he never opened (a script's POST): no time on them
    services.flags_bulk_decide(
        flags=[(f.pk, f.version) for f in flags[2:4]], user=second_moderator, status="confirmed"
    )
    services.flag_confirm(flag_id=flags[4].pk, version=flags[4].version, user=second_moderator)

    rows = {r.name: r for r in dashboard_stats(days=7).by_moderator}

    mine, theirs = rows[moderator.username], rows[second_moderator.username]
    assert (mine.decided, mine.dismissed, mine.bulk) == (2, 2, 0)
    assert mine.median_seconds == pytest.approx(60, abs=3)
    assert (theirs.decided, theirs.dismissed, theirs.bulk) == (3, 0, 2)
    assert theirs.median_seconds is None
    entries = AuditEntry.objects.filter(user=moderator).order_by("created_at")
    assert [e.seconds_open for e in entries] == [pytest.approx(90, abs=3), pytest.approx(30, abs=3)]


def test_the_dashboard_lists_the_moderators(mod_client, moderator):
    flag = FlagFactory(listing=ListingFactory(owner=None), key="K")
    mod_client.get(reverse("review:flag", args=[flag.pk]))  # opened: held
    services.flag_confirm(flag_id=flag.pk, version=flag.version, user=moderator)

    page = mod_client.get(reverse("review:dashboard")).content.decode()

    row = page.split(f'data-moderator="{moderator.username}"')[1].split("</tr>")[0]
    assert [cell.split("<")[0] for cell in row.split("<td>")[2:6]] == ["1", "0", "0%", "0"]
    assert row.endswith(" s</td>")
