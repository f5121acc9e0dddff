"""Who operates the gates: staff and the members of one group. The operator pages, the gate
webhooks' receivers and the partner API's endpoint check all ask here."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import Q

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


def operators(*, user_field: str) -> Q:
    """`is_gate_operator` as a query condition on the user that `user_field` names."""
    return Q(**{f"{user_field}__is_staff": True}) | Q(
        **{f"{user_field}__groups__name": OPERATORS_GROUP}
    )
