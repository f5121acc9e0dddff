from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.fixtures.factories import FlagFactory, ListingFactory
from webapp.checks.models import Flag
from webapp.review.selectors import QueueFilters, flag_queue

pytestmark = pytest.mark.django_db


def _flag(plate: str, **kwargs) -> Flag:
    return FlagFactory(listing=ListingFactory(owner=None), key=plate, plate_text=plate, **kwargs)


def test_open_flags_come_most_severe_first_then_oldest_first():
    low = _flag("AA0001AA", severity=1)
    high_new = _flag("AA0002AA", severity=3)
    high_old = _flag("AA0003AA", severity=3)
    Flag.objects.filter(pk=high_old.pk).update(created_at=timezone.now() - dt.timedelta(days=2))
    _flag("AA0004AA", severity=3, status="dismissed")

    page = flag_queue(filters=QueueFilters())

    assert [f.pk for f in page.flags] == [high_old.pk, high_new.pk, low.pk]
    assert page.total == 3


def test_plate_search_tolerates_ocr_confusions():
    misread = _flag("AA1234B8")
    _flag("AA9999BB")

    for typed in ("AA1234BB", "aa 1234 bb", "AA1234", "АА1234ВВ"):
        page = flag_queue(filters=QueueFilters(plate=typed))
        assert [f.pk for f in page.flags] == [misread.pk], typed


def test_filters_and_counts_per_kind():
    _flag("AA0001AA", kind="make_mismatch", severity=2, plate_format="ua")
    _flag("AA0002AA", kind="make_mismatch", severity=3, plate_format="ua_transit")
    _flag("AA0003AA", kind="vin_mismatch", severity=3, plate_format="ua")

    page = flag_queue(filters=QueueFilters(kind="make_mismatch"))
    counts = {kc.kind: kc.count for kc in page.kind_counts}

    assert page.total == 2
    assert counts["make_mismatch"] == 2
    assert counts["vin_mismatch"] == 1  # counts ignore the kind filter, so the sidebar stays useful
    assert dict(page.formats) == {"ua": 1, "ua_transit": 1}
    assert flag_queue(filters=QueueFilters(severity=3, plate_format="ua")).total == 1
    assert flag_queue(filters=QueueFilters(status="")).total == 3


def test_date_range_filter():
    old = _flag("AA0001AA")
    Flag.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=10))
    new = _flag("AA0002AA")
    today = timezone.localdate()

    recent = flag_queue(filters=QueueFilters(date_from=today - dt.timedelta(days=1)))
    older = flag_queue(filters=QueueFilters(date_to=today - dt.timedelta(days=5)))

    assert [f.pk for f in recent.flags] == [new.pk]
    assert [f.pk for f in older.flags] == [old.pk]


def test_pagination():
    for i in range(7):
        _flag(f"AA{i:04d}AA")

    first = flag_queue(filters=QueueFilters(), page=1, per_page=3)
    last = flag_queue(filters=QueueFilters(), page=3, per_page=3)
    beyond = flag_queue(filters=QueueFilters(), page=99, per_page=3)

    assert (first.num_pages, len(first.flags), first.has_next, first.has_previous) == (
        3,
        3,
        True,
        False,
    )
    assert (len(last.flags), last.has_next) == (1, False)
    assert beyond.number == 3


def test_the_queue_page_uses_a_bounded_number_of_queries(mod_client, django_assert_max_num_queries):
    for i in range(60):
        _flag(f"AA{i:04d}AA", reviewer=None)
    url = reverse("review:queue")

    # session, user, group check, counts, rows (+ savepoints/messages slack)
    with django_assert_max_num_queries(7):
        response = mod_client.get(url, {"kind": "plate_not_in_register", "plate": "AA00"})

    assert response.status_code == 200
    assert response.content.count(b"data-flag=") == 50


def test_the_queue_page_filters_from_the_query_string(mod_client):
    _flag("KA7777XO", kind="vin_mismatch")
    _flag("BC1111CB", kind="make_mismatch")

    response = mod_client.get(reverse("review:queue"), {"plate": "KA7777X0"})

    assert b"KA7777XO" in response.content
    assert b"BC1111CB" not in response.content


