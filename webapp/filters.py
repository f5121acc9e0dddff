"""What the staff pages' filters share: a range of calendar days as the times that bound it, in
the server's time zone, and a filtered CSV export (its answer to a filter it cannot read).

Days bound a time column as timestamps (not `created_at::date`) so that an index on the column
serves them: the review queue, both audit logs and the visits export filter this way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

from django import forms
from django.db.models import Model, QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone

from registry.spreadsheet import csv_lines

M = TypeVar("M", bound=Model)


def day_start(day: date) -> datetime:
    """The first moment of `day` in the server's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def days_filter(qs: QuerySet[M], field: str, first: date | None, last: date | None) -> QuerySet[M]:
    """`qs` with `field` from the start of day `first` through the end of day `last` (either
    may be None; the last date there is bounds nothing)."""
    if first:
        qs = qs.filter(**{f"{field}__gte": day_start(first)})
    if last and last < date.max:
        qs = qs.filter(**{f"{field}__lt": day_start(last + timedelta(days=1))})
    return qs


def invalid_filter_response(form: forms.Form) -> HttpResponse:
    """400 for an export asked with a filter its form refuses, naming each field's error."""
    errors = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
    return HttpResponse(
        f"Invalid filter: {errors}", status=400, content_type="text/plain; charset=utf-8"
    )


def filtered_csv_response(
    form: Any, rows_of: Callable[..., Iterator[tuple[str, ...]]], *, name: str, at: datetime
) -> HttpResponse:
    """A filtered export: 400 naming the fields a bad filter got wrong, else every row
    `rows_of(filters=form.filters())` gives, streamed as `name-<at, to the minute>.csv` (`at` in
    the time zone the rows' times are written in)."""
    if form.errors:
        return invalid_filter_response(form)
    rows = csv_lines(rows_of(filters=form.filters()))
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-{at:%Y%m%d-%H%M}.csv"'
    return response
