from __future__ import annotations

import datetime as dt

from django import template
from django.utils.translation import gettext

register = template.Library()


@register.filter
def stay_length(value: dt.timedelta | None) -> str:
    """A stay's length to the minute: "12 min", "3 h 05 min", "2 d 4 h"."""
    if value is None:
        return "—"
    minutes = max(0, int(value.total_seconds() // 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return gettext("%(days)s d %(hours)s h") % {"days": days, "hours": hours}
    if hours:
        return gettext("%(hours)s h %(minutes)02d min") % {"hours": hours, "minutes": minutes}
    return gettext("%(minutes)s min") % {"minutes": minutes}
