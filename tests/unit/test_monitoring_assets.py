"""monitoring/: alert rules and the Grafana dashboard name only metrics the service exports.

A typo in a metric name makes an alert that never fires and a panel that stays empty, with no
error anywhere: the names are parsed out of every expression and compared with the names in
provider/ops/metrics.py (plus Prometheus' own `up`). promtool, when installed, checks the syntax
and runs the rule unit tests in monitoring/alerts_test.yml.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "monitoring"
METRICS_SOURCE = ROOT / "provider" / "ops" / "metrics.py"
PROMETHEUS_BUILTINS = {"up"}
SUFFIXES = ("_bucket", "_sum", "_count", "_created")
FUNCTIONS_AND_KEYWORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "and",
    "or",
    "unless",
    "offset",
    "inf",
    "nan",
}


def exported_metrics() -> set[str]:
    """Every `provider_*` name in the metrics module (counters, histogram, the gauge text)."""
    return set(re.findall(r"\b(provider_[a-z0-9_]+)\b", METRICS_SOURCE.read_text()))


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (a small parser, enough for our rules)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # string literals
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # range and subquery durations
    text = re.sub(
        r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text
    )  # label lists
    text = re.sub(r"\$\{?\w+\}?", " ", text)  # Grafana variables
    names = set()
    for match in re.finditer(r"(?<![\w.])([a-zA-Z_:][\w:]*)(\s*\()?", text):
        name, call = match.group(1), match.group(2)
        if call or name.lower() in FUNCTIONS_AND_KEYWORDS:
            continue
        names.add(name)
    return names


def known(name: str, exported: set[str]) -> bool:
    if name in exported or name in PROMETHEUS_BUILTINS:
        return True
    return any(name.endswith(suffix) and name[: -len(suffix)] in exported for suffix in SUFFIXES)


def alert_rules() -> list[dict[str, Any]]:
    document = yaml.safe_load((MONITORING / "alerts.yml").read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def dashboard_expressions() -> list[tuple[str, str]]:
    dashboard = json.loads((MONITORING / "grafana" / "dashboard.json").read_text())
    found = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            found.append((panel["title"], target["expr"]))
    return found


def test_the_parser_finds_metric_names() -> None:
    expr = (
        'sum by (le, route) (rate(provider_x_bucket{route!~"/a|/b"}[5m])) '
        "/ ignoring(le) sum(rate(other_total[$__rate_interval])) > 1e-3 and up == 0"
    )
    assert metric_names(expr) == {"provider_x_bucket", "other_total", "up"}


def test_the_service_exports_what_the_assets_rely_on() -> None:
    exported = exported_metrics()
    assert {
        "provider_http_requests_total",
        "provider_http_request_duration_seconds",
        "provider_auth_operations_total",
        "provider_rate_limit_hits_total",
        "provider_cache_fallbacks_total",
        "provider_audit_events_total",
        "provider_active_sessions",
    } <= exported


def test_alert_rules_use_only_exported_metrics() -> None:
    exported = exported_metrics()
    rules = alert_rules()
    assert len(rules) >= 8
    for rule in rules:
        assert {"alert", "expr", "labels", "annotations"} <= set(rule), rule
        assert rule["labels"]["severity"] in ("critical", "warning", "info")
        names = metric_names(rule["expr"])
        assert names, rule["alert"]
        unknown = {name for name in names if not known(name, exported)}
        assert not unknown, (rule["alert"], unknown)


def test_alert_rules_cover_what_operators_watch() -> None:
    expressions = " ".join(rule["expr"] for rule in alert_rules())
    for needle in (
        'status=~"5.."',
        "histogram_quantile(0.99",
        'event="user.locked"',
        'event="token.reuse_detected"',
        "provider_cache_fallbacks_total",
        "up{",
    ):
        assert needle in expressions, needle


def test_dashboard_uses_only_exported_metrics() -> None:
    exported = exported_metrics()
    expressions = dashboard_expressions()
    assert len(expressions) >= 10
    used: set[str] = set()
    for title, expr in expressions:
        names = metric_names(expr)
        assert names, title
        unknown = {name for name in names if not known(name, exported)}
        assert not unknown, (title, unknown)
        used |= names
    for family in (
        "provider_http_requests_total",
        "provider_http_request_duration_seconds_bucket",
        "provider_auth_operations_total",
        "provider_rate_limit_hits_total",
        "provider_cache_fallbacks_total",
        "provider_active_sessions",
    ):
        assert family in used, family


def test_dashboard_is_well_formed() -> None:
    dashboard = json.loads((MONITORING / "grafana" / "dashboard.json").read_text())
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    assert dashboard["uid"]
    assert dashboard["title"]
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] >= 0, panel["title"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]


def test_prometheus_config_scrapes_metrics_with_a_token_file() -> None:
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    assert config["rule_files"] == ["alerts.yml"]
    (job,) = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["authorization"]["type"] == "Bearer"
    assert "credentials_file" in job["authorization"]
    assert "credentials" not in job["authorization"]


PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed")


def _promtool(*args: str) -> None:
    assert PROMTOOL is not None
    result = subprocess.run(
        [PROMTOOL, *args], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_promtool_accepts_the_rules_and_their_unit_tests() -> None:
    _promtool("check", "rules", "monitoring/alerts.yml")
    _promtool("test", "rules", "monitoring/alerts_test.yml")


@needs_promtool
def test_promtool_accepts_the_config() -> None:
    _promtool("check", "config", "--syntax-only", "monitoring/prometheus.yml")


def test_the_compose_monitoring_profile_matches_the_assets() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    prometheus, grafana = services["prometheus"], services["grafana"]
    assert prometheus["profiles"] == ["monitoring"]
    assert grafana["profiles"] == ["monitoring"]
    assert "./monitoring:/etc/prometheus:ro" in prometheus["volumes"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    (job,) = config["scrape_configs"]
    # The token file is the compose secret, and the targets are the provider instances.
    (secret,) = prometheus["secrets"]
    assert job["authorization"]["credentials_file"] == f"/run/secrets/{secret}"
    assert compose["secrets"][secret] == {"environment": "PROVIDER_METRICS_TOKEN"}
    instances = {
        f"{name}:{service['expose'][0]}"
        for name, service in services.items()
        if service.get("command") == ["serve"]
    }
    assert set(job["static_configs"][0]["targets"]) == instances
    assert set(prometheus["networks"]) & set(services["provider-1"]["networks"])
    provisioning = yaml.safe_load(
        (MONITORING / "grafana/provisioning/dashboards/provider.yml").read_text()
    )
    dashboards_dir = provisioning["providers"][0]["options"]["path"]
    assert any(
        volume.startswith("./monitoring/grafana/dashboard.json:" + dashboards_dir + "/")
        for volume in grafana["volumes"]
    )
    datasource = yaml.safe_load(
        (MONITORING / "grafana/provisioning/datasources/prometheus.yml").read_text()
    )["datasources"][0]
    dashboard = json.loads((MONITORING / "grafana" / "dashboard.json").read_text())
    (variable,) = dashboard["templating"]["list"]
    assert variable["current"]["value"] == datasource["uid"]
    assert datasource["url"] == "http://prometheus:9090"
