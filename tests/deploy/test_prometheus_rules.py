"""The Prometheus alerting rules (deploy/prometheus/): valid, firing as their unit tests say, and
naming only metrics that /metrics exports, so a renamed metric cannot silence an alert."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.fixtures.factories import ReadingFactory

PROMETHEUS = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
METRIC = re.compile(r"\b(platecheck_[a-z_]+)\b")


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


@pytest.mark.django_db
def test_every_metric_an_alert_names_is_exported(client, moderator, settings):
    # given a scrape with every collector on, the broker's queues included
    settings.METRICS_ALLOWED_ADDRESSES = []
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/11"
    ReadingFactory()
    client.force_login(moderator)
    text = client.get("/metrics").content.decode()
    # then each family the rules read is declared (a family without samples still is)
    declared = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.MULTILINE))
    assert 'platecheck_metrics_errors{part="queues"} 0.0' in text
    named = {name for rule in _rules() for name in METRIC.findall(rule["expr"])}
    assert len(named) >= 15
    for name in sorted(named):
        family = name.removesuffix("_total")
        assert name in declared or declared.get(family) == "counter", f"{name} is not exported"
