"""deploy/prometheus/prometheus.yml: what Prometheus scrapes, evaluates and alerts to."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.deploy.stack import ROOT, container_ports, prometheus_config, repo_path, services

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


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_promtool_accepts_the_config(tmp_path: Path) -> None:
    rules = ROOT / "alerts" / "generated" / "uecflow.rules.yml"
    if not rules.exists():
        # The rules come from the SCC view issue (test_scc_view_files_exist says if they are
        # missing); this test is about the config, so an empty rule file stands in meanwhile.
        rules = tmp_path / "uecflow.rules.yml"
        rules.write_text("groups: []\n", encoding="utf-8")
    config = prometheus_config()
    config["rule_files"] = [str(rules)]
    copy = tmp_path / "prometheus.yml"
    copy.write_text(yaml.safe_dump(config), encoding="utf-8")
    checked = subprocess.run(
        ["promtool", "check", "config", str(copy)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize(
    ("service", "binary"),
    [("prometheus", "prometheus"), ("alertmanager", "prometheus-alertmanager")],
)
def test_the_flags_exist(service: str, binary: str) -> None:
    # The Debian binaries are older than the images; these flags are the same in both.
    if shutil.which(binary) is None:
        pytest.skip(f"{binary} is not installed")
    shown = subprocess.run(
        [binary, "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    for flag in services()[service]["command"]:
        name = flag.partition("=")[0]
        assert re.search(re.escape(name) + r"(?![\w.-])", shown.stdout + shown.stderr), flag
