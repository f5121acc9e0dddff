from __future__ import annotations

from django.apps import AppConfig


class RecognitionConfig(AppConfig):
    name = "recognition"
    label = "recognition"
    verbose_name = "Recognition"

    def ready(self) -> None:
        # Registers the recognition tasks in every process (web, worker, commands): dispatch
        # sends them by name. No model is loaded here: the engine loads lazily in the worker.
        from recognition import tasks  # noqa: F401
