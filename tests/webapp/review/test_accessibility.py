"""Every page a moderator or gate operator works in (and the login page), in headless Chromium,
checked by axe-core against WCAG 2.0 and 2.1, levels A and AA; then what axe cannot see: the
queue and a flag worked by keyboard with the focus shown, and the live passages' reload stopped.

axe-core is the copy inside the axe-playwright-python wheel (requirements.txt): nothing is fetched
when the test runs. A "serious" or "critical" violation fails the page it was found on.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.utils import timezone

from registry.models import ImportRun
from tests.fixtures.factories import (
    PhotoFactory,
    PhotoReadFactory,
    ReadingFactory,
    UserFactory,
    jpeg_bytes,
)
from tests.webapp.review.test_browser_pages import _login, review_data  # noqa: F401 (a fixture)
from webapp.gates import services as gate_services
from webapp.gates.models import Direction, Frame, Gate, Passage, Site
from webapp.gates.visits import visit_record
from webapp.listings.models import ListingEdit
from webapp.listings.partners import partners_group
from webapp.partners.models import PartnerQuota, UsageDay, WebhookEndpoint
from webapp.review import holds
from webapp.review import services as review_services
from webapp.review.models import MODERATORS_GROUP

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# axe's two lower impacts ("minor", "moderate") do not fail a page (none is found today).
FAILING_IMPACTS = {"serious", "critical"}
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}


@pytest.fixture
def pages_data(review_data):  # noqa: F811 (the fixture imported above)
    """The browser page tests' flags, plus decisions (dashboard, audit log, a decided flag) and
    a gate with a device, a framed passage and an access list."""
    moderator, flags = review_data
    review_services.flag_dismiss(
        flag_id=flags[3].pk, version=flags[3].version, user=moderator, reason="Register out of date"
    )
    review_services.flag_confirm(
        flag_id=flags[2].pk, version=flags[2].version, user=moderator, note="Plate swapped"
    )
    gate = Gate.objects.get()
    passage = Passage.objects.get()
    now = timezone.now()
    Frame.objects.create(
        passage=passage, device=passage.device, client_frame_id="f-1",
        image=ContentFile(jpeg_bytes(640, 360), name="f-1.jpg"), width=640, height=360,
        captured_at=now, received_at=now, status=Frame.Status.DONE, plate_text="AA1234B8",
        confidence=0.91, corners=[[200, 150], [420, 150], [420, 200], [200, 200]], decision="deny",
        char_confidences=[0.99, 0.98, 0.97, 0.41, 0.95, 0.96, 0.99, 0.9],
    )  # fmt: skip
    gate_services.access_entry_add(gate=gate, plate="KA0101AM", days="01234", added_by=moderator)
    # the gate lets cars into a car park: one on site for too long, one that has left
    site = Site.objects.create(name="Car park", capacity=20, max_stay_hours=8)
    Gate.objects.filter(pk=gate.pk).update(site=site, direction=Direction.ENTRY)
    way_out = gate_services.gate_create(name="out", site=site.name, direction=Direction.EXIT)
    exit_device = gate_services.device_create(gate=way_out).device
    for plate, hours_ago, exit_gate in [("AA1234BB", 9, None), ("KA0101AM", 3, way_out)]:
        entered = passage.device.passages.create(
            gate_id=gate.pk, started_at=now - timedelta(hours=hours_ago), last_frame_at=now,
            voted_plate=plate, decision="open",
        )  # fmt: skip
        visit_record(passage=entered)
        if exit_gate is not None:
            left = exit_device.passages.create(
                gate=exit_gate, started_at=now - timedelta(hours=1), last_frame_at=now,
                voted_plate=plate, decision="open",
            )  # fmt: skip
            visit_record(passage=left)
    # two engine versions read one photo, the newer otherwise: the comparison has a row
    photo = PhotoFactory()
    for version, text, ago in (("det-a+ocr-a", "AA1234BB", 1), ("det-b+ocr-b", "AA1234BE", 0)):
        ReadingFactory(photo=photo, model_version=version, plate_text=text)
        PhotoReadFactory(photo=photo, model_version=version, read_at=now - timedelta(days=ago))
    # a partner near its quota, with an endpoint switched off: the partners page's marks
    partner = UserFactory(username="acme")
    partner.groups.add(partners_group())
    PartnerQuota.objects.create(user=partner, photos_per_month=100)
    UsageDay.objects.create(user=partner, day=timezone.localdate(), kind="photo", count=85)
    WebhookEndpoint.objects.create(
        owner=partner, url="https://acme.example/h", secret="s", is_active=False
    )
    # the first flag's seller changed the listing, and the register is two months old: the
    # flag page's edits table and its warning
    ListingEdit.objects.create(
        listing=flags[0].listing, by=partner, changes={"declared_make": ["Lada", "Toyota"]}
    )
    ListingEdit.objects.create(
        listing=flags[0].listing,
        by=partner,
        changes={"photo_removed": ["photo 9 (AA1234BB)", None]},
    )
    ImportRun.objects.create(
        file_name="r.zip", status=ImportRun.Status.DONE, finished_at=now - timedelta(days=60)
    )
    return {"flags": flags, "gate": gate, "site": site, "passage": passage}


def _goto(path: Callable[[dict[str, Any]], str]) -> Callable[..., None]:
    def open_page(page, base: str, data: dict[str, Any]) -> None:
        page.goto(base + path(data))

    return open_page


def _login_failed(page, base: str, data: dict[str, Any]) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "mila")
    page.fill("#id_password", "not-the-password")
    page.click("button[type=submit]")
    page.wait_for_selector(".msg.error")


def _queue_error(page, base: str, data: dict[str, Any]) -> None:
    # dismiss without a reason: the error message, the ticked rows kept
    page.goto(f"{base}/review/")
    page.check(f"input[name=flag][value='{data['flags'][0].pk}']")
    page.click("button[value=dismiss]")
    page.wait_for_selector(".msg.error")


def _bulk_confirm(page, base: str, data: dict[str, Any]) -> None:
    page.goto(f"{base}/review/")
    page.check("#select-matching")
    page.fill("input[name=reason]", "duplicate")
    page.click("button[value=dismiss]")
    page.wait_for_selector("#bulk-confirm")


def _held_by_a_colleague(path: Callable[[dict[str, Any]], str]) -> Callable[..., None]:
    """The page with the second flag open on another moderator's screen (its row and banner)."""

    def open_page(page, base: str, data: dict[str, Any]) -> None:
        colleague = UserFactory(username="olena")
        colleague.groups.add(Group.objects.get(name=MODERATORS_GROUP))
        assert holds.flag_hold(flag=data["flags"][1], user=colleague) is not None
        page.goto(base + path(data))

    return open_page


