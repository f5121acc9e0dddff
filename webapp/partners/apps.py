from __future__ import annotations

from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "webapp.partners"
    label = "partners"
    verbose_name = "Partners: API tokens and webhooks"
