"""Every page answers, on whichever database DATABASE_URL names; CI runs this file on SQLite
too (``DATABASE_URL=sqlite:///var/smoke.sqlite3``), the demo's database."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import path, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from recognition import services as recognition_services
from registry.models import ImportRun
from tests.fixtures.factories import (
    FlagFactory,
    PhotoFactory,
    PhotoReadFactory,
    ReadingFactory,
    UserFactory,
    jpeg_bytes,
)
from tests.webapp.review.factories import RegisterRecordFactory
from tests.webapp.smoke_data import (
    MISREAD,
    PASSWORD,
    PLATE,
    DemoRows,
    demo_rows_create,
    moderator_group_join,
)
from tests.webapp.smoke_walk import (
    REDIRECT,
    Actors,
    Call,
    calls_for,
    first_pk,
    routes_all,
    url_walk,
)
from webapp import urls as webapp_urls
from webapp.gates import services as gate_services
from webapp.gates.models import Passage
from webapp.gates.visits import visit_record
from webapp.review import services
from webapp.review.models import MODERATORS_GROUP


@pytest.mark.django_db
def test_it_creates_core_rows_with_factories():
    reading = ReadingFactory()
    flag = FlagFactory(listing=reading.photo.listing)
    assert reading.photo.image.name.startswith("photos/")
    assert flag.listing.photos.count() == 1
    assert PhotoFactory().sha256 != reading.photo.sha256


@pytest.mark.django_db
def test_healthz_reports_each_check(client):
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["engine"]["detail"].startswith("det-")


@pytest.fixture
def staff_moderator(moderator) -> Client:
    moderator.groups.add(Group.objects.get_or_create(name=MODERATORS_GROUP)[0])
    client = Client()
    client.force_login(moderator)
    return client


@pytest.fixture
def some_rows(moderator):
    reading = ReadingFactory(plate_text="AA1234B8", model_version="det-x+ocr-y")
    listing = reading.photo.listing
    # an older version read the photo otherwise: the versions' comparison shows it
    ReadingFactory(photo=reading.photo, plate_text="AA1234BB", model_version="det-w+ocr-y")
    PhotoReadFactory(
        photo=reading.photo, model_version="det-w+ocr-y", read_at=timezone.now() - timedelta(days=1)
    )
    PhotoReadFactory(photo=reading.photo, model_version="det-x+ocr-y")
    # a moderator typed a plate over another photo's reading: what moderators corrected
    misread = ReadingFactory(plate_text="KA7777A8", model_version="det-x+ocr-y")
    recognition_services.reading_create_human(
        photo_id=misread.photo_id, plate_text="KA7777AM", user=moderator, base_reading_id=misread.pk
    )
    listing.declared_plate = "AA1234BB"
    listing.save()
    flag = FlagFactory(listing=listing, key="AA1234B8", plate_text="AA1234B8",
                       evidence={"declared": "AA1234BB", "read": "AA1234B8"})  # fmt: skip
    other = FlagFactory(key="X", plate_text="KA0001XO")
    services.flag_dismiss(flag_id=other.pk, version=other.version, user=moderator, reason="ok")
    RegisterRecordFactory(plate_latin="AA1234BB")
    gate = gate_services.gate_create(name="demo-gate", site="Demo site", direction="entry")
    now = timezone.now()
    passage = Passage.objects.create(
        gate=gate, device=gate_services.device_create(gate=gate).device, started_at=now,
        last_frame_at=now, voted_plate="AA1234BB", confidence=0.9, decision="open",
    )  # fmt: skip
    visit_record(passage=passage)
    return {"flag": flag}


@pytest.mark.django_db
def test_every_page_answers(staff_moderator, some_rows, settings):
    settings.METRICS_ALLOWED_ADDRESSES = []
    flag = some_rows["flag"]
    pages = {
        reverse("review:queue"): "AA1234B8",
        reverse("review:queue") + "?status=&sort=-plate&plate=aa1234bb": "AA1234B8",
        reverse("review:flag", args=[flag.pk]): "History of AA1234B8",
        reverse("review:dashboard"): "svg",
        reverse("review:plate_search") + "?q=AA1234BB": "declared by seller",
        reverse("review:plate_search") + "?q=AA1234BX": "gate passage",
        reverse("review:plate_history", args=["AA1234BB"]): "Register records over time",
        reverse("review:plate_history", args=["AA1234BB"]) + "#passages": "demo-gate",
        reverse("review:plate_history", args=["AA1234BB"]) + "#stays": "Stays on sites",
        reverse("review:audit_log"): "audit-log",
        reverse("review:audit_csv"): "dismiss",
        reverse("ops:model_versions"): "det-x+ocr-y",
        reverse("ops:model_compare"): 'data-kind="changed"',
        reverse("ops:model_corrections"): '<span class="plate">8→M</span> 1',
        reverse("ops:partners"): 'id="chart-per-day"',
        "/api/v1/plates/search/?q=AA1234BB": "AA1234B8",
        "/metrics": "platecheck_photos",
        "/metrics?gates": 'platecheck_gate_passages{decision="open",gate="demo-gate"} 1.0',
        "/metrics?sites": 'platecheck_site_vehicles_inside{site="Demo site"} 1.0',
        reverse("gates:sites"): "Demo site",
        reverse("gates:audit") + "?action=device_added": "Device added",
        reverse("gates:audit_csv"): "demo-gate,Demo site",
        reverse("gates:passages") + "?decision=open": "demo-gate",
        reverse("gates:passages_csv"): "last_frame,first_frame,gate,plate",
    }
    for url, expected in pages.items():
        response = staff_moderator.get(url)
        assert response.status_code == 200, url
        body = (
            b"".join(response.streaming_content) if response.streaming else response.content
        ).decode()
        assert expected in body, url


@pytest.mark.django_db
def test_the_bulk_confirmation_page_answers(staff_moderator, some_rows):
    response = staff_moderator.post(
        reverse("review:bulk"),
        {"scope": "filter", "decision": "confirm", "querystring": "status=open"},
    )
    assert response.status_code == 200
    assert response.context["total"] == 1


# --- Every URL pattern, as the moderator and as a partner (issue 19, demo parity) -------------
# The patterns are read from the URLconf, so a new page is fetched without editing this file;
# one this file cannot fill makes the test fail with its name.


def _calls_by_name(rows: DemoRows, moderator, reset_user) -> dict[str, list[Call]]:
    """The calls for every named pattern outside the admin's per-model pages."""
    m, p, su = "moderator", "partner", "admin"
    flag = rows.flag_to_view
    # A user whose session this test never opens: a login would void the reset link.
    uid = urlsafe_base64_encode(force_bytes(reset_user.pk))
    reset_token = default_token_generator.make_token(reset_user)
    api_listings = reverse("api:listing-list")
    photo_post = {"marketplace_id": "SMOKE-2", "photos": [_jpeg_upload()]}
    return {
        "admin:index": [Call(su, reverse("admin:index"))],
        "admin:login": [Call(su, reverse("admin:login"), expected=REDIRECT)],
        "admin:logout": [Call("admin-fresh", reverse("admin:logout"), "post", expected=REDIRECT)],
        "admin:password_change": [Call(su, reverse("admin:password_change"))],
        "admin:password_change_done": [Call(su, reverse("admin:password_change_done"))],
        "admin:autocomplete": [Call(su, reverse("admin:autocomplete"), expected=frozenset({403}))],
        "admin:jsi18n": [Call(su, reverse("admin:jsi18n"))],
        "admin:auth_user_password_change": [
            Call(su, reverse("admin:auth_user_password_change", args=[moderator.pk]))
        ],
        "admin:registry_importrun_rejects": [
            Call(su, reverse("admin:registry_importrun_rejects", args=[first_pk(ImportRun)]))
        ],
        "admin:registry_importrun_progress": [
            Call(su, reverse("admin:registry_importrun_progress", args=[first_pk(ImportRun)]))
        ],
        "login": [Call(m, reverse("login"))],
        "logout": [Call("moderator-fresh", reverse("logout"), "post", expected=REDIRECT)],
        # The header's language switcher (a fresh client: the cookie it sets stays there).
        "set_language": [
            Call(
                "moderator-fresh",
                reverse("set_language"),
                "post",
                {"language": "uk", "next": "/review/"},
                REDIRECT,
            ),
        ],
        "password_change": [Call(m, reverse("password_change"))],
        "password_change_done": [Call(m, reverse("password_change_done"))],
        "password_reset": [Call(m, reverse("password_reset"))],
        "password_reset_done": [Call(m, reverse("password_reset_done"))],
        "password_reset_confirm": [
            Call(m, reverse("password_reset_confirm", args=[uid, reset_token]), expected=REDIRECT)
        ],
        "password_reset_complete": [Call(m, reverse("password_reset_complete"))],
        "gates_api:access_list": [Call("device", reverse("gates_api:access_list"))],
        "gates_api:commands": [Call("device", reverse("gates_api:commands"))],
        "gates:gate_open": [
            Call(
                m,
                reverse("gates:gate_open", args=[rows.gate_id]),
                "post",
                {"reason": "smoke"},
                REDIRECT,
            ),
        ],
        "gates:passages": [
            Call(m, reverse("gates:passages")),
            Call(m, reverse("gates:passages") + "?plate=AA&decision=open&page=2"),
        ],
        "gates:passages_csv": [Call(m, reverse("gates:passages_csv") + "?decision=open")],
        "gates:passage": [Call(m, reverse("gates:passage", args=[rows.passage_id]))],
        "gates:frame_image": [Call(m, reverse("gates:frame_image", args=[rows.frame_id]))],
        "gates:frame_thumb": [Call(m, reverse("gates:frame_thumb", args=[rows.frame_id]))],
        "gates:devices": [Call(m, reverse("gates:devices"))],
        "gates:audit": [Call(m, reverse("gates:audit") + "?plate=AA1234BB&action=access_added")],
        "gates:audit_csv": [Call(m, reverse("gates:audit_csv") + "?plate=AA1234BB")],
        "gates:sites": [Call(m, reverse("gates:sites"))],
        "gates:site": [Call(m, reverse("gates:site", args=[rows.site_id]) + "?plate=AA1234BB")],
        "gates:site_visits_csv": [Call(m, reverse("gates:site_visits_csv", args=[rows.site_id]))],
        "gates:visit_close": [
            Call(
                m,
                reverse("gates:visit_close", args=[rows.site_id, rows.visit_id]),
                "post",
                expected=REDIRECT,
            )
        ],
        "gates:access_list": [
            Call(m, reverse("gates:access_list", args=[rows.gate_id])),
            Call(
                m,
                reverse("gates:access_list", args=[rows.gate_id]),
                "post",
                {"plate": "AI0002BB", "note": "smoke"},
                REDIRECT,
            ),
        ],  # fmt: skip
        "gates:access_import": [
            Call(
                m,
                reverse("gates:access_import", args=[rows.gate_id]),
                "post",
                {"file": SimpleUploadedFile("a.csv", b"plate,note\nAI0003BB,smoke\n")},
                REDIRECT,
            ),
        ],  # fmt: skip
        "gates:access_export": [Call(m, reverse("gates:access_export", args=[rows.gate_id]))],
        "gates:access_delete": [
            Call(
                m,
                reverse("gates:access_delete", args=[rows.gate_id, rows.access_entry_to_delete]),
                "post",
                expected=REDIRECT,
            ),
        ],  # fmt: skip
        "api:schema": [Call(p, reverse("api:schema"))],
        "api:docs": [Call(p, reverse("api:docs"))],
        "api:token": [
            Call(
                p,
                reverse("api:token"),
                "post",
                {"username": "partner", "password": PASSWORD},
                frozenset({201}),
            ),
        ],  # fmt: skip
        "api:token-list": [Call(p, reverse("api:token-list"))],
        "api:token-rotate": [
            Call("partner-fresh", reverse("api:token-rotate"), "post", expected=frozenset({201}))
        ],  # fmt: skip
        "api:token-revoke": [
            Call(p, reverse("api:token-revoke", args=[rows.spare_token.token.prefix]), "post")
        ],
        "api:listing-list": [
            Call(p, api_listings),
            *(Call(p, f"{api_listings}?{query}") for query in LISTING_QUERIES),
            Call(p, api_listings, "post", photo_post, frozenset({201})),
        ],
        "api:listing-detail": [Call(p, reverse("api:listing-detail", args=[rows.listing_id]))],
        "api:listing-photos": [
            Call(
                p,
                reverse("api:listing-photos", args=[rows.listing_id]),
                "post",
                {"photos": [_jpeg_upload()]},
                frozenset({201}),
            ),
        ],  # fmt: skip
        "api:listing-photo": [
            Call(
                p,
                reverse("api:listing-photo", args=[rows.listing_id, rows.photo_to_remove]),
                "delete",
                expected=frozenset({204}),
            ),
        ],  # fmt: skip
        "api:photo-file": [Call(p, reverse("api:photo-file", args=[rows.photo_id]))],
        "api:photo-redacted": [
            Call(who, reverse("api:photo-redacted", args=[rows.photo_id]) + query)
            for who in (p, m)
            for query in ("", "?style=fill")
        ],
        "api:recognize": [
            Call(p, reverse("api:recognize"), "post", {"upload": _jpeg_upload()}),
        ],
        "api:redact": [
            Call(p, reverse("api:redact"), "post", {"upload": _jpeg_upload(), "style": style})
            for style in ("blur", "fill")
        ],
        "api:webhook-endpoints": [
            Call(p, reverse("api:webhook-endpoints")),
            Call(
                p,
                reverse("api:webhook-endpoints"),
                "post",
                {"url": "http://127.0.0.1:9/other", "events": ["flag.decided"]},
                frozenset({201}),
            ),
        ],  # fmt: skip
        "api:webhook-endpoint-detail": [
            Call(p, reverse("api:webhook-endpoint-detail", args=[rows.webhook_endpoint_id])),
            Call(
                p,
                reverse("api:webhook-endpoint-detail", args=[rows.webhook_endpoint_to_delete]),
                "delete",
                expected=frozenset({204}),
            ),
        ],  # fmt: skip
        "api:webhook-endpoint-enable": [
            Call(p, reverse("api:webhook-endpoint-enable", args=[rows.webhook_endpoint_id]), "post")
        ],
        "api:webhook-endpoint-rotate-secret": [
            Call(
                p,
                reverse("api:webhook-endpoint-rotate-secret", args=[rows.webhook_endpoint_id]),
                "post",
                contains="whsec_",
            ),
        ],  # fmt: skip
        "api:webhook-deliveries": [
            Call(p, reverse("api:webhook-deliveries")),
            Call(
                p,
                reverse("api:webhook-deliveries") + "?status=pending&event=flag.decided"
                f"&endpoint={rows.webhook_endpoint_id}&listing_id={rows.listing_id}"
                "&ordering=created_at",
            ),
        ],  # fmt: skip
        "api:webhook-redeliver": [
            Call(
                p,
                reverse("api:webhook-redeliver", args=[rows.webhook_delivery_id]),
                "post",
                expected=frozenset({202, 409}),
            ),
        ],  # fmt: skip
        # The plate search is a moderator's tool (the review pages call it).
        "api:plate-search": [
            Call(m, reverse("api:plate-search") + f"?q={PLATE}", contains=MISREAD)
        ],
        # The partner's month against its quota (smoke data: 2 of 1,000 read).
        "api:usage": [
            Call(p, reverse("api:usage"), contains='"limit":1000'),
            Call(p, reverse("api:usage") + "?month=2026-01"),
        ],
        "review:queue": [
            Call(m, reverse("review:queue")),
            Call(m, reverse("review:queue") + "?status=&sort=-plate&plate=aa1234bb"),
        ],
        "review:bulk": [
            Call(
                m,
                reverse("review:bulk"),
                "post",
                {"scope": "filter", "decision": "confirm", "querystring": "status=open"},
            ),
        ],  # fmt: skip
        "review:dashboard": [Call(m, reverse("review:dashboard"), contains="<svg")],
        "review:flag": [Call(m, reverse("review:flag", args=[flag]))],
        "review:hold": [
            Call(m, reverse("review:hold", args=[flag]), "post", contains='"mine": true')
        ],  # fmt: skip
        "review:confirm": [_decision(m, "review:confirm", rows.flag_to_confirm)],
        "review:dismiss": [_decision(m, "review:dismiss", rows.flag_to_dismiss)],
        "review:correct": [
            Call(
                m,
                reverse("review:correct", args=[rows.flag_to_correct]),
                "post",
                {"version": 1, "photo_id": rows.photo_id, "plate_text": PLATE},
                REDIRECT,
            ),
        ],  # fmt: skip
        "review:plate_crop": [Call(m, reverse("review:plate_crop", args=[rows.reading_id]))],
        "review:photo_image": [Call(m, reverse("review:photo_image", args=[rows.photo_id]))],
        "review:photo_redacted": [
            Call(m, reverse("review:photo_redacted", args=[rows.photo_id]))
        ],  # fmt: skip
        "review:plate_search": [
            Call(m, reverse("review:plate_search")),
            Call(m, reverse("review:plate_search") + f"?q={PLATE}", contains=MISREAD),
            Call(m, reverse("review:plate_search") + "?q=aa 1234"),
        ],
        "review:plate_history": [Call(m, reverse("review:plate_history", args=[PLATE]))],
        "review:audit_log": [Call(m, reverse("review:audit_log"))],
        "review:audit_csv": [Call(m, reverse("review:audit_csv"))],
        "ops:healthz": [Call(m, reverse("ops:healthz"))],
        # A collector that fails is logged and counted, not a 5xx: read the count.
        "ops:metrics": [Call(m, reverse("ops:metrics"), contains=METRICS_ALL_PARTS_OK)],
        "ops:model_versions": [Call(m, reverse("ops:model_versions"))],
        "ops:model_compare": [Call(m, reverse("ops:model_compare"))],
        "ops:model_corrections": [Call(m, reverse("ops:model_corrections"))],
        "ops:partners": [
            Call(m, reverse("ops:partners"), contains="chart-quota"),
            Call(m, reverse("ops:partners") + "?month=2026-01"),
            Call(m, reverse("ops:partners") + "?month=soon", expected=frozenset({400})),
        ],
        # The partner's photo files are api:photo-file; /media/ is the pages' (session) path.
        "media": [Call(m, reverse("media", args=[rows.photo_path]))],
    }


