from __future__ import annotations

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "webapp.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from webapp.ops import metrics

        metrics.register_collector()
