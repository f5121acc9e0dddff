from __future__ import annotations

from django.apps import AppConfig


class ListingsConfig(AppConfig):
    name = "webapp.listings"
    label = "listings"
    verbose_name = "Listings"