METRICS_ALL_PARTS_OK = "\n".join(
    f'platecheck_metrics_errors{{part="{part}"}} 0.0'
    for part in ("photos", "queues", "imports", "recognition")
)

# Filters and orderings of the partner's listing list (webapp/api/filters.py).
LISTING_QUERIES = [
    "status=processing", "status=flagged", "status=confirmed", "status=clear",
    f"plate={PLATE}", "flag_kind=plate_not_in_register", "marketplace_id=MP-000001",
    "updated_since=2020-01-01T00:00:00Z", "ordering=-updated_at", "ordering=marketplace_id",
    "page_size=1",
]  # fmt: skip


def _decision(actor: str, name: str, flag_id: int) -> Call:
    return Call(actor, reverse(name, args=[flag_id]), "post", {"version": 1, "reason": "smoke"},
                REDIRECT)  # fmt: skip


def _jpeg_upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("car.jpg", jpeg_bytes(200, 100), "image/jpeg")


@pytest.mark.django_db
def test_every_url_answers_the_moderator_and_the_partner(
    settings, moderator, partner, engine_control
):
    # given: the demo's rows, DEBUG off as the demo runs, and the two actors
    assert settings.DEBUG is False
    settings.METRICS_ALLOWED_ADDRESSES = []
    settings.WEBHOOK_ALLOW_PRIVATE = True  # the endpoints in the rows are on 127.0.0.1
    moderator_group_join(moderator)
    rows = demo_rows_create(moderator=moderator, partner=partner)
    superuser = UserFactory(username="admin", is_staff=True, is_superuser=True)
    actors = Actors(moderator=moderator, partner=partner, superuser=superuser, device=rows.device)
    by_name = _calls_by_name(rows, moderator, reset_user=partner)
    # when: every pattern is fetched by the actor it is for, and GET by the others
    unfilled, failures, covered = url_walk(actors=actors, by_name=by_name)
    # then
    assert not unfilled, f"URL patterns this test cannot fill (add them): {unfilled}"
    assert not failures, "\n".join(failures)
    assert {"review:dashboard", "review:plate_search", "api:recognize"} <= set(covered)


