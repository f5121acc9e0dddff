from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _sqlite_translate(text: str | None, source: str, target: str) -> str | None:
    """PostgreSQL's translate(): characters of ``source`` past the end of ``target`` are deleted."""
    if text is None:
        return None
    table = str.maketrans(source[: len(target)], target, source[len(target) :])
    return text.translate(table)


def _add_sqlite_functions(sender: Any, connection: Any, **kwargs: Any) -> None:
    # The demo runs on SQLite: give it the one PostgreSQL function the plate key needs.
    if connection.vendor == "sqlite":
        connection.connection.create_function("translate", 3, _sqlite_translate, deterministic=True)


class ReviewConfig(AppConfig):
    name = "webapp.review"
    label = "review"
    verbose_name = "Moderator review"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        connection_created.connect(_add_sqlite_functions, dispatch_uid="review-sqlite-translate")
