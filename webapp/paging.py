"""Which rows a numbered page shows: the one place the review queue, the moderators' audit log
and the gate audit log work it out. A page out of range shows the nearest one."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest


@dataclass(frozen=True)
class PageBounds:
    number: int  # 1-based, within 1..num_pages
    num_pages: int  # at least 1, also for no rows
    start: int  # the page's rows are [start:stop] of the ordered rows
    stop: int


def page_bounds(*, total: int, page: int, per_page: int) -> PageBounds:
    num_pages = max(1, -(-total // per_page))
    number = min(max(1, page), num_pages)
    start = (number - 1) * per_page
    return PageBounds(number=number, num_pages=num_pages, start=start, stop=start + per_page)


def page_number(request: HttpRequest) -> int:
    """The `page` the request asks for; 1 if it names none a number."""
    try:
        return int(request.GET.get("page", "1"))
    except ValueError:
        return 1
