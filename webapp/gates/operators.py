"""Who operates the gates: staff and the members of one group. The operator pages, the gate
webhooks' receivers and the partner API's endpoint check all ask here."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser

OPERATORS_GROUP = "Gate operators"


def is_gate_operator(user: AbstractBaseUser | AnonymousUser) -> bool:
    if not user.is_authenticated:
        return False
    return (
        bool(getattr(user, "is_staff", False))
        or user.groups.filter(  # type: ignore[union-attr]
            name=OPERATORS_GROUP
        ).exists()
    )
