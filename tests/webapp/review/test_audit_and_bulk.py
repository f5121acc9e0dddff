"""Audit log page and CSV, bulk decisions over a whole filter, sorting, kept selections."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from tests.fixtures.factories import FlagFactory
from webapp.checks.models import Flag
from webapp.review import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def decided(moderator, second_moderator):
    a, b, c = (FlagFactory(key=f"K{i}", plate_text=f"AA{i}000BB") for i in range(3))
    services.flag_confirm(flag_id=a.pk, version=a.version, user=moderator, note="real")
    services.flag_dismiss(flag_id=b.pk, version=b.version, user=second_moderator, reason="old")
    services.flag_dismiss(flag_id=c.pk, version=c.version, user=moderator, reason="dup, again")
    return a, b, c


def test_the_audit_log_filters_by_moderator_and_action(mod_client, moderator, decided):
    url = reverse("review:audit_log")
    everything = mod_client.get(url)
    assert everything.context["page"].total == 3
    mine = mod_client.get(url, {"moderator": moderator.pk, "action": "dismiss"})
    assert [e.reason for e in mine.context["page"].entries] == ["dup, again"]
    today = mod_client.get(url, {"date_from": "2000-01-01", "date_to": "2000-01-02"})
    assert today.context["page"].total == 0


def test_a_bad_audit_filter_is_a_400_with_the_reason(mod_client, decided):
    response = mod_client.get(reverse("review:audit_log"), {"date_from": "yesterday"})
    assert response.status_code == 400
    assert "Enter a valid date" in response.content.decode()
    csv_response = mod_client.get(reverse("review:audit_csv"), {"moderator": "x"})
    assert csv_response.status_code == 400


def test_the_audit_csv_exports_the_filtered_entries(mod_client, moderator, decided):
    response = mod_client.get(reverse("review:audit_csv"), {"moderator": moderator.pk})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["when", "moderator", "action"]
    assert sorted((r[1], r[2], r[9]) for r in rows[1:]) == [
        ("moderator", "confirm", "real"),
        ("moderator", "dismiss", "dup, again"),
    ]


def _queue_qs(**params) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


def test_bulk_over_the_filter_asks_with_the_count_then_decides(mod_client):
    matching = [FlagFactory(key=f"M{i}", kind="make_mismatch") for i in range(4)]
    other = FlagFactory(key="O", kind="vin_mismatch")
    qs = _queue_qs(status="open", kind="make_mismatch")
    data = {"scope": "filter", "decision": "dismiss", "reason": "bulk", "querystring": qs}
    ask = mod_client.post(reverse("review:bulk"), data)
    assert ask.status_code == 200
    assert ask.context["total"] == 4
    assert Flag.objects.filter(status="dismissed").count() == 0
    # a fifth flag arrives before the moderator agrees: asked again with the new count
    matching.append(FlagFactory(key="M9", kind="make_mismatch"))
    again = mod_client.post(reverse("review:bulk"), {**data, "confirm_total": 4})
    assert again.context["total"] == 5
    done = mod_client.post(reverse("review:bulk"), {**data, "confirm_total": 5}, follow=True)
    assert "5 flag(s) dismissed" in done.content.decode()
    assert set(Flag.objects.filter(status="dismissed").values_list("pk", flat=True)) == {
        f.pk for f in matching
    }
    other.refresh_from_db()
    assert other.status == "open"


def test_bulk_dismiss_without_reason_keeps_the_ticked_rows(mod_client):
    flags = [FlagFactory(key=f"S{i}") for i in range(3)]
    data = {
        "decision": "dismiss",
        "reason": "",
        "flag": [flags[0].pk, flags[2].pk],
        f"version_{flags[0].pk}": flags[0].version,
        f"version_{flags[2].pk}": flags[2].version,
        "querystring": "",
    }
    page = mod_client.post(reverse("review:bulk"), data, follow=True)
    html = page.content.decode()
    assert "Give a reason" in html
    assert page.context["kept_flags"] == {flags[0].pk, flags[2].pk}
    assert f'value="{flags[0].pk}" aria-label="select flag {flags[0].pk}" checked' in html
    assert f'value="{flags[1].pk}" aria-label="select flag {flags[1].pk}">' in html
    # kept once: the next visit starts clean
    assert mod_client.get(reverse("review:queue")).context["kept_flags"] == set()


@pytest.mark.parametrize(
    ("sort", "expected"), [("plate", ["A", "B", "C"]), ("-plate", ["C", "B", "A"])]
)
def test_queue_columns_sort_both_ways(mod_client, sort, expected):
    for text in ("B", "C", "A"):
        FlagFactory(key=text, plate_text=f"{text}A1234BB")
    page = mod_client.get(reverse("review:queue"), {"status": "open", "sort": sort})
    assert [f.plate_text[0] for f in page.context["page"].flags] == expected
    html = page.content.decode()
    state = "ascending" if sort == "plate" else "descending"
    assert f'aria-sort="{state}"><a class="sort" href="?status=open&amp;sort=' in html


def test_next_and_previous_follow_the_chosen_sort(mod_client):
    flags = {t: FlagFactory(key=t, plate_text=f"{t}A1234BB") for t in ("B", "C", "A")}
    url = reverse("review:flag", args=[flags["B"].pk])
    page = mod_client.get(url, {"status": "open", "sort": "-plate"})
    assert f"/flags/{flags['A'].pk}/" in page.context["next_url"]
    assert f"/flags/{flags['C'].pk}/" in page.context["prev_url"]


def test_the_flag_page_keeps_what_was_typed_after_an_error(mod_client, flagged_listing):
    flag = flagged_listing["flag"]
    url = reverse("review:correct", args=[flag.pk])
    data = {"version": flag.version, "photo_id": flagged_listing["photo"].pk, "plate_text": "#?!"}
    page = mod_client.post(url, data, follow=True)
    html = page.content.decode()
    assert "Type the plate as letters and digits" in html
    assert 'value="#?!"' in html
    # once: a fresh visit shows the reading again
    again = mod_client.get(reverse("review:flag", args=[flag.pk])).content.decode()
    assert 'value="AA1234B8" aria-label="Corrected plate text"' in again


def test_the_audit_log_and_csv_accept_the_last_possible_date(mod_client, decided):
    params = {"date_from": "2000-01-01", "date_to": "9999-12-31"}

    page = mod_client.get(reverse("review:audit_log"), params)
    export = mod_client.get(reverse("review:audit_csv"), params)

    assert page.status_code == 200
    assert page.context["page"].total == 3
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert len(rows) == 1 + 3


def test_the_audit_csv_cannot_carry_a_spreadsheet_formula(mod_client, moderator):
    # given: a partner names its listing like a formula and a moderator's reason starts with "="
    flag = FlagFactory(listing__marketplace_id='=HYPERLINK("http://evil.test","x")')
    services.flag_dismiss(flag_id=flag.pk, version=flag.version, user=moderator, reason="=1+2")

    # when
    response = mod_client.get(reverse("review:audit_csv"))

    # then: no cell starts with a character a spreadsheet would evaluate; the text is all there
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    cells = [cell for row in rows[1:] for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert '\'=HYPERLINK("http://evil.test","x")' in cells
    assert "'=1+2" in cells
