from __future__ import annotations

from django.apps import AppConfig


class RecognitionConfig(AppConfig):
    name = "recognition"
    label = "recognition"
    verbose_name = "Recognition"
