"""The plate-search key of a reading, stored in ``Reading.search_key`` (a generated column).

What a moderator's plate search matches against: the reading's text and every alternative,
folded onto confusion keys (``B`` and ``8`` are one character, Cyrillic twins are Latin, case and
separators are gone), ``/``-separated. pg_trgm indexes it (``review`` migration 0005) and
``webapp/review/selectors/search.py`` ranks what it finds. The fold below is a frozen copy of
``webapp/review/plates.py`` (tests/webapp/review/test_search.py checks that they agree); changing it
needs a migration that regenerates the column.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Func, TextField

SQL_FROM = "OoQqDdUuIiJjLlZzSsGgTtBbАаЕеКкМмНнРрСсХхУуВвІіЇїЫыОоТтacefhkmnprvwxy -_.·|"
SQL_TO = "000000001111112255667788AAEEKKMMHHPPCCXXYY881111110077ACEFHKMNPRVWXY"


class StoredKey(Func):
    """A generated column's SQL over its own row's columns (no arguments): `template` on
    PostgreSQL, `sqlite` on the demo's SQLite, whose search folds in Python."""

    output_field = TextField()
    sqlite = ""

    def __init__(self, **extra: Any) -> None:
        super().__init__(**extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return self.sqlite, []

    def deconstruct(self) -> tuple[str, tuple, dict]:
        return (f"{type(self).__module__}.{type(self).__qualname__}", (), {})


class ReadingSearchKey(StoredKey):
    """SQL for the generated column ``Reading.search_key``."""

    template = (
        "translate((plate_text::text || '/' || "
        "jsonb_path_query_array(alternatives, '$[*].text')::text), "
        f"'{SQL_FROM}', '{SQL_TO}')"
    )
    sqlite = "upper(plate_text)"  # the column only keeps the text there
