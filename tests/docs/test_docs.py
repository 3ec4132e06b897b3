"""The metrics page is what integration teams and the SCC read: it must say what the code does."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from streams.core.flow import FlowState
from streams.core.metrics import METRICS, Metric
from streams.exporter import FlowCollector, prometheus_name
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
    assert f"| `{prometheus_name(metric)}` |" in METRICS_PAGE


def test_metrics_page_documents_every_other_family_on_metrics() -> None:
    families = {family.name for family in _live_collector().collect()}
    families |= {"uecflow_events_processed", "uecflow_events_duplicate", "uecflow_events_rejected"}
    documented = {name for name in families if f"| `{name}" in METRICS_PAGE}
    assert documented == families


def _live_collector() -> FlowCollector:
    state = FlowState(REGISTRY, horizon=None)
    return FlowCollector(REGISTRY, lambda t: (state.snapshot(t), {}), lambda: datetime.now(UTC))
