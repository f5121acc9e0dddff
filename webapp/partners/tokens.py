"""Partner accounts and their API tokens: writes and reads.

A key reads `pc_<prefix>_<secret>`. The prefix finds the row; only the sha256 of the whole key is
stored, compared in constant time. A key has 256 random bits, so a plain hash is enough: a slow
password hash would only make every API call slower.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from webapp.listings.partners import partners_group
from webapp.partners.models import ALL_SCOPES, PartnerToken

KEY_PREFIX = "pc"
# last_used_at is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedToken:
    token: PartnerToken
    key: str  # shown once; never stored


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _scopes_clean(scopes: Iterable[str]) -> list[str]:
    chosen = sorted(set(scopes))
    unknown = [s for s in chosen if s not in ALL_SCOPES]
    if unknown or not chosen:
        raise ValueError(f"scopes must be a non-empty subset of {', '.join(ALL_SCOPES)}")
    return chosen


def token_create(
    *,
    user: AbstractBaseUser,
    name: str,
    scopes: Iterable[str] = ALL_SCOPES,
    days: int | None = None,
) -> IssuedToken:
    days = settings.PARTNER_TOKEN_DAYS if days is None else days
    if days <= 0:
        raise ValueError("a token must live at least one day")
    prefix = secrets.token_hex(6)
    key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    token = PartnerToken.objects.create(
        user=user,
        name=name.strip()[:64] or "token",
        prefix=prefix,
        key_hash=_hash(key),
        scopes=_scopes_clean(scopes),
        expires_at=timezone.now() + timedelta(days=days),
    )
    return IssuedToken(token=token, key=key)


def token_revoke(*, token: PartnerToken) -> PartnerToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def token_rotate(*, token: PartnerToken, days: int | None = None) -> IssuedToken:
    """A new key with the same name and scopes; the old one stops working at once."""
    with transaction.atomic():
        issued = token_create(user=token.user, name=token.name, scopes=token.scopes, days=days)
        token_revoke(token=token)
    return issued


def token_authenticate(*, key: str) -> PartnerToken | None:
    """The active token for this key, or None (unknown, wrong, expired or revoked)."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    token = PartnerToken.objects.select_related("user").filter(prefix=parts[1]).first()
    if token is None or not hmac.compare_digest(token.key_hash, _hash(key)):
        return None
    if not token.is_active or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        PartnerToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def token_list_for(*, user: AbstractBaseUser):
    return PartnerToken.objects.filter(user=user).order_by("-created_at", "-id")


def partner_add(*, username: str, email: str = "") -> tuple[AbstractBaseUser, IssuedToken]:
    """A partner account (no password: it uses tokens) in the partners group, and a first token."""
    user_model = get_user_model()
    with transaction.atomic():
        if user_model.objects.filter(username=username).exists():
            raise ValueError(f"a user named {username!r} already exists")
        user = user_model.objects.create_user(username=username, email=email)
        user.set_unusable_password()
        user.save(update_fields=["password"])
        user.groups.add(partners_group())
        issued = token_create(user=user, name="first token")
    return user, issued
