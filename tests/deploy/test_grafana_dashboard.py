"""The Grafana dashboard (deploy/grafana/): panels laid out without overlap, each query valid
PromQL (promtool), reading only metrics /metrics exports, and every platecheck metric shown, so a
metric added or renamed cannot go unseen."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.deploy.test_prometheus_rules import _promtool, _rules, scrape

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "deploy" / "grafana"
METRIC = re.compile(r"\b((?:platecheck|django)_[a-z_]+)\b")
ALERT = re.compile(r"\b(Platecheck[A-Z][A-Za-z]+)\b")
SUFFIXES = ("_bucket", "_total")


def _dashboard() -> dict:
    return json.loads((GRAFANA / "platecheck.json").read_text())


def _panels() -> list[dict]:
    return [p for p in _dashboard()["panels"] if p["type"] != "row"]


def _exprs() -> list[str]:
    return [t["expr"] for p in _panels() for t in p["targets"]]


def test_each_panel_says_what_it_shows_and_none_overlaps_another():
    panels = _dashboard()["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    taken: set[tuple[int, int]] = set()
    for panel in panels:
        box = panel["gridPos"]
        assert box["x"] + box["w"] <= 24, panel["title"]
        cells = {
            (x, y)
            for x in range(box["x"], box["x"] + box["w"])
            for y in range(box["y"], box["y"] + box["h"])
        }
        assert not cells & taken, f"{panel['title']} overlaps another panel"
        taken |= cells
    for panel in _panels():
        assert panel["title"]
        assert panel["description"], panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"], panel["title"]
    assert len(_panels()) >= 25


def test_every_query_is_valid_promql(tmp_path):
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:query_{n}", "expr": expr}
                    for n, expr in enumerate(_exprs())
                ],
            }
        ]
    }
    path = tmp_path / "dashboard_rules.yml"
    path.write_text(yaml.safe_dump(rules))
    done = subprocess.run(
        [_promtool(), "check", "rules", str(path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(_exprs())} rules found" in done.stdout


@pytest.mark.django_db
def test_it_reads_only_exported_metrics_and_shows_every_platecheck_one(client, moderator, settings):
    _, declared = scrape(client, moderator, settings)  # after a request: django_http_*

    named = {name for expr in _exprs() for name in METRIC.findall(expr)}
    for name in sorted(named):
        family = next((name.removesuffix(s) for s in SUFFIXES if name.endswith(s)), name)
        assert name in declared or family in declared, f"{name} is not exported"
    shown = {next((n.removesuffix(s) for s in SUFFIXES if n.endswith(s)), n) for n in named}
    ours = {name.removesuffix("_total") for name in declared if name.startswith("platecheck_")}
    assert sorted(ours - shown) == [], "metrics no panel shows"


def test_the_alerts_it_names_exist_and_grafana_can_provision_it():
    alerts = {rule["alert"] for rule in _rules()}
    named = set(ALERT.findall((GRAFANA / "platecheck.json").read_text()))
    assert named
    assert sorted(named - alerts) == []
    provider = yaml.safe_load((GRAFANA / "provisioning/dashboards/platecheck.yml").read_text())
    assert provider["providers"][0]["type"] == "file"
    source = yaml.safe_load((GRAFANA / "provisioning/datasources/prometheus.yml").read_text())
    assert source["datasources"][0]["type"] == "prometheus"
    scrape = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    assert scrape["scrape_configs"], "the data source's Prometheus scrapes platecheck"
