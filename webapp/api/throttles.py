"""Per-token request rates, counted in the shared Redis cache so every web process agrees."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import SimpleRateThrottle

from webapp.partners.models import PartnerToken

if TYPE_CHECKING:  # rest_framework.views imports the throttle settings: no cycle at run time
    from rest_framework.request import Request
    from rest_framework.views import APIView


class TokenRateThrottle(SimpleRateThrottle):
    """API_THROTTLE_RATES[scope] per token; per user for a session, per address for nobody."""

    scope = "token"

    @property
    def cache(self):  # type: ignore[override]
        return caches["api-throttle"]

    def get_rate(self) -> str:
        return settings.API_THROTTLE_RATES[self.scope]

    def get_cache_key(self, request: Request, view: APIView) -> str:
        if isinstance(request.auth, PartnerToken):
            ident = f"t{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"u{request.user.pk}"
        else:
            ident = f"a{self.get_ident(request)}"
        return f"throttle:{self.scope}:{ident}"


class RecognizeRateThrottle(TokenRateThrottle):
    """The snapshot endpoint runs the engine in the request: its own, lower rate."""

    scope = "recognize"