# name -> (logged in?, how to get there)
PAGES: dict[str, tuple[bool, Callable[..., None]]] = {
    "login": (False, _goto(lambda d: "/accounts/login/")),
    "login_failed": (False, _login_failed),
    "queue": (True, _goto(lambda d: "/review/")),
    "queue_error": (True, _queue_error),
    "bulk_confirm": (True, _bulk_confirm),
    "flag": (True, _goto(lambda d: f"/review/flags/{d['flags'][0].pk}/")),
    "flag_decided": (True, _goto(lambda d: f"/review/flags/{d['flags'][3].pk}/")),
    "queue_held": (True, _held_by_a_colleague(lambda d: "/review/")),
    "flag_held": (True, _held_by_a_colleague(lambda d: f"/review/flags/{d['flags'][1].pk}/")),
    "dashboard": (True, _goto(lambda d: "/review/dashboard/")),
    "plate_search": (True, _goto(lambda d: "/review/plates/")),
    "plate_search_results": (True, _goto(lambda d: "/review/plates/?q=AA1234BB")),
    "plate_history": (True, _goto(lambda d: "/review/plates/AA1234B8/")),
    "audit_log": (True, _goto(lambda d: "/review/audit/")),
    "model_versions": (True, _goto(lambda d: "/ops/models/")),
    "model_compare": (True, _goto(lambda d: "/ops/models/compare/")),
    "model_corrections": (True, _goto(lambda d: "/ops/models/corrections/")),
    "partners": (True, _goto(lambda d: "/ops/partners/")),
    "gate_passages": (True, _goto(lambda d: "/gates/")),
    "gate_passage": (True, _goto(lambda d: f"/gates/passages/{d['passage'].pk}/")),
    "gate_devices": (True, _goto(lambda d: "/gates/devices/")),
    "gate_access_list": (True, _goto(lambda d: f"/gates/{d['gate'].pk}/access/")),
    "gate_sites": (True, _goto(lambda d: "/gates/sites/")),
    "gate_audit": (True, _goto(lambda d: "/gates/audit/")),
    "gate_site": (True, _goto(lambda d: f"/gates/sites/{d['site'].pk}/")),
}


