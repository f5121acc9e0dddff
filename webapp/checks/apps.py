from __future__ import annotations

from django.apps import AppConfig


class ChecksConfig(AppConfig):
    name = "webapp.checks"
    label = "checks"
    verbose_name = "Cross-checks and flags"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Signal wiring only: nothing is loaded or queried here.
        from webapp.checks import chain

        chain.connect()
