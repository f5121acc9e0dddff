"""Every page answers, on whichever database DATABASE_URL names; CI runs this file on SQLite
too (``DATABASE_URL=sqlite:///var/smoke.sqlite3``), the demo's database."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Model
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, path, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.test import APIClient

from registry.models import ImportRun
from tests.fixtures.factories import (
    FlagFactory,
    PhotoFactory,
    ReadingFactory,
    UserFactory,
    jpeg_bytes,
)
from tests.review.factories import RegisterRecordFactory
from tests.webapp.smoke_data import (
    MISREAD,
    PASSWORD,
    PLATE,
    DemoRows,
    demo_rows_create,
    moderator_group_join,
)
from webapp import urls as webapp_urls
from webapp.gates import signing
from webapp.listings.models import Flag
from webapp.partners.tokens import token_create
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
    listing.declared_plate = "AA1234BB"
    listing.save()
    flag = FlagFactory(listing=listing, key="AA1234B8", plate_text="AA1234B8",
                       evidence={"declared": "AA1234BB", "read": "AA1234B8"})  # fmt: skip
    other = FlagFactory(key="X", plate_text="KA0001XO")
    services.flag_dismiss(flag_id=other.pk, version=other.version, user=moderator, reason="ok")
    RegisterRecordFactory(plate_latin="AA1234BB")
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
        reverse("review:plate_history", args=["AA1234BB"]): "Register records over time",
        reverse("review:audit_log"): "audit-log",
        reverse("review:audit_csv"): "dismiss",
        reverse("ops:model_versions"): "det-x+ocr-y",
        "/api/v1/plates/search/?q=AA1234BB": "AA1234B8",
        "/metrics": "platecheck_photos",
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


@dataclass(frozen=True)
class Route:
    key: str  # "namespace:name", or the route's text when it has no name
    text: str


@dataclass(frozen=True)
class Call:
    actor: str  # "moderator", "partner", or "device" (a gate: signed requests only)
    url: str
    method: str = "get"
    data: dict | None = None
    expected: frozenset[int] = frozenset({200})
    contains: str = ""  # a text the answer must carry, where a status alone proves little


def routes_all() -> list[Route]:
    found: list[Route] = []

    def walk(patterns, prefix: str, namespace: str) -> None:
        for pattern in patterns:
            text = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace or ""
                walk(
                    pattern.url_patterns,
                    text,
                    f"{namespace}:{inner}".strip(":") if inner else namespace,
                )
            elif isinstance(pattern, URLPattern):
                key = f"{namespace}:{pattern.name}".strip(":") if pattern.name else text
                found.append(Route(key=key, text=text))

    walk(get_resolver().url_patterns, "", "")
    return found


# Patterns that are not pages a person or a partner fetches, each with why.
NOT_PAGES: dict[str, str] = {
    # The device API answers signed requests from a gate only (HMAC of the body, a nonce); the
    # moderator and the partner still GET it below and must get a 4xx, never a 5xx.
    "gates_api:frames": "device",
}
OK = frozenset({200})
REDIRECT = frozenset({302})


def _admin_models() -> dict[str, type[Model]]:
    """`app_model` -> model, for every model registered in the admin."""
    return {f"{m._meta.app_label}_{m._meta.model_name}": m for m in admin.site._registry}


def _first_pk(model: type[Model]) -> int | None:
    return model._default_manager.order_by("pk").values_list("pk", flat=True).first()


def _admin_allows(model: type[Model], action: str) -> frozenset[int]:
    """200 where the model's admin offers the page, 403 where it is read-only by design."""
    request = RequestFactory().get("/admin/")
    request.user = get_user_model().objects.get(username="admin")
    model_admin = admin.site._registry[model]
    allowed = getattr(model_admin, f"has_{action}_permission")(request)
    return OK if allowed else frozenset({403})


def _changelist_calls(model: type[Model], url: str) -> list[Call]:
    """The list, its search, and each of its actions on the first row (without "post": the
    bulk delete only asks for confirmation)."""
    request = RequestFactory().get(url)
    request.user = get_user_model().objects.get(username="admin")
    model_admin = admin.site._registry[model]
    calls = [Call("admin", url)]
    if model_admin.search_fields:
        calls.append(Call("admin", f"{url}?q=a"))
    pk = _first_pk(model)
    for action in model_admin.get_actions(request):
        data = {"action": action, "_selected_action": [pk], "index": 0}
        calls.append(Call("admin", url, "post", data, frozenset({200, 302})))
    return calls


