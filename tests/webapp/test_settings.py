from __future__ import annotations

import pytest

from webapp.settings import BASE_DIR, database_from_url, envbool


def test_postgres_urls_are_parsed():
    db = database_from_url("postgres://u%40x:p%2Fw@db.local:6543/name?sslmode=require")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "u@x", "p/w", "db.local", "6543", "name"
    )  # fmt: skip
    assert db["OPTIONS"] == {"connect_timeout": "5", "sslmode": "require"}


def test_connecting_to_postgres_gives_up_after_a_few_seconds(monkeypatch):
    # given: the default, and one the URL sets itself
    assert database_from_url("postgres://u@h/n")["OPTIONS"] == {"connect_timeout": "5"}
    assert database_from_url("postgres://u@h/n?connect_timeout=2")["OPTIONS"] == {
        "connect_timeout": "2"
    }
    monkeypatch.setenv("DB_CONNECT_TIMEOUT", "9")
    assert database_from_url("postgres://u@h/n")["OPTIONS"] == {"connect_timeout": "9"}
    # SQLite takes no such option
    assert "OPTIONS" not in database_from_url("sqlite:///db.sqlite3")


def test_sqlite_paths_are_relative_to_the_repo_unless_absolute():
    assert database_from_url("sqlite:///db.sqlite3")["NAME"] == BASE_DIR / "db.sqlite3"
    assert str(database_from_url("sqlite:////tmp/x.db")["NAME"]) == "/tmp/x.db"


def test_unknown_schemes_and_booleans_are_refused(monkeypatch):
    with pytest.raises(ValueError, match="unsupported"):
        database_from_url("mysql://x/y")
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ValueError, match="FLAG"):
        envbool("FLAG")
    monkeypatch.setenv("FLAG", "Yes")
    assert envbool("FLAG") is True
