"""Tokens: hashed at rest, scoped, expiring, revocable, rotated; commands and admin."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from rest_framework.test import APIClient

from tests.fixtures import images
from tests.fixtures.factories import ListingFactory, UserFactory
from webapp.partners.models import PartnerToken

pytestmark = pytest.mark.django_db

KEY = re.compile(r"^pc_[0-9a-f]{12}_\S{40,}$", re.MULTILINE)


def upload():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("car.jpg", images.jpeg(), content_type="image/jpeg")


# (scope, request) pairs: each request needs exactly that scope.
REQUESTS = {
    "read": lambda c, listing: c.get(f"/api/v1/listings/{listing.pk}/"),
    "write": lambda c, listing: c.post(
        f"/api/v1/listings/{listing.pk}/photos/", {"photos": [upload()]}, format="multipart"
    ),
    "webhooks": lambda c, listing: c.get("/api/v1/webhooks/endpoints/"),
    "recognize": lambda c, listing: c.post(
        "/api/v1/recognize/", {"upload": upload()}, format="multipart"
    ),
}


@pytest.mark.parametrize("scope", sorted(REQUESTS))
def test_each_scope_allows_its_requests_and_nothing_more(token_client, partner, scope):
    listing = ListingFactory(owner=partner)
    client = token_client(partner, scopes=[scope])
    for wanted, send in REQUESTS.items():
        status = send(client, listing).status_code
        if wanted == scope:
            assert status in (200, 201), (scope, wanted, status)
        else:
            assert status == 403, (scope, wanted, status)


def test_the_key_is_stored_only_as_a_hash(token_client, partner):
    client = token_client(partner)
    row = PartnerToken.objects.get(pk=client.token.pk)
    assert client.key not in (row.key_hash, row.prefix)
    assert client.key.split("_", 2)[2] not in row.key_hash  # the secret may hold "_"
    assert client.get("/api/v1/listings/").status_code == 200
    row.refresh_from_db()
    assert row.last_used_at is not None


def test_an_expired_token_is_refused(token_client, partner):
    client = token_client(partner)
    PartnerToken.objects.filter(pk=client.token.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert client.get("/api/v1/listings/").status_code == 401


def test_a_revoked_token_is_refused_and_a_partner_may_revoke_only_its_own(
    token_client, partner, other_partner
):
    mine = token_client(partner)
    second = token_client(partner)
    theirs = token_client(other_partner)
    assert mine.post(f"/api/v1/tokens/{theirs.token.prefix}/revoke/").status_code == 404
    assert mine.post(f"/api/v1/tokens/{second.token.prefix}/revoke/").status_code == 200
    assert second.get("/api/v1/listings/").status_code == 401
    assert theirs.get("/api/v1/listings/").status_code == 200
    listed = mine.get("/api/v1/tokens/").json()
    assert {t["prefix"] for t in listed} == {mine.token.prefix, second.token.prefix}
    assert all("token" not in t and "key_hash" not in t for t in listed)


def test_rotation_gives_a_new_key_and_stops_the_old(token_client, partner):
    old = token_client(partner, scopes=["read"])
    response = old.post("/api/v1/tokens/rotate/")
    assert response.status_code == 201
    body = response.json()
    assert body["scopes"] == ["read"]
    assert old.get("/api/v1/listings/").status_code == 401
    new = APIClient()
    new.credentials(HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert new.get("/api/v1/listings/").status_code == 200


def test_partner_add_prints_a_working_first_token():
    out = io.StringIO()
    call_command("partner_add", "acme", "--email", "ops@acme.test", stdout=out)
    key = KEY.search(out.getvalue()).group(0)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/listings/").status_code == 200
    with pytest.raises(CommandError, match="already exists"):
        call_command("partner_add", "acme", stdout=io.StringIO())


def test_partner_token_command_creates_lists_and_revokes(partner):
    out = io.StringIO()
    call_command(
        "partner_token", "create", "partner", "--name", "ci", "--scopes", "read", "--days", "7",
        stdout=out,
    )  # fmt: skip
    key = KEY.search(out.getvalue()).group(0)
    token = PartnerToken.objects.get(name="ci")
    assert token.scopes == ["read"]
    assert timedelta(days=6) < token.expires_at - timezone.now() <= timedelta(days=7)
    listing = io.StringIO()
    call_command("partner_token", "list", "partner", stdout=listing)
    assert token.prefix in listing.getvalue()
    assert key not in listing.getvalue()
    call_command("partner_token", "revoke", token.prefix, stdout=io.StringIO())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/listings/").status_code == 401
    with pytest.raises(CommandError, match="scopes"):
        call_command("partner_token", "create", "partner", "--scopes", "admin")


def test_the_admin_shows_a_new_key_once_and_never_the_hash(client, partner):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    response = client.post(
        "/admin/partners/partnertoken/add/",
        {"user": partner.pk, "name": "from admin", "scopes": ["read", "write"], "days": 30},
        follow=True,
    )
    assert response.status_code == 200
    token = PartnerToken.objects.get(name="from admin")
    shown = re.search(r"pc_[0-9a-f]{12}_[\w-]{40,}", response.content.decode())
    assert shown is not None
    assert token.key_hash not in response.content.decode()
    # DRF's plain-text token admin is gone
    assert client.get("/admin/authtoken/tokenproxy/").status_code == 404
    page = client.get(f"/admin/partners/partnertoken/{token.pk}/change/").content.decode()
    assert token.key_hash not in page
    assert shown.group(0) not in page
