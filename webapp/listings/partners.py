"""Partner accounts: the marketplaces that upload listings through the API."""

from __future__ import annotations

from django.contrib.auth.models import Group

PARTNERS_GROUP = "partners"


def partners_group() -> Group:
    group, _ = Group.objects.get_or_create(name=PARTNERS_GROUP)
    return group
