"""Monitoring configuration in step: the services' ports, both Prometheus configurations
(compose's static file and the one infra/local/prometheus.sh writes), the recording
rules the pictures read, the Grafana dashboard and the operations page's panels.

Reads files of the repository only (no process, no network).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from services.distribution.rest.ops import PANELS

REPO = Path(__file__).resolve().parents[2]
MONITORING = REPO / "infra" / "monitoring"


def compose_targets() -> set[tuple[str, int, str]]:
    """(job, port, service) of every target in infra/monitoring/prometheus.yml."""
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    found = set()
    for job in config["scrape_configs"]:
        for group in job["static_configs"]:
            for target in group["targets"]:
                found.add((job["job_name"], int(target.rsplit(":", 1)[1]), group["labels"]["service"]))
    return found


def local_targets() -> set[tuple[str, int, str]]:
    """The same from infra/local/prometheus.sh's DEFAULT_TARGETS (plus its own job)."""
    text = (REPO / "infra" / "local" / "prometheus.sh").read_text()
    block = text.split("DEFAULT_TARGETS=(", 1)[1].split(")", 1)[0]
    found = {("prometheus", 9090, "prometheus")}
    for job, address, service in re.findall(r'"([\w-]+)\|([\d.]+:\d+)\|([\w-]+)"', block):
        found.add((job, int(address.rsplit(":", 1)[1]), service))
    return found


def started_services() -> dict[str, int]:
    """Name and port of every service infra/local/services.sh starts."""
    text = (REPO / "infra" / "local" / "services.sh").read_text()
    return {name: int(port) for name, port in re.findall(r'^  "([\w-]+)\|(\d+)\|', text, re.M)}


def recorded() -> set[str]:
    """The series the recording rules make."""
    rules = yaml.safe_load((MONITORING / "rules" / "recording.yml").read_text())
    return {r["record"] for group in rules["groups"] for r in group["rules"]}


def test_every_started_service_is_scraped_locally_and_in_compose() -> None:
    services = started_services()
    assert len(services) == 9, services
    assert compose_targets() == local_targets()
    scraped = {(service, port) for _, port, service in local_targets() if service != "prometheus"}
    assert scraped == set(services.items())


def test_the_operations_page_and_the_dashboard_draw_the_same_recorded_series() -> None:
    dashboard = json.loads((MONITORING / "grafana" / "dashboards" / "sportsfeed.json").read_text())
    in_grafana = {t["expr"]: t["legendFormat"] for p in dashboard["panels"] for t in p["targets"]}
    series = recorded()
    for panel in PANELS:
        for query in panel.queries:
            assert query.expr in series, f"{panel.id}: {query.expr} is not a recording rule"
            legend = re.sub(r"\{(\w+)\}", r"{{\1}}", query.legend)
            assert in_grafana.get(query.expr) == legend, f"{panel.id}: {query.expr} not in Grafana"
    titles = {p["title"] for p in dashboard["panels"]}
    assert {p.title for p in PANELS} <= titles


def test_alerts_read_only_recorded_or_exported_series() -> None:
    alerts = yaml.safe_load((MONITORING / "rules" / "alerts.yml").read_text())
    names = {r["alert"] for g in alerts["groups"] for r in g["rules"]}
    assert names == {"SportsfeedServiceDown", "SportsfeedProviderSilent",
                     "SportsfeedConsumerLagHigh", "SportsfeedRefusalsRising",
                     "SportsfeedLedgerMismatch"}
    series = recorded()
    for group in alerts["groups"]:
        for rule in group["rules"]:
            for used in re.findall(r"\b\w+:\w+:\w+\b", rule["expr"]):
                assert used in series, f"{rule['alert']}: {used} is not recorded"


def test_compose_runs_prometheus_and_grafana_with_the_repository_config() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    services = compose["services"]
    prometheus, grafana = services["prometheus"], services["grafana"]
    assert "./infra/monitoring/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in prometheus["volumes"]
    assert "./infra/monitoring/rules:/etc/prometheus/rules:ro" in prometheus["volumes"]
    assert any(v.startswith("./infra/monitoring/grafana/provisioning:") for v in grafana["volumes"])
    assert any(v.startswith("./infra/monitoring/grafana/dashboards:") for v in grafana["volumes"])
    env = services["distribution"]["environment"]
    assert env["SPORTSFEED_DISTRIBUTION_PROMETHEUS_URL"] == "http://prometheus:9090"
    datasource = yaml.safe_load(
        (MONITORING / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text())
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    assert config["rule_files"] == ["rules/recording.yml", "rules/alerts.yml"]