# --- Error pages with DEBUG off (issue 19: the demo's error page showed the settings) ---------


def _boom(request):
    raise RuntimeError("smoke: a view that fails")


# The real URLconf plus a failing view (and a page with a parameter no filler knows).
urlpatterns = [
    path("smoke-boom/", _boom),
    path("smoke-new/<int:thing_id>/", _boom, name="smoke-new"),
    *webapp_urls.urlpatterns,
]


@pytest.mark.django_db
def test_a_new_pattern_the_walk_cannot_fill_is_reported_by_name(settings):
    # given: the URLconf gains a page with a parameter
    settings.ROOT_URLCONF = __name__
    new = next(r for r in routes_all() if r.key == "smoke-new")
    # when / then: the walk has no call for it, so the smoke test fails naming it
    assert new.text == "smoke-new/<int:thing_id>/"
    assert calls_for(new, by_name={}) is None
    assert calls_for(next(r for r in routes_all() if r.key == "gates_api:frames"), by_name={}) == []


@pytest.mark.django_db
def test_error_pages_show_no_settings(settings, moderator):
    # given: the real URLconf plus one failing view, DEBUG off, a logged-in moderator
    assert settings.DEBUG is False
    settings.ROOT_URLCONF = __name__
    moderator_group_join(moderator)
    client = Client(raise_request_exception=False)
    client.force_login(moderator)
    # when
    missing = client.get("/review/flags/999999/")
    failed = client.get("/smoke-boom/")
    # then
    assert missing.status_code == 404
    assert failed.status_code == 500
    for response in (missing, failed):
        body = response.content.decode()
        for leak in (settings.SECRET_KEY, "DATABASES", "Traceback", "smoke: a view that fails"):
            assert leak not in body, leak


@pytest.mark.django_db(transaction=True)
def test_a_backup_of_this_database_is_made_and_restores_as_dumped(tmp_path, settings):
    # given: a photo and its file (PostgreSQL: pg_dump; SQLite, the demo's: its online backup)
    settings.MEDIA_ROOT = tmp_path / "media"
    PhotoFactory()
    out = io.StringIO()
    # when
    call_command("backup", "--dir", str(tmp_path / "backups"), "--verify", stdout=out)
    # then: restored (or opened), every table's rows as dumped, the file kept
    assert "restored" in out.getvalue()
    assert "1 media files" in out.getvalue()
