"""The passages page searched (plate, gate, decision, days), a page at a time, and its CSV
export: a parking operator's "when did this car pass, and what did the gate decide?"."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone

from webapp.gates import selectors, services
from webapp.gates.models import Decision, Passage

pytestmark = pytest.mark.django_db


@pytest.fixture
def passages(gate):
    """Passages at two gates over three days: AA1234BB opened at north yesterday and today,
    BC7777AX denied at south today, a plate nobody read (unknown) the day before yesterday."""
    south = services.gate_create(name="south", site="HQ")
    now = timezone.now()
    made = {}
    for key, at_gate, plate, decision, days_ago in [
        ("aa_today", gate, "AA1234BB", Decision.OPEN, 0),
        ("aa_yesterday", gate, "AA1234BB", Decision.OPEN, 1),
        ("bc_today", south, "BC7777AX", Decision.DENY, 0),
        ("unread", gate, "", Decision.UNKNOWN, 2),
    ]:
        device = services.device_create(gate=at_gate).device
        at = now - dt.timedelta(days=days_ago, minutes=len(made))
        made[key] = Passage.objects.create(
            gate=at_gate, device=device, started_at=at - dt.timedelta(seconds=3),
            last_frame_at=at, frames_count=3, voted_plate=plate, confidence=0.91,
            decision=decision, reason="=HYPERLINK(\"x\")" if key == "bc_today" else "",
        )  # fmt: skip
    made["south"] = south
    return made


def shown(response) -> list[int]:
    return [row["passage"].pk for row in response.context["rows"]]


def test_the_live_page_shows_every_passage_newest_first_and_refreshes(operator_client, passages):
    response = operator_client.get("/gates/")
    assert response.status_code == 200
    assert shown(response) == [
        passages[k].pk for k in ("aa_today", "bc_today", "aa_yesterday", "unread")
    ]
    assert 'id="auto-refresh"' in response.content.decode()


def test_operators_find_a_car_s_passages_by_any_part_of_its_plate(operator_client, passages):
    # Cyrillic letters and spaces, as the operator types them from the plate
    response = operator_client.get("/gates/", {"plate": "аа 12"})
    assert shown(response) == [passages["aa_today"].pk, passages["aa_yesterday"].pk]
    page = response.content.decode()
    assert 'id="auto-refresh"' not in page  # a search does not reload under the operator
    assert "BC7777AX" not in page
    # or by any part of it: the digits alone, the end
    digits = operator_client.get("/gates/", {"plate": "1234"})
    assert shown(digits) == [passages["aa_today"].pk, passages["aa_yesterday"].pk]
    assert shown(operator_client.get("/gates/", {"plate": "77ах"})) == [passages["bc_today"].pk]


def test_gate_decision_and_days_narrow_the_search(operator_client, passages, gate):
    by_gate = operator_client.get("/gates/", {"gate": passages["south"].pk})
    assert shown(by_gate) == [passages["bc_today"].pk]
    denied = operator_client.get("/gates/", {"decision": "deny"})
    assert shown(denied) == [passages["bc_today"].pk]
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    one_day = operator_client.get(
        "/gates/", {"since": yesterday.isoformat(), "until": yesterday.isoformat()}
    )
    assert shown(one_day) == [passages["aa_yesterday"].pk]
    nothing = operator_client.get("/gates/", {"plate": "KA", "gate": gate.pk})
    assert shown(nothing) == []
    assert "No passages match." in nothing.content.decode()


def test_a_bad_filter_is_a_400_that_says_which(operator_client, passages):
    response = operator_client.get("/gates/", {"since": "yesterday", "decision": "maybe"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "From:" in page
    assert "Decision:" in page
    export = operator_client.get("/gates/passages.csv", {"since": "yesterday"})
    assert export.status_code == 400


def test_pages_follow_one_another_without_a_count(operator_client, passages, monkeypatch):
    monkeypatch.setattr(selectors, "PASSAGES_PAGE_SIZE", 3)
    first = operator_client.get("/gates/")
    assert len(shown(first)) == 3
    assert first.context["page"].has_next
    assert "page=2" in first.content.decode()
    second = operator_client.get("/gates/", {"page": "2"})
    assert shown(second) == [passages["unread"].pk]
    assert not second.context["page"].has_next
    assert 'id="auto-refresh"' not in second.content.decode()


def test_the_export_holds_every_match_with_safe_cells(operator_client, passages):
    response = operator_client.get("/gates/passages.csv", {"decision": "deny"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == list(selectors.PASSAGES_CSV_COLUMNS)
    [row] = rows[1:]
    record = dict(zip(rows[0], row, strict=True))
    assert (record["gate"], record["plate"], record["decision"]) == ("south", "BC7777AX", "deny")
    assert record["reason"] == '\'=HYPERLINK("x")'  # a formula would run in a spreadsheet
    everything = operator_client.get("/gates/passages.csv")
    assert len(list(csv.reader(io.StringIO(b"".join(everything.streaming_content).decode())))) == 5


def test_outsiders_get_neither_the_search_nor_the_export(client, outsider, passages):
    client.force_login(outsider)
    assert client.get("/gates/", {"plate": "AA"}).status_code == 403
    assert client.get("/gates/passages.csv").status_code == 403
