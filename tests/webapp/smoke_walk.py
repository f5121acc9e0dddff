"""The page smoke test's machinery: every pattern of the URLconf, the calls that fill it, and
the actors that make them (tests/webapp/test_smoke.py says which call each named pattern gets).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Model
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from webapp.checks.models import Flag
from webapp.gates import signing
from webapp.partners.tokens import token_create


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
    # A device's report on an order it took (tests/webapp/gates/test_gate_commands.py).
    "gates_api:command_done": "device",
}
OK = frozenset({200})
REDIRECT = frozenset({302})


def _admin_models() -> dict[str, type[Model]]:
    """`app_model` -> model, for every model registered in the admin."""
    return {f"{m._meta.app_label}_{m._meta.model_name}": m for m in admin.site._registry}


def first_pk(model: type[Model]) -> int | None:
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
    pk = first_pk(model)
    for action in model_admin.get_actions(request):
        data = {"action": action, "_selected_action": [pk], "index": 0}
        calls.append(Call("admin", url, "post", data, frozenset({200, 302})))
    return calls


def admin_calls(route: Route) -> list[Call] | None:
    models = _admin_models()
    if route.key == "admin:app_list":
        labels = sorted({m._meta.app_label for m in models.values()})
        return [Call("admin", reverse(route.key, args=[label])) for label in labels]
    if route.key == "admin:view_on_site":
        flag_type = ContentType.objects.get_for_model(Flag)
        # Flag has no get_absolute_url: the admin's shortcut answers 404, not a 5xx.
        url = reverse(route.key, args=[flag_type.pk, first_pk(Flag)])
        return [Call("admin", url, expected=frozenset({404}))]
    if route.text == "admin/(?P<url>.*)$":
        return [Call("admin", "/admin/no-such-page/", expected=frozenset({404}))]
    for app_model, model in models.items():
        app, name = model._meta.app_label, model._meta.model_name
        pk = first_pk(model)
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


def calls_for(route: Route, *, by_name: dict[str, list[Call]]) -> list[Call] | None:
    """The calls that fetch ``route``; None when nothing fills it (the test then names it)."""
    calls = by_name.get(route.key) or admin_calls(route)
    if calls is None and route.key in NOT_PAGES:
        return []
    return calls


def url_walk(*, actors: Actors, by_name: dict[str, list[Call]]):
    """Every pattern of the URLconf: (patterns it cannot fill, failed calls, patterns fetched)."""
    unfilled, failures, covered = [], [], []
    # The admin last: its actions change rows the other pages show (the cross-check's "Ask
    # again" re-derives a listing's flags, and drops the demo rows' flags no rule finds).
    for route in sorted(routes_all(), key=lambda route: route.key.startswith("admin:")):
        calls = calls_for(route, by_name=by_name)
        if calls is None:
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
