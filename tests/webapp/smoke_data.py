"""Demo-like rows for the page smoke test: at least one row of every model a page shows.

Built with the project's factories and services, as `load_sample` and `gate_demo` would leave
the demo database, plus the partner-side rows (tokens, webhooks) the demo makes on first use.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from axes.models import AccessAttempt, AccessFailureLog
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone

from recognition.models import BacklogRun, CrosscheckRequest, Reading
from registry.models import RegisterFetch
from registry.watchlist import watch_entry_add
from tests.fixtures.factories import (
    FlagFactory,
    ListingFactory,
    PhotoFactory,
    PhotoReadFactory,
    ReadingFactory,
    jpeg_bytes,
)
from tests.webapp.review.factories import RegisterRecordFactory
from webapp.checks.models import ListingVerdict
from webapp.gates import commands as gate_commands
from webapp.gates import services as gate_services
from webapp.gates.models import (
    AccessEntry,
    Device,
    DeviceRequest,
    Frame,
    Gate,
    Passage,
    Site,
    Visit,
)
from webapp.gates.visits import visit_record
from webapp.listings.models import ListingEdit, Photo
from webapp.partners.models import (
    PartnerQuota,
    UsageKind,
    WebhookDelivery,
    WebhookEndpoint,
)
from webapp.partners.tokens import IssuedToken, token_create
from webapp.partners.usage import usage_charge
from webapp.review import services as review_services
from webapp.review.models import MODERATORS_GROUP

PLATE = "AA1234BB"
MISREAD = "AA1234B8"
PASSWORD = "correct-horse-battery"  # UserFactory's


@dataclass(frozen=True)
class DemoRows:
    listing_id: int
    photo_id: int
    photo_path: str
    reading_id: int
    flag_to_view: int
    flag_to_confirm: int
    flag_to_dismiss: int
    flag_to_correct: int
    gate_id: int
    site_id: int
    visit_id: int
    access_entry_to_delete: int
    frame_id: int
    passage_id: int
    webhook_endpoint_id: int
    webhook_endpoint_to_delete: int
    webhook_delivery_id: int
    spare_token: IssuedToken
    photo_to_remove: int
    device: tuple[Device, str]  # the gate device and its secret, for signed requests


def moderator_group_join(user) -> None:
    user.groups.add(Group.objects.get_or_create(name=MODERATORS_GROUP)[0])


def demo_rows_create(*, moderator, partner) -> DemoRows:
    """Rows for every page; the partner owns the listing so the API shows it too."""
    listing = ListingFactory(owner=partner, declared_plate=PLATE)
    areas = [
        {"corners": [[10, 10], [50, 10], [50, 22], [10, 22]], "score": 0.95, "read": True},
        {"corners": [[5, 30], [30, 30], [30, 40], [5, 40]], "score": 0.6, "read": False},
    ]  # the reading's plate, and a place nothing was read on (a dashed outline)
    photo = PhotoFactory(listing=listing, status=Photo.Status.DONE, plate_areas=areas)
    reading = ReadingFactory(
        photo=photo, plate_text=MISREAD, plate_format="ua", model_version="det-x+ocr-y",
        timings={"detect_ms": 1500.0, "rectify_ms": 1.0, "read_ms": 900.0},
    )  # fmt: skip
    ReadingFactory(photo=photo, model_version="det-old+ocr-old")  # timed by an older engine
    # both versions read the photo (the older first): the versions' comparison has one
    PhotoReadFactory(
        photo=photo, model_version="det-old+ocr-old", read_at=timezone.now() - dt.timedelta(days=1)
    )
    PhotoReadFactory(photo=photo, model_version="det-x+ocr-y")
    ReadingFactory(photo=PhotoFactory(status=Photo.Status.DONE), source=Reading.Source.HUMAN)
    # a moderator typed a plate over an engine reading: what moderators corrected has one
    corrected = PhotoFactory(status=Photo.Status.DONE)
    base = ReadingFactory(photo=corrected, plate_text="KA7777A8", model_version="det-x+ocr-y")
    ReadingFactory(
        photo=corrected, source=Reading.Source.HUMAN, model_version="human",
        plate_text="KA7777AM", corners=base.corners,
    )  # fmt: skip
    watch_entry_add(plate="BC7777AX", source="police notice")  # the watch list's admin pages
    PhotoFactory(listing=listing)  # a photo not read yet: "processing"
    spare_photo = PhotoFactory(listing=listing, status=Photo.Status.DONE)  # the API takes it off
    evidence = {"declared": PLATE, "read": MISREAD}
    flags = [
        FlagFactory(listing=listing, key=f"{MISREAD}-{n}", plate_text=MISREAD, evidence=evidence)
        for n in range(4)
    ]
    decided = FlagFactory(key="X", plate_text="KA0001XO")
    review_services.flag_dismiss(
        flag_id=decided.pk, version=decided.version, user=moderator, reason="ok"
    )
    RegisterRecordFactory(plate_latin=PLATE)
    RegisterRecordFactory(plate_latin=PLATE, d_reg=dt.date(2019, 5, 2), colour="ЧОРНИЙ")
    CrosscheckRequest.objects.create(listing=listing, requested_at=timezone.now())
    # what an earlier cross-check could vouch for (its admin pages, the API's `check`)
    ListingVerdict.objects.create(
        listing=listing, checked_at=timezone.now(), plate=MISREAD, plate_source="photos",
        plate_confidence=0.7, reason="plate_unsure",
    )  # fmt: skip
    BacklogRun.objects.create(model_version="det-x+ocr-y", total=1)
    # the seller changed what the listing declares (the flag page's edits table)
    ListingEdit.objects.create(
        listing=listing, by=partner, changes={"declared_make": ["Lada", listing.declared_make]}
    )
    ListingEdit.objects.create(
        listing=listing, by=partner, changes={"photo_removed": ["photo 1 (AA1234BB)", None]}
    )
    # a failed look at the register's source (its admin pages)
    RegisterFetch.objects.create(
        source_url="https://data.example/r.zip", file_url="https://data.example/r.zip",
        outcome=RegisterFetch.Outcome.FAILED, http_status=503, error="HTTP 503",
    )  # fmt: skip

    gate, frame, device = _gate_rows_create()
    spare_entry = gate_services.access_entry_add(gate=gate, plate="BC0001AA", note="spare")
    endpoint, delivery = _webhook_rows_create(partner=partner, listing_id=listing.pk)
    spare_token = token_create(user=partner, name="spare")
    # a month's quota and photos read against it (the usage endpoint, the admin's pages)
    PartnerQuota.objects.create(user=partner, photos_per_month=1000, note="smoke plan")
    usage_charge(user=partner, kind=UsageKind.RECOGNIZE, count=2)
    _login_attempts_make(moderator=moderator)
    return DemoRows(
        listing_id=listing.pk,
        photo_id=photo.pk,
        photo_path=photo.image.name,
        reading_id=reading.pk,
        flag_to_view=flags[0].pk,
        flag_to_confirm=flags[1].pk,
        flag_to_dismiss=flags[2].pk,
        flag_to_correct=flags[3].pk,
        gate_id=gate.pk,
        site_id=gate.site_id,
        visit_id=Visit.objects.get(site_id=gate.site_id).pk,
        access_entry_to_delete=spare_entry.pk,
        frame_id=frame.pk,
        passage_id=frame.passage_id,
        webhook_endpoint_id=endpoint.pk,
        webhook_delivery_id=delivery.pk,
        spare_token=spare_token,
        photo_to_remove=spare_photo.pk,
        device=device,
        webhook_endpoint_to_delete=WebhookEndpoint.objects.create(
            owner=partner, url="http://127.0.0.1:9/gone", events=["flag.decided"], secret="t" * 32
        ).pk,
    )


def _gate_rows_create() -> tuple[Gate, Frame, tuple[Device, str]]:
    """What `gate_demo` makes, and one passage with its frame as the gates worker leaves it."""
    gate = gate_services.gate_create(name="demo-gate", site="Demo site", direction="entry")
    Site.objects.filter(pk=gate.site_id).update(capacity=40, max_stay_hours=12)
    gate_services.device_create(gate=gate)  # the first row: the admin's "revoke" action takes it
    new_device = gate_services.device_create(gate=gate)
    device = new_device.device
    gate_services.access_entry_add(gate=gate, plate=PLATE, note="demo")
    gate_services.block_entry_add(plate="BC7777AX", reason="demo: reported stolen")
    # An operator's order, as the gate's page makes it (its admin pages need a row).
    gate_commands.command_open(gate=gate, by=None, reason="smoke: driver at the intercom")
    now = timezone.now()
    passage = Passage.objects.create(
        gate=gate, device=device, started_at=now, last_frame_at=now, frames_count=1,
        voted_plate=PLATE, confidence=0.9, decision="open", decided_at=now, decide_ms=120.0,
    )  # fmt: skip
    visit = visit_record(passage=passage)  # the car the entry gate opened for is on site
    assert visit is not None
    frame = Frame.objects.create(
        passage=passage, device=device, client_frame_id="f-1",
        image=ContentFile(jpeg_bytes(), name="f-1.jpg"), width=64, height=48,
        captured_at=now, received_at=now, status=Frame.Status.DONE, plate_text=PLATE,
        confidence=0.9, corners=[[10, 10], [50, 10], [50, 22], [10, 22]], decision="open",
    )  # fmt: skip
    DeviceRequest.objects.create(
        device=device, claimed_device_id=device.device_id, method="POST",
        path="/api/v1/gates/frames/", address="127.0.0.1", accepted=True, code="ok", frame=frame,
    )  # fmt: skip
    assert AccessEntry.objects.filter(gate=gate).exists()
    return gate, frame, (device, new_device.secret)


def _webhook_rows_create(*, partner, listing_id: int) -> tuple[WebhookEndpoint, WebhookDelivery]:
    endpoint = WebhookEndpoint.objects.create(
        owner=partner, url="http://127.0.0.1:9/hook", events=["flag.decided"], secret="s" * 32
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event="flag.decided", listing_id=listing_id, payload={"id": 1},
        message_id=hashlib.sha256(b"smoke").hexdigest()[:40],
    )  # fmt: skip
    return endpoint, delivery


def _login_attempts_make(*, moderator) -> None:
    """A good login through the real login page, and the rows django-axes keeps of failures.

    Failed attempts are made as rows: a later good login of the same address (every test client
    is 127.0.0.1) clears them, and the failure log is off by default.
    """
    Client().post("/accounts/login/", {"username": moderator.username, "password": PASSWORD})
    failure = {
        "username": "intruder", "ip_address": "10.0.0.1", "user_agent": "smoke",
        "path_info": "/accounts/login/",
    }  # fmt: skip
    AccessAttempt.objects.create(**failure, failures_since_start=1)
    AccessFailureLog.objects.create(**failure, locked_out=False)
