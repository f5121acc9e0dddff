"""The review pages in headless Chromium: log in, work through the queue with the keyboard."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from recognition.models import Reading
from tests.fixtures.factories import (
    FlagFactory,
    ListingFactory,
    ReadingFactory,
    UserFactory,
)
from tests.webapp.review.conftest import PLATE_CORNERS, done_photo
from webapp.checks.models import Flag
from webapp.review import holds
from webapp.review.models import MODERATORS_GROUP, AuditEntry, FlagHold

# The live server runs in another thread while Playwright's loop runs in this one.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
PASSWORD = "correct-horse-battery"


def _flagged(marketplace_id: str, *, declared: str, read: str, severity: int, kind: str) -> Flag:
    listing = ListingFactory(owner=None, marketplace_id=marketplace_id, declared_plate=declared)
    photo = done_photo(listing, plate=read)
    ReadingFactory(
        photo=photo, plate_text=read, plate_format="ua", confidence=0.74, corners=PLATE_CORNERS
    )
    return FlagFactory(
        listing=listing, kind=kind, key=read, plate_text=read, plate_format="ua", severity=severity
    )


@pytest.fixture
def queue_data():
    moderator = UserFactory(username="mila")
    moderator.groups.add(Group.objects.get_or_create(name=MODERATORS_GROUP)[0])
    first = _flagged(
        "MP-1", declared="AA1234BB", read="AA1234B8", severity=3, kind="declared_plate_mismatch"
    )
    second = _flagged(
        "MP-2", declared="KA0001XO", read="KA0001X0", severity=2, kind="plate_not_in_register"
    )
    third = _flagged(
        "MP-3", declared="BC7777CB", read="BC7771CB", severity=1, kind="declared_plate_mismatch"
    )
    return moderator, first, second, third


def _login(page, live_server) -> None:
    page.goto(f"{live_server.url}/review/")
    assert "/accounts/login/" in page.url
    page.fill("#id_username", "mila")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/review/")


def test_a_moderator_works_through_the_queue(page, live_server, queue_data):
    moderator, first, second, third = queue_data
    ARTIFACTS.mkdir(exist_ok=True)

    # log in and open the queue
    _login(page, live_server)
    assert page.locator("table.queue tbody tr[data-flag]").count() == 3
    assert page.locator("#total").inner_text() == "3 flags"
    page.screenshot(path=str(ARTIFACTS / "review_queue.png"), full_page=True)

    # j / k move the cursor, o opens the flag under it
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert page.locator("tr.current").get_attribute("data-flag") == str(first.pk)
    page.keyboard.press("o")
    page.wait_for_url(f"**/review/flags/{first.pk}/**")
    page.locator(".frame img").first.evaluate("img => img.decode()")
    page.locator("img.crop").first.evaluate("img => img.decode()")
    assert page.locator("svg polygon.outline").count() == 1
    assert page.locator("tr.diff[data-field=plate]").count() == 1
    page.screenshot(path=str(ARTIFACTS / "review_detail.png"), full_page=True)

    # j goes to the next flag, k back
    page.keyboard.press("j")
    page.wait_for_url(f"**/review/flags/{second.pk}/**")
    page.keyboard.press("k")
    page.wait_for_url(f"**/review/flags/{first.pk}/**")

    # c confirms and moves on to the next flag
    page.keyboard.press("c")
    page.wait_for_url(f"**/review/flags/{second.pk}/**")
    assert "confirmed" in page.locator(".messages").inner_text()
    assert Flag.objects.get(pk=first.pk).status == Flag.Status.CONFIRMED

    # d focuses the reason; Enter dismisses
    page.keyboard.press("d")
    page.keyboard.type("Register out of date")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/review/flags/{third.pk}/**")
    dismissed = Flag.objects.get(pk=second.pk)
    assert (dismissed.status, dismissed.note) == (Flag.Status.DISMISSED, "Register out of date")

    # e edits the plate; Enter stores a human reading and re-runs the cross-check
    page.keyboard.press("e")
    page.keyboard.type("BC7777CB")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert "Plate corrected to BC7777CB" in page.locator(".messages").inner_text()
    assert Reading.objects.filter(
        source="human", plate_text="BC7777CB", created_by=moderator
    ).exists()

    # the audit entries are on the flags
    page.goto(f"{live_server.url}/review/flags/{second.pk}/")
    audit = page.locator("#audit .audit-entry")
    assert audit.count() == 1
    assert "Register out of date" in audit.first.inner_text()
    assert "mila" in audit.first.inner_text()
    assert AuditEntry.objects.filter(flag_ref=third.pk, action="correct_plate").exists()

    # the dashboard draws its charts from the decisions just made
    page.goto(f"{live_server.url}/review/dashboard/")
    assert page.locator("svg.chart").count() == 4
    page.screenshot(path=str(ARTIFACTS / "review_dashboard.png"), full_page=True)


def test_bulk_dismiss_from_the_queue(page, live_server, queue_data):
    _moderator, first, second, third = queue_data
    _login(page, live_server)

    page.keyboard.press("j")
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    page.fill("input[name=reason]", "Same seller re-listed the car")
    page.click("button[value=dismiss]")
    page.wait_for_load_state()

    assert "2 flag(s) dismissed" in page.locator(".messages").inner_text()
    assert set(Flag.objects.filter(status="dismissed").values_list("pk", flat=True)) == {
        first.pk,
        second.pk,
    }
    assert page.locator("table.queue tbody tr[data-flag]").count() == 1


def test_the_flag_page_shows_what_publishing_hides_and_links_the_copy(
    page, live_server, queue_data
):
    _moderator, first, _second, _third = queue_data
    photo = first.listing.photos.get()
    sticker = [[100.0, 150.0], [180.0, 150.0], [180.0, 175.0], [100.0, 175.0]]
    photo.plate_areas = [
        {"corners": PLATE_CORNERS, "score": 0.97, "read": True},
        {"corners": sticker, "score": 0.41, "read": False},
    ]
    photo.save(update_fields=["plate_areas"])
    _login(page, live_server)
    page.goto(f"{live_server.url}/review/flags/{first.pk}/")
    assert page.locator("svg polygon.outline.unread").count() == 1
    assert page.locator("svg polygon.outline:not(.unread)").count() == 1
    assert "1 more place that may be a plate" in page.locator(".photos").inner_text()

    link = page.get_by_role("link", name="As published, plates hidden")
    href = link.get_attribute("href")
    assert href == f"/review/photos/{photo.pk}/redacted"
    answer = page.request.get(f"{live_server.url}{href}")  # the moderator's session
    assert answer.status == 200
    assert answer.headers["content-type"] == "image/jpeg"
    link.click()
    page.wait_for_url(f"**{href}")
    size = page.locator("img").evaluate("img => img.decode().then(() => img.naturalWidth)")
    assert size == photo.width
    page.screenshot(path=str(ARTIFACTS / "review_photo_plates_hidden.png"))


def test_a_flag_another_moderator_has_open_is_passed_by_and_named(page, live_server, queue_data):
    _moderator, first, second, third = queue_data
    colleague = UserFactory(username="olena")
    colleague.groups.add(Group.objects.get(name=MODERATORS_GROUP))
    holds.flag_hold(flag=second, user=colleague)  # she has the second flag open
    _login(page, live_server)

    assert page.locator(f"tr[data-flag='{second.pk}'] .held").inner_text() == "olena has it open"
    page.keyboard.press("j")
    page.keyboard.press("o")
    page.wait_for_url(f"**/review/flags/{first.pk}/**")
    assert page.locator("#hold-banner").is_hidden()
    page.keyboard.press("j")  # passes her flag by
    page.wait_for_url(f"**/review/flags/{third.pk}/**")

    # While this page stays open, she takes the flag over (its hold ran out): the page's
    # renewal finds her hold and says so, without a reload.
    FlagHold.objects.filter(flag=third).update(until=timezone.now() - dt.timedelta(seconds=1))
    holds.flag_hold(flag=third, user=colleague)
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    page.locator("#hold-banner").wait_for(state="visible")
    assert "olena has had this flag open since" in page.locator("#hold-banner").inner_text()
