"""The review and ops pages in headless Chromium at a phone's 375 px and a laptop's 1366 px:
no page scrolls sideways, the top bar spans the width, and the new workflows work."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from tests.fixtures.factories import UserFactory
from tests.webapp.review.factories import RegisterRecordFactory
from tests.webapp.review.test_browser import ARTIFACTS, PASSWORD, _flagged
from webapp.checks.models import Flag
from webapp.gates import services as gate_services
from webapp.gates.models import Passage
from webapp.review.models import MODERATORS_GROUP

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (375, 1366)


@pytest.fixture
def review_data():
    moderator = UserFactory(username="mila", is_staff=True)
    moderator.groups.add(Group.objects.get_or_create(name=MODERATORS_GROUP)[0])
    flags = [
        _flagged("MP-1", declared="AA1234BB", read="AA1234B8", severity=3,
                 kind="declared_plate_mismatch"),
        _flagged("MP-2", declared="KA0001XO", read="KA0001X0", severity=2,
                 kind="plate_not_in_register"),
        _flagged("MP-3", declared="BC7777CB", read="BC7771CB", severity=1,
                 kind="declared_plate_mismatch"),
        _flagged("MP-4", declared="", read="AA1234BB", severity=2,
                 kind="plate_on_other_listing"),
    ]  # fmt: skip
    RegisterRecordFactory(plate_latin="AA1234BB", colour="СІРИЙ", kind="ЛЕГКОВИЙ")
    gate = gate_services.gate_create(name="depot-gate-with-a-long-name")
    device = gate_services.device_create(gate=gate).device
    now = timezone.now()
    Passage.objects.create(
        gate=gate, device=device, started_at=now, last_frame_at=now, frames_count=4,
        voted_plate="AA1234B8", confidence=0.91, decision="deny",
        reason="not on the gate's list and not confusable with an allowed plate",
    )  # fmt: skip
    return moderator, flags


def _login(page, live_server) -> None:
    page.goto(f"{live_server.url}/review/")
    page.fill("#id_username", "mila")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/review/")


def _assert_fits(page, width: int, name: str) -> None:
    layout = page.evaluate(
        """() => {
        const bar = document.querySelector('.topbar').getBoundingClientRect();
        const who = document.querySelector('.who').getBoundingClientRect();
        return {scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
                bar: bar.width, whoRight: who.right, whoBottom: who.bottom, barBottom: bar.bottom};
    }"""
    )
    assert layout["inner"] == width
    assert layout["scroll"] <= width, f"{name} is {layout['scroll']} px wide at {width} px"
    assert layout["bar"] == width, f"{name}: the top bar stops at {layout['bar']} px"
    # "moderator / Log out" sits on the dark bar, not below it on the light page
    assert layout["whoRight"] <= width
    assert layout["whoBottom"] <= layout["barBottom"]
    page.screenshot(path=str(ARTIFACTS / f"{name}_{width}.png"), full_page=True)


@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_scrolls_sideways(page, live_server, review_data, width):
    _moderator, flags = review_data
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": width, "height": 800})
    _login(page, live_server)
    base = live_server.url
    pages = {
        "queue": "/review/",
        "flag": f"/review/flags/{flags[0].pk}/",
        "dashboard": "/review/dashboard/",
        "plate_search": "/review/plates/?q=AA1234BB",
        "plate_history": "/review/plates/AA1234BB/",
        "audit_log": "/review/audit/",
        "model_versions": "/ops/models/",
    }
    for name, path in pages.items():
        page.goto(base + path)
        _assert_fits(page, width, name)
    # on a phone the kinds list starts folded, so the flags are on the first screen
    page.goto(base + "/review/")
    kinds_open = page.locator("#kinds-box").evaluate("d => d.open")
    assert kinds_open is (width > 700)
    first_row_top = page.locator("table.queue tbody tr").first.bounding_box()["y"]
    assert first_row_top < 800 or width > 700
    # the bulk confirmation page too
    page.check("#select-matching")
    page.fill("input[name=reason]", "duplicate")
    page.click("button[value=dismiss]")
    page.wait_for_selector("#bulk-confirm")
    _assert_fits(page, width, "bulk_confirm")


def test_search_history_sort_and_bulk_over_the_filter(page, live_server, review_data):
    _moderator, flags = review_data
    page.set_viewport_size({"width": 1366, "height": 900})
    _login(page, live_server)

    # sort by plate, then the other way
    page.click("a.sort[data-sort=plate]")
    page.wait_for_url("**sort=plate**")
    plates = page.locator("table.queue tbody td.plate").all_inner_texts()
    assert plates == sorted(plates)
    page.click("a.sort[data-sort=plate]")
    page.wait_for_url("**sort=-plate**")
    assert page.locator("table.queue tbody td.plate").all_inner_texts() == sorted(plates)[::-1]

    # plate search from the nav, through a look-alike, to the plate's history
    page.click("nav >> text=Plates")
    page.fill("#id_q", "aa 1234 bb")
    page.press("#id_q", "Enter")
    page.wait_for_selector("#search-results")
    assert page.locator("#search-results tr[data-source=reading]").count() == 2
    page.locator("#search-results a.plate", has_text="AA1234B8").first.click()
    page.wait_for_url("**/review/plates/AA1234B8/")
    assert page.locator("#listings tbody tr").count() == 2  # MP-1 and MP-4
    assert "(grey)" in page.locator("#register").inner_text()
    assert "depot-gate-with-a-long-name" in page.locator("#passages").inner_text()

    # the flag page links to that history
    page.goto(f"{live_server.url}/review/flags/{flags[0].pk}/")
    page.click("#plate-history")
    page.wait_for_url("**/review/plates/AA1234B8/")

    # dismiss without a reason: an error, and the ticked rows stay ticked
    page.goto(f"{live_server.url}/review/")
    page.check(f"input[name=flag][value='{flags[1].pk}']")
    page.check(f"input[name=flag][value='{flags[2].pk}']")
    page.click("button[value=dismiss]")
    page.wait_for_selector(".msg.error")
    ticked = page.locator("input[name=flag]:checked").evaluate_all("bs => bs.map(b => b.value)")
    assert sorted(ticked) == sorted([str(flags[1].pk), str(flags[2].pk)])

    # every flag matching "declared plate mismatch": count, confirmation, done
    page.goto(f"{live_server.url}/review/?status=open&kind=declared_plate_mismatch")
    page.check("#select-matching")
    page.fill("input[name=reason]", "seller fixed the plate")
    page.click("button[value=dismiss]")
    page.wait_for_selector("#bulk-confirm")
    assert page.locator("#bulk-count").inner_text() == "2"
    page.click("#bulk-yes")
    page.wait_for_selector(".msg.success")
    assert "2 flag(s) dismissed" in page.locator(".messages").inner_text()
    assert Flag.objects.filter(status="dismissed").count() == 2

    # ... which the audit log shows, filtered by action
    page.goto(f"{live_server.url}/review/audit/")
    page.select_option("#id_action", "dismiss")
    page.click("button:has-text('Filter')")
    page.wait_for_url("**action=dismiss**")
    assert page.locator("#audit-log .audit-entry").count() == 2
