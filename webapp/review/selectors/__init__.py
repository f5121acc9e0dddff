"""Reads for the review pages, one module per page; the names below are the public surface."""

from __future__ import annotations

from webapp.review.selectors.detail import (
    CompareRow,
    FlagDetail,
    PhotoView,
    ReadingView,
    flag_detail,
    reading_for_crop,
)
from webapp.review.selectors.queue import (
    QUEUE_ORDER,
    QUEUE_PAGE_SIZE,
    KindCount,
    QueueFilters,
    QueuePage,
    flag_count_matching,
    flag_ids_matching,
    flag_neighbours,
    flag_queue,
    queue_counts_invalidate,
)
from webapp.review.selectors.stats import DashboardStats, RateRow, dashboard_stats

__all__ = [
    "QUEUE_ORDER",
    "QUEUE_PAGE_SIZE",
    "CompareRow",
    "DashboardStats",
    "FlagDetail",
    "KindCount",
    "PhotoView",
    "QueueFilters",
    "QueuePage",
    "ReadingView",
    "RateRow",
    "dashboard_stats",
    "flag_count_matching",
    "flag_detail",
    "flag_ids_matching",
    "flag_neighbours",
    "flag_queue",
    "queue_counts_invalidate",
    "reading_for_crop",
]