def _report(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            # the summary's last line says what is wrong with this node (e.g. the contrast ratio)
            why = (node.get("failureSummary") or "").strip().splitlines()[-1:]
            lines.append(f"    {' '.join(map(str, node['target']))}  {' '.join(why).strip()}")
    return "\n".join(lines)


@pytest.mark.parametrize("name", PAGES)
def test_the_page_has_no_serious_wcag_violation(page, live_server, pages_data, name):
    from axe_playwright_python.sync_playwright import Axe

    # given: the page as a moderator sees it, with realistic data
    logged_in, open_page = PAGES[name]
    page.set_viewport_size({"width": 1366, "height": 900})
    if logged_in:
        _login(page, live_server)
    open_page(page, live_server.url, pages_data)
    page.wait_for_load_state("load")
    if logged_in:
        assert "/accounts/login/" not in page.url
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    # when: axe-core checks it
    results = Axe().run(page, options=AXE_OPTIONS).response
    # then: axe-core ran offline (it asked nothing of another host), and found nothing serious
    assert [url for url in requested if not url.startswith(live_server.url)] == []
    failing = [v for v in results["violations"] if v["impact"] in FAILING_IMPACTS]
    assert not failing, f"{name}: {len(failing)} WCAG violation(s)\n{_report(failing)}"


def test_the_axe_core_script_is_the_bundled_one():
    # The check must run offline: the script comes from the wheel, not from a CDN.
    from axe_playwright_python.base import AXE_SCRIPT

    assert AXE_SCRIPT.startswith("/*! axe v4.")


def _tab_walk(page, presses: int) -> list[dict[str, Any]]:
    """Tab through the page from the top; what got the focus, and whether it showed."""
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    seen = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        seen.append(
            page.evaluate(
                """() => {
                const el = document.activeElement, style = getComputedStyle(el);
                return {tag: el.tagName, id: el.id, name: el.getAttribute('name'),
                        text: el.innerText || el.value || '', visible: style.outlineStyle !== 'none'
                        && parseFloat(style.outlineWidth) >= 2};
            }"""
            )
        )
    return seen


def test_the_queue_and_a_flag_work_by_keyboard_with_the_focus_visible(
    page, live_server, pages_data
):
    flags = pages_data["flags"]
    page.set_viewport_size({"width": 1366, "height": 900})
    _login(page, live_server)

    # the first Tab reaches the skip link, shown over the top bar
    first = _tab_walk(page, 1)[0]
    assert first["text"] == "Skip to content"
    assert page.locator("a.skip").bounding_box()["y"] >= 0
    # j puts the focus on the row's link; Enter on it opens the flag (it was swallowed before)
    page.keyboard.press("j")
    assert page.evaluate("() => document.activeElement.closest('tr.current') !== null")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/review/flags/{flags[0].pk}/**")
    # every action on the flag page is reached with Tab, and each shows its focus
    walk = _tab_walk(page, 40)
    reached = {(w["tag"], w["id"] or w["name"] or w["text"].strip()) for w in walk}
    for control in [
        ("INPUT", "reason"),  # the confirm's note
        ("INPUT", "dismiss-reason"),
        ("SELECT", "photo_id"),
        ("INPUT", "plate-input"),
        ("A", "next-flag"),
        ("A", "plate-history"),
    ]:
        assert control in reached, control
    buttons = {" ".join(w["text"].split()) for w in walk if w["tag"] == "BUTTON"}
    assert {"c Confirm mismatch", "d Dismiss", "e Correct plate & re-check"} <= buttons, buttons
    focused = [w for w in walk if w["tag"] != "BODY"]  # BODY: Tab went past the last control
    hidden = [(w["tag"], w["id"] or w["text"][:30]) for w in focused if not w["visible"]]
    assert hidden == [], hidden
    # Enter on a focused nav link follows it on the queue too
    page.goto(f"{live_server.url}/review/")
    page.focus("nav[aria-label=Main] >> text=Dashboard")
    page.keyboard.press("Enter")
    page.wait_for_url("**/review/dashboard/")


def test_the_live_passages_refresh_until_the_operator_stops_them(page, live_server, pages_data):
    _login(page, live_server)
    page.goto(f"{live_server.url}/gates/")
    # the page reloads itself ...
    with page.expect_event("load", timeout=8_000):
        pass
    # ... until the box is unticked, and stays stopped after a reload by hand
    page.uncheck("#auto-refresh")
    page.reload()
    assert not page.is_checked("#auto-refresh")
    page.evaluate("() => { window.stayed = true; }")
    page.wait_for_timeout(6_500)
    assert page.evaluate("() => window.stayed === true")
