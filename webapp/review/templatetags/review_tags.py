from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def age(value: dt.datetime | None) -> str:
    """Compact age ("40 s", "12 min", "5 h", "3 d"): the queue shows 50 of them per page and
    Django's timesince is the slowest part of rendering it."""
    if value is None:
        return ""
    seconds = max(0, int((timezone.now() - value).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"
