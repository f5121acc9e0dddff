from __future__ import annotations

from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "webapp.partners"
    label = "partners"
    verbose_name = "Partners: API tokens and webhooks"

    def ready(self) -> None:
        # Registers the webhook tasks in every process (web, worker, commands): the services
        # send them by name, and an eager or in-process send must find them.
        from webapp.partners import tasks  # noqa: F401
