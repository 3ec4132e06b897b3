"""deploy/prometheus/prometheus.yml: what Prometheus scrapes, evaluates and alerts to."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.alerts.promtool import PROMTOOL, tool
from tests.deploy.stack import ROOT, container_ports, prometheus_config, repo_path, services
from tools.monitoring_servers import binary, shipped

RULES_IN_CONTAINER = "/etc/prometheus/rules/uecflow.rules.yml"


def test_the_worker_is_scraped_every_15_seconds() -> None:
    config = prometheus_config()
    (job,) = [job for job in config["scrape_configs"] if job["job_name"] == "uecflow-worker"]
    assert job.get("scrape_interval", config["global"]["scrape_interval"]) == "15s"


def test_the_rules_are_the_generated_ones() -> None:
    assert prometheus_config()["rule_files"] == [RULES_IN_CONTAINER]
    assert repo_path("prometheus", RULES_IN_CONTAINER) == (
        ROOT / "alerts" / "generated" / "uecflow.rules.yml"
    )


def test_alerts_go_to_the_alertmanager_service() -> None:
    (manager,) = prometheus_config()["alerting"]["alertmanagers"]
    (static,) = manager["static_configs"]
    assert static["targets"] == ["alertmanager:9093"]
    assert 9093 in container_ports("alertmanager")
    assert "9093" in services()["alertmanager"]["healthcheck"]["test"]


def test_promtool_accepts_the_config(tmp_path: Path) -> None:
    rules = ROOT / "alerts" / "generated" / "uecflow.rules.yml"
    config = prometheus_config()
    config["rule_files"] = [str(rules)]
    copy = tmp_path / "prometheus.yml"
    copy.write_text(yaml.safe_dump(config), encoding="utf-8")
    checked = subprocess.run(
        [tool(PROMTOOL), "check", "config", str(copy)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("service", ["prometheus", "alertmanager"])
def test_the_flags_exist_in_the_shipped_version(service: str) -> None:
    shown = subprocess.run(
        [_built(service), "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    # A boolean flag is listed as --[no-]name.
    listed = (shown.stdout + shown.stderr).replace("--[no-]", "--")
    for flag in services()[service]["command"]:
        name = flag.partition("=")[0]
        assert re.search(re.escape(name) + r"(?![\w.-])", listed), flag


@pytest.mark.parametrize(
    ("service", "image"), [("prometheus", "prom/prometheus"), ("alertmanager", "prom/alertmanager")]
)
def test_the_tests_run_the_version_the_compose_file_ships(service: str, image: str) -> None:
    assert services()[service]["image"] == f"{image}:v{shipped(image)}"
    shown = subprocess.run(
        [_built(service), "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert f"{service}, version {shipped(image)} " in shown.stdout + shown.stderr


def _built(name: str) -> str:
    return tool(binary(name))