def test_counts_are_cached_briefly_and_refreshed_by_a_decision(
    moderator, django_capture_on_commit_callbacks
):
    from webapp.review import services

    first = _flag("AA0001AA")
    assert flag_queue(filters=QueueFilters()).total == 1

    # a flag from the cross-check shows in the rows at once, in the counts after a short while
    _flag("AA0002AA")
    page = flag_queue(filters=QueueFilters())
    assert len(page.flags) == 2
    assert page.total == 1

    # a moderator's decision refreshes the counts as soon as it commits
    with django_capture_on_commit_callbacks(execute=True):
        services.flag_confirm(flag_id=first.pk, version=1, user=moderator)
    assert flag_queue(filters=QueueFilters()).total == 1
    assert flag_queue(filters=QueueFilters(status="confirmed")).total == 1
    assert flag_queue(filters=QueueFilters(status="")).total == 2


def test_the_last_possible_date_as_upper_bound_is_no_error(mod_client):
    # given: a date picker lets a moderator type 9999-12-31 (the day after it does not exist)
    _flag("KA7777XO")

    # when
    response = mod_client.get(reverse("review:queue"), {"date_to": "9999-12-31"})

    # then: no upper bound at all, rather than a 500
    assert response.status_code == 200
    assert b"KA7777XO" in response.content


def test_a_plate_with_a_slash_does_not_break_the_queue(mod_client):
    # given: a seller declared "AB/1234" and no photo was read, so the flag carries that text
    _flag("AB/1234", kind="plate_not_in_register")

    # when
    response = mod_client.get(reverse("review:queue"))

    # then: the row links to the plate's history, and that link works
    assert response.status_code == 200
    link = reverse("review:plate_history", args=["AB/1234"])
    assert f'href="{link}"'.encode() in response.content
    assert mod_client.get(link).status_code == 200


def test_a_row_is_marked_when_the_seller_edited_the_listing_after_the_flag(mod_client):
    from datetime import timedelta

    from webapp.listings.models import ListingEdit

    # given two flags on two listings, one edited after its flag was raised, the other before
    edited, earlier = FlagFactory(key="a"), FlagFactory(key="b")
    ListingEdit.objects.create(listing=edited.listing, changes={"declared_make": ["A", "B"]})
    before = ListingEdit.objects.create(
        listing=earlier.listing, changes={"declared_make": ["C", "D"]}
    )
    ListingEdit.objects.filter(pk=before.pk).update(
        edited_at=earlier.created_at - timedelta(minutes=1)
    )
    # when a moderator opens the queue
    page = mod_client.get(reverse("review:queue"))
    # then only the first is marked
    marked = {flag.pk for flag in page.context["page"].flags if flag.edited_since}
    assert marked == {edited.pk}
    assert page.content.decode().count('class="status edited"') == 1


def test_the_queue_can_show_only_the_flags_edited_after_they_were_raised(mod_client, moderator):
    from datetime import timedelta

    from webapp.listings.models import ListingEdit
    from webapp.review.forms import QueueFilterForm
    from webapp.review.selectors import flag_count_matching

    # given three open flags: one edited after it was raised, one before, one never
    edited, earlier, _untouched = FlagFactory(key="a"), FlagFactory(key="b"), FlagFactory(key="c")
    ListingEdit.objects.create(listing=edited.listing, changes={"photo_removed": ["photo 1", None]})
    before = ListingEdit.objects.create(
        listing=earlier.listing, changes={"declared_make": ["C", "D"]}
    )
    ListingEdit.objects.filter(pk=before.pk).update(
        edited_at=earlier.created_at - timedelta(minutes=1)
    )
    # when a moderator ticks "Edited after the flag"
    page = mod_client.get(reverse("review:queue"), {"status": "open", "edited": "on"})
    # then the page, its counts and a decision over every matching flag see that one only
    shown = page.context["page"]
    assert [flag.pk for flag in shown.flags] == [edited.pk]
    assert shown.total == 1
    assert 'name="edited" id="id_edited" checked' in page.content.decode()
    filters = QueueFilterForm({"status": "open", "edited": "on"}).filters()
    assert filters.edited is True
    assert flag_count_matching(filters=filters, user=moderator) == 1
    # and without it, all three
    assert mod_client.get(reverse("review:queue"), {"status": "open"}).context["page"].total == 3