def _admin_calls(route: Route) -> list[Call] | None:
    models = _admin_models()
    if route.key == "admin:app_list":
        labels = sorted({m._meta.app_label for m in models.values()})
        return [Call("admin", reverse(route.key, args=[label])) for label in labels]
    if route.key == "admin:view_on_site":
        flag_type = ContentType.objects.get_for_model(Flag)
        # Flag has no get_absolute_url: the admin's shortcut answers 404, not a 5xx.
        url = reverse(route.key, args=[flag_type.pk, _first_pk(Flag)])
        return [Call("admin", url, expected=frozenset({404}))]
    if route.text == "admin/(?P<url>.*)$":
        return [Call("admin", "/admin/no-such-page/", expected=frozenset({404}))]
    for app_model, model in models.items():
        app, name = model._meta.app_label, model._meta.model_name
        pk = _first_pk(model)
        if route.key == f"admin:{app_model}_changelist":
            return _changelist_calls(model, reverse(route.key))
        if route.key == f"admin:{app_model}_add":
            return [Call("admin", reverse(route.key), expected=_admin_allows(model, "add"))]
        if pk is None:
            continue  # no row: the pattern stays unfilled and the test names it
        if route.key in {f"admin:{app_model}_change", f"admin:{app_model}_history"}:
            return [Call("admin", reverse(route.key, args=[pk]))]
        if route.key == f"admin:{app_model}_delete":
            expected = _admin_allows(model, "delete")
            return [Call("admin", reverse(route.key, args=[pk]), expected=expected)]
        if route.text == f"admin/{app}/{name}/<path:object_id>/":
            return [Call("admin", f"/admin/{app}/{name}/{pk}/", expected=REDIRECT)]
    return None


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
            Call(su, reverse("admin:registry_importrun_rejects", args=[_first_pk(ImportRun)]))
        ],
        "admin:registry_importrun_progress": [
            Call(su, reverse("admin:registry_importrun_progress", args=[_first_pk(ImportRun)]))
        ],
        "login": [Call(m, reverse("login"))],
        "logout": [Call("moderator-fresh", reverse("logout"), "post", expected=REDIRECT)],
        "password_change": [Call(m, reverse("password_change"))],
        "password_change_done": [Call(m, reverse("password_change_done"))],
        "password_reset": [Call(m, reverse("password_reset"))],
        "password_reset_done": [Call(m, reverse("password_reset_done"))],
        "password_reset_confirm": [
            Call(m, reverse("password_reset_confirm", args=[uid, reset_token]), expected=REDIRECT)
        ],
        "password_reset_complete": [Call(m, reverse("password_reset_complete"))],
        "gates_api:access_list": [Call("device", reverse("gates_api:access_list"))],
        "gates:passages": [Call(m, reverse("gates:passages"))],
        "gates:frame_image": [Call(m, reverse("gates:frame_image", args=[rows.frame_id]))],
        "gates:devices": [Call(m, reverse("gates:devices"))],
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
        "api:photo-file": [Call(p, reverse("api:photo-file", args=[rows.photo_id]))],
        "api:recognize": [
            Call(p, reverse("api:recognize"), "post", {"upload": _jpeg_upload()}),
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


class Actors:
    """One logged-in client per actor; "-fresh" actors get a new session for calls that end it.

    "admin" is the demo's operator (a superuser): the moderator is staff without model
    permissions, so the admin's model pages answer them 403, which is checked too.
    """

    def __init__(self, *, moderator, partner, superuser, device) -> None:
        self._moderator, self._partner, self._device = moderator, partner, device
        self._superuser = superuser
        self.moderator = self._session_client(moderator)
        self.partner = self._partner_client()
        self.admin = self._session_client(superuser)

    @staticmethod
    def _session_client(user) -> Client:
        client = Client(raise_request_exception=False)
        client.force_login(user)
        return client

    def _partner_client(self) -> APIClient:
        client = APIClient(raise_request_exception=False)
        issued = token_create(user=self._partner, name="smoke")
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.key}")
        return client

    def others(self, owner: str) -> list[Client]:
        return [
            c for a, c in (("moderator", self.moderator), ("partner", self.partner)) if a != owner
        ]

    def send(self, call: Call):
        if call.actor == "device":
            return self._device_get(call.url)
        client = {
            "moderator": lambda: self.moderator,
            "moderator-fresh": lambda: self._session_client(self._moderator),
            "admin": lambda: self.admin,
            "admin-fresh": lambda: self._session_client(self._superuser),
            "partner": lambda: self.partner,
            "partner-fresh": self._partner_client,
        }[call.actor]()
        if call.method == "get" or call.data is None:
            return getattr(client, call.method)(call.url)
        if isinstance(client, APIClient):
            files = any(isinstance(v, (list, SimpleUploadedFile)) for v in call.data.values())
            uploads = files and "events" not in call.data
            return client.post(call.url, call.data, format="multipart" if uploads else "json")
        return client.post(call.url, call.data)

    def _device_get(self, url: str):
        device, secret = self._device
        timestamp, nonce = str(int(time.time())), secrets.token_urlsafe(18)
        headers = {
            signing.HEADER_DEVICE: device.device_id,
            signing.HEADER_TIMESTAMP: timestamp,
            signing.HEADER_NONCE: nonce,
            signing.HEADER_SIGNATURE: signing.sign(
                secret=secret, method="GET", path=url, timestamp=timestamp, nonce=nonce, body=b""
            ),
        }
        return Client(raise_request_exception=False).get(url, headers=headers)


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


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


def url_walk(*, actors: Actors, by_name: dict[str, list[Call]]):
    """Every pattern of the URLconf: (patterns it cannot fill, failed calls, patterns fetched)."""
    unfilled, failures, covered = [], [], []
    for route in routes_all():
        calls = by_name.get(route.key) or _admin_calls(route)
        if calls is None and route.key not in NOT_PAGES:
            unfilled.append(route.key)
            continue
        for call in calls or []:
            response = actors.send(call)
            body = _body(response)
            if (
                response.status_code not in call.expected
                or response.status_code >= 500
                or call.contains.encode() not in body
            ):
                failures.append(f"{route.key} {call.method} {call.url} as {call.actor}: "
                                f"{response.status_code} {body[:200]!r}")  # fmt: skip
        url = calls[0].url if calls else "/" + route.text
        owner = (calls[0].actor if calls else NOT_PAGES[route.key]).removesuffix("-fresh")
        for client in actors.others(owner):
            status = client.get(url).status_code
            if status >= 500:
                failures.append(f"{route.key} GET {url} as the other actor: {status}")
        covered.append(route.key)
    return unfilled, failures, covered


# --- Error pages with DEBUG off (issue 19: the demo's error page showed the settings) ---------


def _boom(request):
    raise RuntimeError("smoke: a view that fails")


urlpatterns = [path("smoke-boom/", _boom), *webapp_urls.urlpatterns]


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
