"""The Prometheus alerting rules (deploy/prometheus/): valid, firing as their unit tests say, and
naming only metrics that /metrics exports, so a renamed metric cannot silence an alert. Each alert
links its section of the on-call runbook (deploy/RUNBOOK.md), whose commands, units, settings and
queries must be this repository's: a runbook that names what is gone misleads at 3 a.m."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.apps import apps
from django.db import DatabaseError, connection

from tests.fixtures.factories import ReadingFactory

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
RUNBOOK = ROOT / "deploy" / "RUNBOOK.md"
METRIC = re.compile(r"\b(platecheck_[a-z_]+)\b")
HEADING = re.compile(r"^(#{1,6}) (.+)$", re.MULTILINE)
MANAGE_PY = re.compile(r"\bmanage\.py\s+([a-z_]+)")
UNIT = re.compile(r"\bplatecheck-([a-z]+)(@?)")
SETTING = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")
PSQL = re.compile(r'psql "\$DATABASE_URL" -c "([^"]+)"')


def _promtool() -> str:
    """Debian's promtool, or the one `bash scripts/setup.sh test` puts in var/bin/."""
    local = PROMETHEUS.parents[1] / "var" / "bin" / "promtool"
    found = shutil.which("promtool") or (str(local) if local.exists() else None)
    if found is None:
        pytest.fail("promtool is missing: bash scripts/setup.sh test fetches it into var/bin/")
    return found


def _run(*args: str) -> str:
    done = subprocess.run(
        [_promtool(), *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_rules_and_the_scrape_config_are_valid():
    assert "SUCCESS" in _run("check", "rules", "alerts.yml")
    assert "SUCCESS" in _run("check", "config", "prometheus.yml")


def test_each_alert_fires_as_its_unit_test_says():
    assert "SUCCESS" in _run("test", "rules", "alerts_test.yml")


def _rules() -> list[dict]:
    groups = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_every_alert_has_a_unit_test():
    tests = yaml.safe_load((PROMETHEUS / "alerts_test.yml").read_text())["tests"]
    tested = {t["alertname"] for test in tests for t in test["alert_rule_test"] if t["exp_alerts"]}
    assert {rule["alert"] for rule in _rules()} == tested


def scrape(client, moderator, settings) -> tuple[str, dict[str, str]]:
    """A scrape of /metrics with every collector on, the broker's queues included, after a
    request: its text, and each family it declares with its type."""
    settings.METRICS_ALLOWED_ADDRESSES = []
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/11"
    ReadingFactory()
    client.force_login(moderator)
    text = client.get("/metrics").content.decode()
    return text, dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.MULTILINE))


@pytest.mark.django_db
def test_every_metric_an_alert_names_is_exported(client, moderator, settings):
    text, declared = scrape(client, moderator, settings)
    # then each family the rules read is declared (a family without samples still is)
    assert 'platecheck_metrics_errors{part="queues"} 0.0' in text
    named = {name for rule in _rules() for name in METRIC.findall(rule["expr"])}
    assert len(named) >= 15
    for name in sorted(named):
        family = name.removesuffix("_total")
        assert name in declared or declared.get(family) == "counter", f"{name} is not exported"


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower-cased, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _runbook() -> str:
    return RUNBOOK.read_text()


def _headings() -> list[tuple[str, str]]:
    """(level, text) of the runbook's headings; a `#` line inside a code block is none."""
    prose = re.sub(r"^```.*?^```", "", _runbook(), flags=re.MULTILINE | re.DOTALL)
    return HEADING.findall(prose)


def test_every_alert_links_its_section_of_the_runbook():
    headings = {_anchor(text): text for _, text in _headings()}
    for rule in _rules():
        url = rule["annotations"].get("runbook_url", "")
        path, _, anchor = url.partition("#")
        assert path == RUNBOOK.relative_to(ROOT).as_posix(), f"{rule['alert']}: {url!r}"
        assert headings.get(anchor) == rule["alert"], f"{rule['alert']}: no heading #{anchor}"


def test_the_runbook_has_a_section_per_alert_and_no_other_in_the_rules_order():
    sections = [text for level, text in _headings() if level == "##"]
    alerts = [rule["alert"] for rule in _rules()]
    assert [s for s in sections if s not in alerts] == [], "sections of alerts that are gone"
    assert sections == alerts


def _repo_commands() -> set[str]:
    """The management commands of the project's own apps (not Django's nor a package's)."""
    found = set()
    for app in apps.get_app_configs():
        folder = Path(app.path).resolve() / "management" / "commands"
        if folder.is_relative_to(ROOT) and ".venv" not in folder.relative_to(ROOT).parts:
            found |= {path.stem for path in folder.glob("*.py") if not path.stem.startswith("_")}
    return found


def test_every_management_command_the_runbook_names_exists():
    named = set(MANAGE_PY.findall(_runbook()))
    assert len(named) >= 5
    assert sorted(named - _repo_commands()) == []


def test_every_systemd_unit_the_runbook_names_exists():
    units = {path.name for path in (ROOT / "deploy" / "systemd").glob("*.service")}
    named = {f"platecheck-{name}{at}.service" for name, at in UNIT.findall(_runbook())}
    assert len(named) >= 4
    assert sorted(named - units) == []


def test_every_setting_the_runbook_names_exists():
    # where a setting can come from: the environment file, settings.py, the units' Environment=
    sources = [ROOT / "deploy" / "env.example", ROOT / "webapp" / "settings.py"]
    known = "\n".join(p.read_text() for p in [*sources, *(ROOT / "deploy" / "systemd").iterdir()])
    named = set(SETTING.findall(_runbook()))
    assert len(named) >= 20
    assert sorted(n for n in named if not re.search(rf"\b{n}\b", known)) == []


@pytest.mark.django_db
def test_every_query_in_the_runbook_runs_on_the_schema():
    if connection.vendor != "postgresql":
        pytest.skip("the runbook's queries are PostgreSQL's (psql)")
    queries = PSQL.findall(_runbook())
    assert len(queries) >= 15
    with connection.cursor() as cursor:
        for sql in queries:
            try:
                cursor.execute(sql)
            except DatabaseError as exc:
                pytest.fail(f"{exc}\n{sql}")
