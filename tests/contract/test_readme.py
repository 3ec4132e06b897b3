"""The README is what integration teams and the SCC read: it must document what the code does."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.metrics import METRICS, Metric

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("metric", METRICS, ids=[metric.name for metric in METRICS])
def test_readme_documents_every_metric_as_the_code_defines_it(metric: Metric) -> None:
    assert f"| `{metric.name}` | {metric.unit} | {metric.help} |" in README


def test_readme_has_no_placeholder_left() -> None:
    for placeholder in ("METRICS_TABLE", "BENCHMARKS", "DECISIONS", "SAMPLE_TABLE"):
        assert placeholder not in README
