"""/ops/partners/: each partner's month of photos against its quota, its tokens and endpoints,
and every partner's photos a day, for staff."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from tests.fixtures.factories import UserFactory
from webapp.listings.partners import partners_group
from webapp.partners.models import PartnerQuota, UsageDay, UsageKind, WebhookEndpoint
from webapp.partners.tokens import token_create, token_revoke

pytestmark = pytest.mark.django_db

URL = "/ops/partners/"


def _staff() -> Client:
    client = Client()
    client.force_login(UserFactory(username="ops", is_staff=True))
    return client


def _row(body: str, name: str) -> str:
    match = re.search(rf'<tr class="partner" data-partner="{name}">(.*?)</tr>', body, re.DOTALL)
    assert match, f"no row for {name}"
    return match.group(1)


def _cells(row: str) -> list[str]:
    return [re.sub(r"<[^>]+>", " ", c).split()[0] if c.strip() else "" for c in
            re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)]  # fmt: skip


def test_each_partner_s_month_against_its_quota(partner, settings):
    settings.API_MONTHLY_PHOTOS = 0
    today = timezone.localdate()
    PartnerQuota.objects.create(user=partner, photos_per_month=10)
    UsageDay.objects.create(user=partner, day=today, kind=UsageKind.PHOTO, count=6)
    UsageDay.objects.create(user=partner, day=today, kind=UsageKind.RECOGNIZE, count=3)
    quiet = UserFactory(username="quiet-partner")
    quiet.groups.add(partners_group())
    outsider = UserFactory(username="api-user")  # no group, but used the API this month
    UsageDay.objects.create(user=outsider, day=today, kind=UsageKind.REDACT, count=1)
    kept = token_create(user=partner, name="live")
    token_create(user=partner, name="old")
    token_revoke(token=token_create(user=partner, name="gone").token)
    kept.token.last_used_at = timezone.now()
    kept.token.save()
    WebhookEndpoint.objects.create(owner=partner, url="https://a.example/h", secret="s")
    WebhookEndpoint.objects.create(
        owner=partner, url="https://b.example/h", secret="s", is_active=False
    )

    response = _staff().get(URL)

    assert response.status_code == 200
    body = response.content.decode()
    names = re.findall(r'data-partner="([^"]+)"', body)
    assert names == ["partner", "api-user", "quiet-partner"]  # most photos first
    assert _cells(_row(body, "partner"))[:8] == ["partner", "9", "10", "90%", "6", "3", "0", "2"]
    assert 'class="share near-quota"' in _row(body, "partner")
    assert 'class="endpoints-off">(1)' in _row(body, "partner")
    assert _cells(_row(body, "api-user"))[1:4] == ["1", "no", "—"]
    assert _cells(_row(body, "quiet-partner"))[1] == "0"
    assert "<title>partner: 90%</title>" in body  # the quota chart
    assert "<title>stored: 6</title>" in body  # today's point of the chart a day


def test_other_months_and_a_month_it_cannot_read(partner):
    last_month = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    UsageDay.objects.create(user=partner, day=last_month, kind=UsageKind.PHOTO, count=4)
    client = _staff()

    now = client.get(URL).content.decode()
    assert _cells(_row(now, "partner"))[1] == "0"
    assert 'id="month-next"' not in now  # no month after this one
    before = client.get(URL, {"month": last_month.strftime("%Y-%m")}).content.decode()
    assert _cells(_row(before, "partner"))[1] == "4"
    assert 'id="month-next"' in before

    bad = client.get(URL, {"month": "2026-13"})
    assert bad.status_code == 400
    assert 'id="month-error"' in bad.content.decode()


def test_only_staff_see_it(partner):
    client = Client()
    client.force_login(partner)
    assert client.get(URL).status_code == 302  # to the admin's login
    assert Client().get(URL).status_code == 302


def test_its_queries_do_not_grow_with_the_partners():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = _staff()

    def partners_added(n: int) -> int:
        for k in range(n):
            user = UserFactory(username=f"p{n}-{k}")
            user.groups.add(partners_group())
            PartnerQuota.objects.create(user=user, photos_per_month=10 + k)
            UsageDay.objects.create(user=user, day=timezone.localdate(), kind="photo", count=k)
            token_create(user=user, name="t")
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL).status_code == 200
        return len(queries)

    assert partners_added(1) == partners_added(5)
