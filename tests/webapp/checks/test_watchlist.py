"""The watch list: an entry added (the command, the admin) has every listing that shows or
declares its plate, or declares its VIN, re-checked and flagged; deleted, its open flags go."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from recognition.models import CrosscheckRequest
from registry.models import WatchEntry
from registry.watchlist import WatchEntryInvalid, watch_entries_delete, watch_entry_add
from tests.fixtures.factories import ListingFactory, PhotoFactory, ReadingFactory
from webapp.checks import services as check_services
from webapp.checks.models import Flag

pytestmark = pytest.mark.django_db

VIN = "WVWZZZ1KZ8W000123"


def _flags(listing_id: int) -> dict[str, Flag]:
    return {
        f.kind: f
        for f in Flag.objects.filter(
            listing_id=listing_id, kind__in=[Flag.Kind.PLATE_WATCHED, Flag.Kind.VIN_WATCHED]
        )
    }


def test_a_new_entry_flags_every_listing_that_shows_or_declares_it(
    django_capture_on_commit_callbacks,
):
    # given a listing whose photo shows the plate, one that declares it in Cyrillic, one that
    # declares the VIN as a seller types it, and one with other plates
    shown = PhotoFactory()
    ReadingFactory(photo=shown, plate_text="AA1234BB", confidence=0.97)
    declared = ListingFactory(declared_plate="аа 1234 вв")
    by_vin = ListingFactory(declared_plate="", declared_vin="wvwzzz1kz8wo00123")
    other = ListingFactory(declared_plate="KA0101AM", declared_vin="WVWZZZ1KZ8W999999")
    # when the car is reported stolen (its plate as typed, and its VIN)
    with django_capture_on_commit_callbacks(execute=True):
        entry = watch_entry_add(plate="AA 1234 BB", vin=VIN, source="police notice")
    # then the entry holds the keys, those three listings are asked for and flagged (eager)
    assert (entry.plate, entry.vin) == ("AA1234BB", VIN)
    requested = set(CrosscheckRequest.objects.values_list("listing_id", flat=True))
    assert requested == {shown.listing_id, declared.pk, by_vin.pk}
    assert _flags(shown.listing_id)[Flag.Kind.PLATE_WATCHED].severity == Flag.Severity.HIGH
    assert _flags(declared.pk)[Flag.Kind.PLATE_WATCHED].evidence["via"] == "declared"
    assert set(_flags(by_vin.pk)) == {Flag.Kind.VIN_WATCHED}
    assert _flags(other.pk) == {}


def test_deleting_an_entry_clears_its_open_flags_and_keeps_decided_ones(
    django_capture_on_commit_callbacks, moderator
):
    from webapp.review import services as review_services

    open_one, dismissed = ListingFactory(declared_plate="AA1234BB"), PhotoFactory()
    ReadingFactory(photo=dismissed, plate_text="AA1234BB", confidence=0.97)
    with django_capture_on_commit_callbacks(execute=True):
        entry = watch_entry_add(plate="AA1234BB")
    flag = _flags(dismissed.listing_id)[Flag.Kind.PLATE_WATCHED]
    review_services.flag_dismiss(
        flag_id=flag.pk, version=flag.version, user=moderator, reason="plate returned"
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert watch_entries_delete(entry_ids=[entry.pk]) == 1
    assert _flags(open_one.pk) == {}
    assert _flags(dismissed.listing_id)[Flag.Kind.PLATE_WATCHED].status == Flag.Status.DISMISSED


def test_an_entry_needs_a_plate_or_a_vin():
    with pytest.raises(WatchEntryInvalid, match="a plate or a VIN"):
        watch_entry_add(plate=" - ", vin="")
    with pytest.raises(WatchEntryInvalid):
        watch_entry_add(plate="AA1234BB", reason="gossip")
    assert not WatchEntry.objects.exists()


def test_the_command_adds_lists_and_removes(capsys):
    listing = ListingFactory(declared_plate="BC7777AX")
    call_command("watchlist", "add", "--plate", "вс 7777 ах", "--reason", "fraud")
    entry = WatchEntry.objects.get()
    assert f"watch entry {entry.pk}: BC7777AX (fraud)" in capsys.readouterr().out
    assert CrosscheckRequest.objects.filter(listing=listing).exists()
    call_command("watchlist", "list")
    assert "BC7777AX\t-\tfraud" in capsys.readouterr().out
    with pytest.raises(CommandError, match="no watch entry 999"):
        call_command("watchlist", "remove", str(entry.pk), "999")
    assert WatchEntry.objects.exists()  # nothing removed
    with pytest.raises(CommandError, match="a plate or a VIN"):
        call_command("watchlist", "add")
    call_command("watchlist", "remove", str(entry.pk))
    assert "1 watch entries removed" in capsys.readouterr().out
    assert not WatchEntry.objects.exists()


def test_staff_keep_the_list_in_the_admin(admin_client, django_capture_on_commit_callbacks):
    listing = ListingFactory(declared_plate="KA0101AM")
    url = "/admin/registry/watchentry/"
    # an entry typed in Cyrillic is stored as its key, with who added it, and flags the listing
    with django_capture_on_commit_callbacks(execute=True):
        added = admin_client.post(
            url + "add/", {"plate": "ка 0101 ам", "vin": "", "reason": "stolen"}
        )
    assert added.status_code == 302
    entry = WatchEntry.objects.get()
    assert (entry.plate, entry.added_by.username) == ("KA0101AM", "admin")
    assert Flag.Kind.PLATE_WATCHED in _flags(listing.pk)
    # found by its plate as typed
    assert "KA0101AM" in admin_client.get(url, {"q": "ка0101ам"}).content.decode()
    # neither plate nor VIN: the form says so
    refused = admin_client.post(url + "add/", {"plate": "", "vin": "", "reason": "stolen"})
    assert "Give a plate or a VIN." in refused.content.decode()
    # deleted from the list: the flag goes with it
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(url, {"action": "delete_selected", "_selected_action": [entry.pk],
                                "post": "yes"})  # fmt: skip
    assert not WatchEntry.objects.exists()
    assert _flags(listing.pk) == {}


def test_the_cross_check_of_a_listing_reads_the_entries_for_its_plates_only():
    watch_entry_add(plate="AA1234BB")
    listing = ListingFactory(declared_plate="AE2020OP")
    assert check_services.listing_crosscheck(listing_id=listing.pk) is not None
    assert _flags(listing.pk) == {}


def test_a_plate_s_history_says_it_is_watched(moderator):
    from django.contrib.auth.models import Group
    from django.test import Client

    from webapp.review.models import MODERATORS_GROUP

    moderator.groups.add(Group.objects.get_or_create(name=MODERATORS_GROUP)[0])
    watch_entry_add(plate="AA1234BB", source="police notice 12/3", note="grey Camry")
    client = Client()
    client.force_login(moderator)
    page = client.get("/review/plates/AA1234BB/").content.decode()
    assert 'id="watched"' in page
    assert "police notice 12/3" in page
    assert "grey Camry" in page
    assert 'id="watched"' not in client.get("/review/plates/KA0101AM/").content.decode()
