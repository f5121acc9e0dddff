"""The staff pages in Ukrainian: chosen by the browser's Accept-Language or the header's
switcher, English otherwise; the flash messages of a moderator's actions follow the page."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import timezone

from webapp.gates import services as gate_services
from webapp.gates.models import Passage
from webapp.review import services

pytestmark = pytest.mark.django_db

UK = {"HTTP_ACCEPT_LANGUAGE": "uk-UA,uk;q=0.9,en;q=0.5"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9"}


@pytest.fixture
def staff_data(flagged_listing, moderator, second_moderator):
    """A flag to open, a decided one (dashboard, audit log), a gate with a passage."""
    from tests.fixtures.factories import FlagFactory

    decided = FlagFactory(listing=flagged_listing["listing"], kind="make_mismatch", key="make")
    services.flag_dismiss(
        flag_id=decided.pk, version=decided.version, user=second_moderator, reason="typo"
    )
    gate = gate_services.gate_create(name="depot")
    device = gate_services.device_create(gate=gate).device
    now = timezone.now()
    Passage.objects.create(
        gate=gate, device=device, started_at=now, last_frame_at=now, frames_count=3,
        voted_plate="AA1234B8", confidence=0.91, decision="deny", reason="not on the list",
    )  # fmt: skip
    gate_services.access_entry_add(gate=gate, plate="KA0101AM", added_by=moderator)
    return {"flag": flagged_listing["flag"], "gate": gate}


def _pages(data: dict) -> dict[str, tuple[str, list[str], list[str]]]:
    """name -> (path, Ukrainian texts the page shows, their English)."""
    flag, gate = data["flag"], data["gate"]
    return {
        "queue": ("/review/", ["Черга перевірки", "Підтвердити вибрані", "Номерний знак"],
                  ["Review queue", "Confirm selected", "Plate"]),
        "flag": (f"/review/flags/{flag.pk}/",
                 [f"Позначка №{flag.pk}: Невідповідність заявленого номера",
                  "Підтвердити невідповідність", "Заявлено продавцем", "Марка"],
                 [f"Flag #{flag.pk}: Declared plate mismatch", "Confirm mismatch",
                  "Declared by seller", "Make"]),
        "dashboard": ("/review/dashboard/", ["Панель показників", "Хибні спрацювання"],
                      ["Dashboard", "False alarms"]),
        "plate_search": ("/review/plates/?q=AA1234BB", ["Пошук номерного знака", "Де знайдено"],
                         ["Plate search", "Found in"]),
        "plate_history": ("/review/plates/AA1234B8/", ["Записи реєстру в часі", "Позначки"],
                          ["Register records over time", "Flags"]),
        "audit_log": ("/review/audit/", ["Журнал дій", "Відхилити", "1 запис"],
                      ["Audit log", "Dismiss", "1 entry"]),
        "gate_passages": ("/gates/", ["Проїзди наживо", "Відмовити", "Оновлювати кожні 5 секунд"],
                          ["Live passages", "Deny", "Refresh every 5 seconds"]),
        "gate_devices": ("/gates/devices/", ["Пристрої", "Востаннє на зв'язку"],
                         ["Devices", "Last seen"]),
        "gate_access": (f"/gates/{gate.pk}/access/", ["Список доступу: depot", "Діє з"],
                        ["Access list: depot", "Valid from"]),
    }  # fmt: skip


def _text(response) -> str:
    # apostrophes come out as &#x27;: compare the page's text, not its escaping
    return response.content.decode().replace("&#x27;", "'")


@pytest.mark.parametrize(
    "name",
    ["queue", "flag", "dashboard", "plate_search", "plate_history", "audit_log",
     "gate_passages", "gate_devices", "gate_access"],
)  # fmt: skip
def test_a_page_is_in_ukrainian_for_a_ukrainian_browser_and_english_otherwise(
    mod_client, staff_data, name
):
    path, ukrainian, english = _pages(staff_data)[name]
    # when a Ukrainian browser asks
    page = mod_client.get(path, **UK)
    # then the page is Ukrainian, says so, and says it depends on the language asked for
    assert page.status_code == 200
    body = _text(page)
    assert '<html lang="uk">' in body
    assert page["Content-Language"] == "uk"
    assert "Accept-Language" in page["Vary"]
    for text in ukrainian:
        assert text in body, text
    # and an English one gets English
    body = _text(mod_client.get(path, **EN))
    assert '<html lang="en">' in body
    for text in english:
        assert text in body, text
    assert not any(text in body for text in ukrainian if text[:1] not in "0123456789")


def test_the_login_page_follows_the_browser_and_a_failed_login_says_why_in_ukrainian(
    client, moderator
):
    page = _text(client.get("/accounts/login/", **UK))
    assert '<html lang="uk">' in page
    assert "<h1>Увійти</h1>" in page
    assert "Ім'я користувача" in page
    failed = client.post("/accounts/login/", {"username": "x", "password": "y"}, **UK)
    assert "Ім'я користувача або пароль не збігаються" in _text(failed)
    assert "<h1>Log in</h1>" in _text(Client().get("/accounts/login/", **EN))


def test_a_language_the_pages_do_not_have_falls_back_to_english(client):
    page = _text(client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9"))
    assert '<html lang="en">' in page
    assert "<h1>Log in</h1>" in page


def test_the_switcher_sets_the_language_of_the_next_pages(mod_client, staff_data):
    # given the header's switcher on an English page
    page = _text(mod_client.get("/review/", **EN))
    assert '<form class="lang" method="post" action="/i18n/setlang/">' in page
    assert '<label for="language">Language</label>' in page
    assert '<option value="uk" lang="uk">Українська</option>' in page
    # when the moderator picks Ukrainian
    switched = mod_client.post("/i18n/setlang/", {"language": "uk", "next": "/review/"}, **EN)
    # then they are back on the page, and it and the next ones are Ukrainian (a cookie wins
    # over the browser's Accept-Language)
    assert switched.status_code == 302
    assert switched["Location"] == "/review/"
    for path in ("/review/", "/review/dashboard/", "/gates/"):
        body = _text(mod_client.get(path, **EN))
        assert '<html lang="uk">' in body, path
    assert '<option value="uk" lang="uk" selected>Українська</option>' in body
    # and back to English
    mod_client.post("/i18n/setlang/", {"language": "en", "next": "/review/"})
    assert "Review queue" in _text(mod_client.get("/review/", **UK))


def test_a_dismissal_without_a_reason_and_a_decision_are_reported_in_ukrainian(
    mod_client, flagged_listing
):
    flag = flagged_listing["flag"]
    # when the moderator dismisses without a reason
    page = mod_client.post(
        f"/review/flags/{flag.pk}/dismiss/", {"version": flag.version}, follow=True, **UK
    )
    # then the error is Ukrainian
    assert "Вкажіть причину відхилення позначки." in _text(page)
    # when they confirm it
    page = mod_client.post(
        f"/review/flags/{flag.pk}/confirm/", {"version": flag.version}, follow=True, **UK
    )
    assert re.search(rf'Позначку <a href="[^"]*">№{flag.pk}</a> підтверджено\.', _text(page))
    # and a stale form (another moderator got there first) is told so in Ukrainian
    page = mod_client.post(
        f"/review/flags/{flag.pk}/dismiss/",
        {"version": flag.version, "reason": "дубль"},
        follow=True,
        **UK,
    )
    assert (
        f"Позначку №{flag.pk} змінив moderator, поки ви її переглядали (тепер: підтверджено)"
        in _text(page)
    )


def test_a_bulk_dismissal_counts_in_ukrainian_plurals(mod_client, flagged_listing):
    from tests.fixtures.factories import FlagFactory

    listing = flagged_listing["listing"]
    flags = [flagged_listing["flag"]] + [
        FlagFactory(listing=listing, kind="make_mismatch", key=f"k{i}") for i in range(4)
    ]
    data = {"decision": "dismiss", "reason": "дубль", "flag": [f.pk for f in flags]}
    data.update({f"version_{f.pk}": f.version for f in flags})
    page = mod_client.post("/review/bulk/", data, follow=True, **UK)
    assert "Відхилено 5 позначок." in _text(page)


def test_the_apis_stay_english_whatever_the_client_asks(client, api_client):
    # the partner API: its error texts are English (and its codes stable) for every client
    answer = api_client.get("/api/v1/listings/", HTTP_ACCEPT_LANGUAGE="uk")
    assert answer.status_code == 401
    assert "Content-Language" not in answer
    assert "Authentication credentials were not provided." in answer.content.decode()
    health = client.get("/healthz", HTTP_ACCEPT_LANGUAGE="uk")
    assert "Content-Language" not in health
