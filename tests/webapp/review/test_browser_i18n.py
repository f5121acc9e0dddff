"""The queue and a flag in Ukrainian, in headless Chromium whose locale is uk-UA (so it sends
Accept-Language: uk-UA): the texts are Ukrainian and the keyboard workflow still works."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fixtures.browser import browser_page
from tests.webapp.review.test_accessibility import _tab_walk
from tests.webapp.review.test_browser_pages import _login, review_data  # noqa: F401 (a fixture)
from webapp.checks.models import Flag

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def uk_page() -> Iterator[object]:
    """Like tests.fixtures.browser's page, with a Ukrainian browser."""
    with browser_page(locale="uk-UA", viewport={"width": 1366, "height": 900}) as page:
        yield page


def test_the_queue_in_ukrainian_works_by_keyboard(uk_page, live_server, review_data):  # noqa: F811
    page = uk_page
    _moderator, flags = review_data
    # given a moderator whose browser speaks Ukrainian
    _login(page, live_server)
    assert page.locator("html").get_attribute("lang") == "uk"
    assert page.locator("#total").inner_text() == "4 позначки"
    assert "Підтвердити вибрані" in page.locator("#bulk-form").inner_text()
    # the first Tab reaches the skip link, in Ukrainian
    assert _tab_walk(page, 1)[0]["text"] == "Перейти до вмісту"
    # j moves to the first row, x ticks it, o opens it (review.js, whatever the language)
    page.keyboard.press("j")
    assert page.evaluate("() => document.activeElement.closest('tr.current') !== null")
    page.keyboard.press("o")
    page.wait_for_url(f"**/review/flags/{flags[0].pk}/**")
    assert "Позначка №" in page.locator("h1").inner_text()
    # every action is reached with Tab and labelled in Ukrainian
    walk = _tab_walk(page, 40)
    buttons = {" ".join(w["text"].split()) for w in walk if w["tag"] == "BUTTON"}
    assert {"c Підтвердити невідповідність", "d Відхилити"} <= buttons, buttons
    assert ("SELECT", "language") in {(w["tag"], w["id"]) for w in walk}
    # d then a reason then Enter dismisses it; the success message is Ukrainian
    page.keyboard.press("Escape")
    page.keyboard.press("d")
    page.keyboard.type("Запис реєстру застарів")
    page.keyboard.press("Enter")
    page.wait_for_selector(".msg.success")
    assert f"Позначку №{flags[0].pk} відхилено." in page.locator(".messages").inner_text()
    assert Flag.objects.get(pk=flags[0].pk).status == "dismissed"


def test_the_switcher_works_by_keyboard(uk_page, live_server, review_data):  # noqa: F811
    page = uk_page
    _login(page, live_server)
    # the switcher's select has a visible label and takes the focus from the keyboard
    assert page.locator("label[for=language]").inner_text() == "Мова"
    page.focus("#language")
    page.keyboard.press("ArrowDown")  # Українська -> English
    assert page.input_value("#language") == "en"
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#total").inner_text() == "4 flags"
    # and it sticks for the next page, over the browser's Ukrainian
    page.goto(f"{live_server.url}/review/dashboard/")
    assert page.locator("h1").inner_text() == "Dashboard"
