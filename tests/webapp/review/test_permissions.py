from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

GET_PAGES = ["queue", "dashboard", "flag", "plate_crop", "photo_image", "photo_redacted"]
POST_PAGES = ["confirm", "dismiss", "correct", "bulk"]


def _url(name: str, data) -> str:
    args = {
        "flag": [data["flag"].pk],
        "confirm": [data["flag"].pk],
        "dismiss": [data["flag"].pk],
        "correct": [data["flag"].pk],
        "plate_crop": [data["reading"].pk],
        "photo_image": [data["photo"].pk],
        "photo_redacted": [data["photo"].pk],
    }.get(name, [])
    return reverse(f"review:{name}", args=args)


@pytest.mark.parametrize("name", GET_PAGES + POST_PAGES)
def test_anonymous_users_are_sent_to_the_login_page(name, flagged_listing):
    client = Client()
    url = _url(name, flagged_listing)

    response = client.post(url) if name in POST_PAGES else client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("name", GET_PAGES + POST_PAGES)
def test_signed_in_non_moderators_get_403(name, outsider, flagged_listing):
    client = Client()
    client.force_login(outsider)
    url = _url(name, flagged_listing)

    response = (
        client.post(url, {"version": 1, "reason": "x"}) if name in POST_PAGES else client.get(url)
    )

    assert response.status_code == 403
    flagged_listing["flag"].refresh_from_db()
    assert flagged_listing["flag"].status == "open"


def test_staff_without_the_group_is_still_refused(flagged_listing):
    from tests.fixtures.factories import UserFactory

    client = Client()
    client.force_login(UserFactory(username="ops", is_staff=True))

    assert client.get(reverse("review:queue")).status_code == 403


@pytest.mark.parametrize("name", GET_PAGES)
def test_moderators_see_every_page(name, mod_client, flagged_listing):
    response = mod_client.get(_url(name, flagged_listing))

    assert response.status_code == 200


def test_moderators_can_act(mod_client, flagged_listing):
    flag = flagged_listing["flag"]

    response = mod_client.post(_url("confirm", flagged_listing), {"version": flag.version})

    assert response.status_code == 302
    flag.refresh_from_db()
    assert flag.status == "confirmed"


def test_the_login_page_renders(client):
    response = client.get("/accounts/login/?next=/review/")

    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b'name="next" value="/review/"' in response.content


def test_actions_need_post(mod_client, flagged_listing):
    assert mod_client.get(_url("confirm", flagged_listing)).status_code == 405
