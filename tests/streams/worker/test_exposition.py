"""/metrics is rendered again only once the last body is old enough, and says what rendering
has cost the worker."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from streams.worker.exposition import RENDER_REUSE_MAX_SECONDS, Exposition


class Renders(Collector):
    """Counts its collections, one per render, each taking `takes` seconds of `clock`."""

    def __init__(self, clock: list[float], takes: float) -> None:
        self.count, self._clock, self._takes = 0, clock, takes

    def collect(self) -> Iterator[GaugeMetricFamily]:
        self.count += 1
        self._clock[0] += self._takes
        yield GaugeMetricFamily("renders", "Renders so far.", value=self.count)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr("streams.worker.exposition.time.monotonic", lambda: now[0])
    return now


def page_of(renders: Renders) -> Exposition:
    metrics = CollectorRegistry()
    metrics.register(renders)
    return Exposition(metrics)


def test_a_body_is_reused_until_five_times_its_render_time_has_passed(clock: list[float]) -> None:
    renders = Renders(clock, takes=0.01)
    page = page_of(renders)
    first = page.body()  # began at 1000.00, took 10 ms: reused until 1000.05
    clock[0] = 1000.049
    assert page.body() is first
    clock[0] = 1000.05
    assert page.body() is not first
    assert renders.count == 2


def test_a_slow_render_is_reused_for_half_a_second_at_most(clock: list[float]) -> None:
    renders = Renders(clock, takes=1.0)
    page = page_of(renders)
    page.body()
    clock[0] = 1000 + RENDER_REUSE_MAX_SECONDS
    page.body()
    assert renders.count == 2


def test_the_body_counts_the_cpu_its_renders_took(clock: list[float]) -> None:
    page = Exposition(CollectorRegistry())
    found = re.search(rb"^uecflow_exposition_cpu_seconds_total (\S+)$", page.body(), re.M)
    assert found is not None
    clock[0] += 1
    later = re.search(rb"^uecflow_exposition_cpu_seconds_total (\S+)$", page.body(), re.M)
    assert later is not None
    assert float(later.group(1)) > float(found.group(1)) >= 0
