from __future__ import annotations

from django.apps import AppConfig


class GatesConfig(AppConfig):
    name = "webapp.gates"
    label = "gates"
    verbose_name = "Parking gates"
