"""The metrics page is what integration teams and the SCC read: it must say what the code does."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from streams.core.flow import FlowState
from streams.core.metrics import METRICS, Metric
from streams.exporter import FlowCollector
from uecflow.config import load_registry

REGISTRY = load_registry(None)
METRICS_PAGE = (Path(__file__).resolve().parents[2] / "docs" / "metrics.md").read_text(
    encoding="utf-8"
)


@pytest.mark.parametrize("metric", METRICS, ids=[metric.name for metric in METRICS])
def test_metrics_page_documents_every_metric_as_the_code_defines_it(metric: Metric) -> None:
    assert f"| `{metric.name}` | {metric.unit} | {metric.help} |" in METRICS_PAGE


@pytest.mark.parametrize("metric", METRICS, ids=[metric.name for metric in METRICS])
def test_metrics_page_names_every_metrics_prometheus_family(metric: Metric) -> None:
    assert f"| `{metric.prometheus}` |" in METRICS_PAGE


@pytest.mark.parametrize(
    "metric", [m for m in METRICS if m.target], ids=[m.name for m in METRICS if m.target]
)
def test_metrics_page_gives_every_target_its_bound(metric: Metric) -> None:
    assert metric.target is not None
    targets = METRICS_PAGE.split("## Targets", 1)[1]
    row = next(line for line in targets.splitlines() if f"`{metric.name}`" in line)
    assert f"| {metric.target.bound} |" in row


def test_metrics_page_documents_every_other_family_on_metrics() -> None:
    families = {family.name for family in _live_collector().collect()}
    families |= {"uecflow_events_processed", "uecflow_events_duplicate", "uecflow_events_rejected"}
    documented = {name for name in families if f"| `{name}" in METRICS_PAGE}
    assert documented == families


def _live_collector() -> FlowCollector:
    state = FlowState(REGISTRY, horizon=None)
    return FlowCollector(REGISTRY, lambda t: (state.snapshot(t), {}), lambda: datetime.now(UTC))
