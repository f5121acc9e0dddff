"""Production settings: no start without a real key, `check --deploy` clean with the documented
environment, security headers and CSP present, install scripts generate a key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "deploy" / "env.example"


def documented_env() -> dict[str, str]:
    env = {}
    for line in EXAMPLE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            env[name] = value
    return env


def run_django(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=REPO,
        env={**base, "DJANGO_SETTINGS_MODULE": "webapp.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "key", [None, "", documented_env()["SECRET_KEY"], "dev-only-insecure-key-change-me"]
)
def test_production_refuses_to_start_without_a_real_key(key):
    env = {"DEBUG": "0"} if key is None else {"DEBUG": "0", "SECRET_KEY": key}
    result = run_django("print('started')", **env)
    assert result.returncode != 0
    assert "SECRET_KEY is missing or is the public example's" in result.stderr
    assert "started" not in result.stdout


def test_the_demo_still_starts_without_a_key():
    assert run_django("print('started')", DEBUG="1").stdout.strip() == "started"


def test_check_deploy_is_clean_with_the_documented_environment(tmp_path):
    env = {
        **documented_env(),
        "SECRET_KEY": "x" * 20 + "-a-real-random-key-made-by-make-env-" + "y" * 20,
        "DATABASE_URL": os.environ.get("DATABASE_URL", "sqlite:///db.sqlite3"),
        "MEDIA_ROOT": str(tmp_path),
    }
    # The browser tests set this for the live server; a production process never has it.
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO, env={**inherited, **env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    settings = run_django(
        "from django.conf import settings as s; print(s.SECURE_PROXY_SSL_HEADER, "
        "s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.SECURE_SSL_REDIRECT)",
        **env,
    )
    assert settings.stdout.split() == ["('HTTP_X_FORWARDED_PROTO',", "'https')", "31536000",
                                       "True", "True"]  # fmt: skip


def test_make_env_writes_a_fresh_key_and_never_overwrites(tmp_path):
    target = tmp_path / "env"
    subprocess.run(["bash", str(REPO / "deploy/make-env.sh"), str(target)], check=True)
    keys = [line for line in target.read_text().splitlines() if line.startswith("SECRET_KEY=")]
    assert len(keys) == 1
    assert keys[0] != f"SECRET_KEY={documented_env()['SECRET_KEY']}"
    assert len(keys[0]) > 50
    assert oct(target.stat().st_mode)[-3:] == "600"
    subprocess.run(["bash", str(REPO / "deploy/make-env.sh"), str(target)], check=True)
    assert keys[0] in target.read_text().splitlines()
    assert "make-env.sh" in (REPO / "deploy/install-systemd.sh").read_text()


@pytest.mark.django_db
def test_security_headers_and_csp_are_sent(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = client.get("/accounts/login/", secure=True)
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
