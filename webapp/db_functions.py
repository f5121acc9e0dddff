"""SQL functions the apps' reads share."""

from __future__ import annotations

from django.db.models import FloatField, Func


class EpochSeconds(Func):
    """Seconds as a float: a time's since 1970 (UTC), or on PostgreSQL an interval's length.

    Thousands of rows come back as numbers, not as datetimes to parse: the gate site page's
    occupancy over a year of stays took 54-59 ms with datetimes, 26-31 ms so (2026-12-06,
    `runs/s43/site_prof.py`). SQLite, the demo's database, has times only (no intervals)."""

    output_field = FloatField()

    def as_postgresql(self, compiler, connection, **extra):  # type: ignore[no-untyped-def]
        template = "EXTRACT(EPOCH FROM %(expressions)s)::double precision"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):  # type: ignore[no-untyped-def]
        # julianday's float is off by a few microseconds: rounded to the millisecond, a car that
        # left on the hour left on it (SQLite 3.40 has no unixepoch(..., 'subsec')).
        template = "ROUND((julianday(%(expressions)s) - 2440587.5) * 86400.0, 3)"
        return self.as_sql(compiler, connection, template=template, **extra)
