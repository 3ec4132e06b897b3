"""The metric table is the one place a metric's identity lives: every reader follows it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry

from alerts.recording import recording_rules
from alerts.rules import rule_file
from dashboards.build import all_dashboards
from producers.epr.mllp import Hl7Metrics
from producers.gateway.metrics import GatewayMetrics
from report.situation import measures, now_query, trend_query
from streams.core.metrics import AS_OF, FRESHNESS, METRIC, METRICS, OPEL_IN_FORCE
from streams.exporter import FlowCollector
from streams.worker.pipeline import Pipeline
from tests.events_builder import REGISTRY, at, state_of

ROOT = Path(__file__).resolve().parents[3]
NOW = at("2025-11-20T12:00:00Z")
# A family, or a recording rule (`trust:uecflow_ga_occupancy:ratio`).
SERIES = re.compile(r"\b(?:[a-z]+:)?uecflow_[a-z0-9_]+(?::[a-z_]+)?")


def exported() -> set[str]:
    """Every family name the worker's /metrics can carry."""
    metrics = CollectorRegistry(auto_describe=False)
    Pipeline(REGISTRY, lambda *_: None, lambda: NOW, metrics)  # registers its event counters
    GatewayMetrics(metrics, REGISTRY)  # the gateway's, on its own /metrics
    Hl7Metrics(metrics)  # each HL7 listener's, on its own /metrics
    state = state_of([])
    metrics.register(
        FlowCollector(REGISTRY, lambda as_of: (state.snapshot(as_of), {}), lambda: NOW)
    )
    names = {family.name for family in metrics.collect()} | {m.prometheus for m in METRICS}
    suffixed = {f"{name}_{suffix}" for name in names for suffix in ("total", "bucket")}
    return names | suffixed | {FRESHNESS, AS_OF}


def read_by_the_rules_boards_and_report() -> set[str]:
    rules = yaml.safe_dump(rule_file(REGISTRY))
    boards = json.dumps(all_dashboards(REGISTRY))
    columns = measures(REGISTRY, datetime.fromisoformat("2025-11-20T08:00:00+00:00"))
    queries = now_query(columns) + trend_query(columns)
    return set(SERIES.findall(rules + boards + queries))


def recorded() -> set[str]:
    return {rule["record"] for rule in recording_rules()}


def test_every_series_the_alerts_boards_and_report_read_is_exported_or_recorded() -> None:
    assert read_by_the_rules_boards_and_report() - exported() - recorded() == set()


def test_the_recording_rules_read_only_what_the_worker_exports() -> None:
    read = set(SERIES.findall(" ".join(rule["expr"] for rule in recording_rules())))
    assert read
    # A trust's OPEL level in force is made from two of its recorded figures, and the highest
    # trust's from those.
    assert read - exported() == {
        OPEL_IN_FORCE,
        *(METRIC[name].recorded("trust") for name in ("opel_trust_level", "opel_site_level")),
    }


def test_every_target_the_worker_exports_is_the_tables() -> None:
    metrics = CollectorRegistry(auto_describe=False)
    metrics.register(FlowCollector(REGISTRY, lambda _: None, lambda: NOW))
    bound = {
        sample.labels["metric"]: (sample.labels["bound"], sample.value)
        for family in metrics.collect()
        for sample in family.samples
        if sample.labels.get("metric") != FRESHNESS
    }
    day = NOW.date()
    expected = {
        m.prometheus: (limit.bound, limit.value)
        for m in METRICS
        if (limit := m.prometheus_limit(REGISTRY.targets, day)) is not None
    }
    assert bound == expected
    assert bound["uecflow_ambulance_longest_wait_seconds"] == ("max", 45 * 60)


@pytest.mark.parametrize(
    ("metric", "limit"),
    [
        ("ga_occupancy", ("max", 0.92)),
        ("mffd_rate", ("max", 0.15)),
        ("ae_4h_performance_today", ("min", 0.78)),
        ("ae_over_12h_after_dta", ("max", 0.0)),
        ("ambulance_longest_wait_minutes", ("max", 45.0)),
        ("handovers_over_30_today", None),  # a band below the 45 minutes allowed
        ("handovers_over_60_today", ("max", 0.0)),
        ("ae_in_department", None),
    ],
)
def test_each_metric_is_bound_to_its_target_in_its_own_unit(
    metric: str, limit: tuple[str, float] | None
) -> None:
    found = METRIC[metric].limit(REGISTRY.targets, NOW.date())
    assert (None if found is None else (found.bound, found.value)) == limit


READERS = {
    "alerts": "from alerts.rules import rule_file; rule_file(registry)",
    "dashboards": "from dashboards.build import all_dashboards; all_dashboards(registry)",
    "report": "from report.situation import measures; measures(registry, now)",
    "table": (
        "from rich.console import Console; from streams.core.flow import FlowState;"
        " from streams.table import render;"
        " snapshot = FlowState(registry, horizon=None).snapshot(now);"
        " render(snapshot, Console(file=open(os.devnull, 'w')))"
    ),
}


@pytest.fixture(scope="module")
def renamed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch copy of the product with one metric renamed in the table, as a careless edit
    would: `ae_over_12h_in_department` becomes `ae_over_12h_in_dept`."""
    scratch = tmp_path_factory.mktemp("renamed")
    for package in ("alerts", "dashboards", "events", "report", "streams", "uecflow"):
        shutil.copytree(ROOT / package, scratch / package, ignore=shutil.ignore_patterns("*.pyc"))
    table = scratch / "streams" / "core" / "metrics.py"
    text = table.read_text()
    definition = '\n        "ae_over_12h_in_department",\n'  # its name line; a ratio names it too
    assert text.count(definition) == 1
    table.write_text(text.replace(definition, definition.replace("department", "dept")))
    return scratch


@pytest.mark.parametrize("reader", sorted(READERS))
def test_renaming_a_metric_in_the_table_stops_every_reader_that_names_it(
    renamed: Path, reader: str
) -> None:
    script = (
        "import os, streams; from datetime import datetime, timezone;"
        " from uecflow.config import load_registry;"
        f" assert streams.__file__.startswith({str(renamed)!r});"
        " registry = load_registry(); now = datetime(2025, 11, 20, 8, tzinfo=timezone.utc);"
        f" {READERS[reader]}"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=renamed, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "KeyError: 'ae_over_12h_in_department'" in result.stderr


def test_renaming_a_metric_in_the_table_renames_what_the_worker_exports(renamed: Path) -> None:
    script = (
        "import streams; from streams.core.metrics import METRICS;"
        f" assert streams.__file__.startswith({str(renamed)!r});"
        " print(' '.join(m.prometheus for m in METRICS))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=renamed, capture_output=True, text=True, timeout=120
    )
    names = result.stdout.split()
    assert "uecflow_ae_over_12h_in_dept" in names
    assert "uecflow_ae_over_12h_in_department" not in names
