#!/usr/bin/env bash
# One entry point for a fresh Debian machine with Python 3.11.
#   bash scripts/setup.sh demo   venv + SQLite + sample data through the chain, then serve :8000
#   bash scripts/setup.sh test   apt packages, PostgreSQL + Redis on loopback, ruff, mypy, lint-imports, whole suite
#   bash scripts/setup.sh services   only the packages, venv, PostgreSQL role/db and Redis
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(python3.11-venv postgresql-15 redis-server chromium fonts-roboto fonts-dejavu-core
  fonts-liberation2)
PG_URL="postgres://platecheck:platecheck@127.0.0.1:5432/platecheck"

log() { printf '\n==> %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }

python_311() {
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      echo "$candidate"; return
    fi
  done
  echo "Python 3.11 is required (apt-get install python3.11 python3.11-venv)" >&2; exit 1
}

venv() {
  if [ ! -x .venv/bin/python ]; then
    log "creating .venv"
    "$(python_311)" -m venv .venv
  fi
  local stamp=.venv/.requirements.sha256
  local want; want="$(sha256sum requirements.txt | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "installing pinned requirements (torch pulls its CUDA libraries; they also run on CPU)"
    .venv/bin/python -m pip install --quiet -r requirements.txt
    echo "$want" > "$stamp"
  fi
}

apt_missing() {
  local missing=()
  for package in "${APT_PACKAGES[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  fi
}

start_postgres() {
  if ! pg_lsclusters -h 2>/dev/null | awk '$1 == "15" && $2 == "main" {print $4}' | grep -q online; then
    log "starting PostgreSQL 15 (listens on localhost only, Debian's default)"
    as_root pg_ctlcluster 15 main start
  fi
  if [ -z "$(as_postgres psql -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'platecheck'")" ]; then
    as_postgres psql -q -c "CREATE ROLE platecheck LOGIN PASSWORD 'platecheck' CREATEDB"
  fi
  if [ -z "$(as_postgres psql -tAc "SELECT 1 FROM pg_database WHERE datname = 'platecheck'")" ]; then
    as_postgres psql -q -c "CREATE DATABASE platecheck OWNER platecheck"
  fi
}

start_redis() {
  if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
    log "starting Redis on 127.0.0.1:6379"
    redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --save '' --appendonly no
    for _ in $(seq 50); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.1; done
  fi
}

demo() {
  venv
  export DATABASE_URL="sqlite:///db.sqlite3" CELERY_BROKER_URL=""
  # --- issue 19: the demo runs with DEBUG off, so an error page never shows the settings. ---
  # DEBUG off refuses the public example key: the demo keeps its own random one in var/.
  mkdir -p var
  [ -s var/demo-secret-key ] || (umask 077; .venv/bin/python -c \
    'import secrets; print(secrets.token_urlsafe(50))' > var/demo-secret-key)
  SECRET_KEY="$(cat var/demo-secret-key)"
  # DEBUG used to allow this for the demo: webhooks to receivers on loopback (tried by hand).
  export SECRET_KEY DEBUG=0 WEBHOOK_ALLOW_PRIVATE=1
  # --- end issue 19 ---
  log "migrating SQLite (db.sqlite3)"
  .venv/bin/python manage.py migrate --no-input -v 0
  log "loading the sample register and listings; each photo runs through the chain in-process"
  .venv/bin/python manage.py load_sample
  # Parking gates (issue #16): a demo gate, its device (config in var/gate-demo.json), a list.
  .venv/bin/python manage.py gate_demo
  log "serving on http://127.0.0.1:8000/review/ (admin: /admin/, API: /api/v1/)"
  # --insecure: with DEBUG off, runserver serves the static files (admin, API docs) only so.
  exec .venv/bin/python manage.py runserver --insecure 127.0.0.1:8000
}

run_tests() {
  services
  promtool_fetch
  export DATABASE_URL="$PG_URL"
  log "ruff check"
  .venv/bin/ruff check .
  log "ruff format --check"
  .venv/bin/ruff format --check .
  log "mypy (recognition/pipeline, registry/crosscheck.py: strict)"
  .venv/bin/mypy
  # issue 19: the layering (contracts in pyproject.toml [tool.importlinter]): pipeline without
  # Django, registry without webapp, the apps as layers with no upward import, no import cycles.
  log "lint-imports (layers)"
  .venv/bin/lint-imports
  log "pytest (PostgreSQL, Redis, a real Celery worker, headless Chromium)"
  .venv/bin/python -m pytest -p no:cacheprovider "$@"
  log "pytest: every page on SQLite, the demo's database (DEBUG off)"
  mkdir -p var
  DATABASE_URL="sqlite:///var/smoke.sqlite3" .venv/bin/python -m pytest -p no:cacheprovider \
    tests/webapp/test_smoke.py
}

# promtool checks deploy/prometheus/ (tests/deploy/test_prometheus_rules.py): Debian's one, or the
# binary alone from Debian's prometheus package (installed, the package would start a server).
promtool_fetch() {
  command -v promtool >/dev/null 2>&1 && return
  [ -x var/bin/promtool ] && return
  log "promtool from Debian's prometheus package (into var/bin/)"
  local tmp
  tmp="$(mktemp -d)"
  chmod 755 "$tmp"  # apt-get download writes as its own user where it can
  (cd "$tmp" && { apt-get download -qq prometheus 2>/dev/null \
    || { as_root apt-get update -qq && apt-get download -qq prometheus; }; })
  mkdir -p var/bin
  dpkg-deb --fsys-tarfile "$tmp"/prometheus_*.deb | tar -x -O ./usr/bin/promtool > var/bin/promtool
  chmod 755 var/bin/promtool
  rm -rf "$tmp"
}

services() {
  apt_missing
  venv
  start_postgres
  start_redis
}

case "${1:-}" in
  services) shift; services ;;
  demo) shift; demo "$@" ;;
  test) shift; run_tests "$@" ;;
  *) echo "usage: bash scripts/setup.sh demo|test [pytest args]|services" >&2; exit 2 ;;
esac
