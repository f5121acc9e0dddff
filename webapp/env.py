"""Reading the settings' environment: typed helpers (healthchecks' envbool/envint) and
DATABASE_URL. Kept apart from settings.py so that the settings read as a list of settings."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent


def envstr(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def envbool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name} must be a boolean, got {value!r}")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value is None or value == "" else int(value)


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in envstr(name, default).split(",") if item.strip()]


_DB_ENGINES = {
    "postgres": "django.db.backends.postgresql",
    "postgresql": "django.db.backends.postgresql",
    "sqlite": "django.db.backends.sqlite3",
}


# An open connection to a server that vanished (a failover, a cut link) gets no answer to refuse
# it: a worker would wait on it for the kernel's retransmissions, about 15 minutes. An idle
# connection is probed after 30 s and given up after 3 unanswered probes 10 s apart; unanswered
# data is given up after 60 s (libpq's own names; the URL's values win).
TCP_KEEPALIVES = {
    "keepalives": "1",
    "keepalives_idle": "30",
    "keepalives_interval": "10",
    "keepalives_count": "3",
    "tcp_user_timeout": "60000",
}


def database_from_url(url: str) -> dict[str, object]:
    """Parse `postgres://user:pass@host:port/name?opt=v` or `sqlite:///relative/or//abs/path`."""
    parts = urlsplit(url)
    if parts.scheme not in _DB_ENGINES:
        raise ValueError(f"unsupported DATABASE_URL scheme {parts.scheme!r}")
    engine = _DB_ENGINES[parts.scheme]
    if engine.endswith("sqlite3"):
        path = unquote(parts.path)
        # sqlite:///db.sqlite3 is relative to the repo, sqlite:////abs/db.sqlite3 absolute.
        name = Path(path[1:])
        return {"ENGINE": engine, "NAME": name if name.is_absolute() else BASE_DIR / name}
    # psycopg waits up to 130 s for a host that does not answer, past gunicorn's timeout; this
    # fails the request in seconds, answered 503 (webapp/outage.py). The URL's own value wins.
    options = dict(parse_qsl(parts.query))
    options.setdefault("connect_timeout", str(envint("DB_CONNECT_TIMEOUT", 5)))
    for name, value in TCP_KEEPALIVES.items():
        options.setdefault(name, value)
    return {
        "ENGINE": engine,
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "OPTIONS": options,
        "CONN_MAX_AGE": envint("DB_CONN_MAX_AGE", 60),
        "CONN_HEALTH_CHECKS": True,
    }
