from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.translation import gettext

from webapp.review.plates import CharMark, char_marks

register = template.Library()


@register.filter
def age(value: dt.datetime | None) -> str:
    """Compact age ("40 s", "12 min", "5 h", "3 d"): the queue shows 50 of them per page and
    Django's timesince is the slowest part of rendering it."""
    if value is None:
        return ""
    seconds = max(0, int((timezone.now() - value).total_seconds()))
    # Abbreviations take no plural form, so plain gettext (a dict look-up) is enough here.
    for unit, size in ((gettext("%(n)s d"), 86400), (gettext("%(n)s h"), 3600)):
        if seconds >= size:
            return unit % {"n": seconds // size}
    if seconds >= 60:
        return gettext("%(n)s min") % {"n": seconds // 60}
    return gettext("%(n)s s") % {"n": seconds}


def _cell(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_cell(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_cell(v) for v in value) or "—"
    if value in (None, ""):
        return "—"
    return str(value)


@register.filter
def evidence_rows(evidence: object) -> list[tuple[str, str]]:
    """A flag's evidence (a JSON object) as (label, value) rows for a two-column table."""
    if not isinstance(evidence, dict):
        return [("value", _cell(evidence))] if evidence else []
    return [(str(key).replace("_", " ").capitalize(), _cell(v)) for key, v in evidence.items()]


@register.simple_tag
def sort_link(querystring: str, current: str, column: str) -> str:
    """Query string that sorts by ``column``; a second click on it reverses the order."""
    new = f"-{column}" if current == column else column
    return f"?{querystring}&sort={new}" if querystring else f"?sort={new}"


@register.simple_tag
def sort_state(current: str, column: str) -> str:
    """aria-sort value of a column header."""
    if current == column:
        return "ascending"
    if current == f"-{column}":
        return "descending"
    return "none"


@register.filter
def plate_marks(text: str, query: str) -> list[CharMark]:
    """A search hit's characters marked against the query (`plates.char_marks`)."""
    return char_marks(query, text)
