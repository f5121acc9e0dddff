from __future__ import annotations

import os
import socket

import pytest

from webapp.env import BASE_DIR, TCP_KEEPALIVES, database_from_url, envbool


def test_postgres_urls_are_parsed():
    db = database_from_url("postgres://u%40x:p%2Fw@db.local:6543/name?sslmode=require")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "u@x", "p/w", "db.local", "6543", "name"
    )  # fmt: skip
    assert db["OPTIONS"] == {**TCP_KEEPALIVES, "connect_timeout": "5", "sslmode": "require"}


def _timeout(url: str) -> str:
    return str(database_from_url(url)["OPTIONS"]["connect_timeout"])  # type: ignore[index]


def test_connecting_to_postgres_gives_up_after_a_few_seconds(monkeypatch):
    # given: the default, and one the URL sets itself
    assert _timeout("postgres://u@h/n") == "5"
    assert _timeout("postgres://u@h/n?connect_timeout=2") == "2"
    monkeypatch.setenv("DB_CONNECT_TIMEOUT", "9")
    assert _timeout("postgres://u@h/n") == "9"
    # SQLite takes no such option
    assert "OPTIONS" not in database_from_url("sqlite:///db.sqlite3")


def test_postgres_connections_probe_a_silent_server_unless_the_url_says_otherwise():
    options = database_from_url("postgres://u@h/n?keepalives_idle=120")["OPTIONS"]
    assert options == {**TCP_KEEPALIVES, "connect_timeout": "5", "keepalives_idle": "120"}


@pytest.mark.django_db
def test_the_database_connections_socket_carries_the_keepalives():
    # given: the suite's real PostgreSQL connection (DATABASE_URL as the product reads it)
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL connection's socket")
    connection.ensure_connection()
    # when: the kernel is asked what libpq set on the socket
    sock = socket.socket(fileno=os.dup(connection.connection.pgconn.socket))
    try:
        # then
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 30
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL) == 10
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT) == 3
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT) == 60000
    finally:
        sock.close()


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
