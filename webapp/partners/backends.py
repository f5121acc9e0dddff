from __future__ import annotations

from axes.backends import AxesStandaloneBackend


class AxesWebBackend(AxesStandaloneBackend):
    """django-axes for web logins only: a call without a request (a management command, a
    script) has no address to lock and is left to the next backend."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
