"""A metrics history for a file of events: what a worker's /metrics would have shown at each
scrape, as timestamped OpenMetrics, turned into TSDB blocks by promtool for Prometheus to serve.

Every number comes from the worker's own path (`streams.worker.pipeline.Pipeline` admits and
applies, `streams.exporter.FlowCollector` exposes), so the history cannot disagree with the
live one.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import yaml
from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import Metric as Family
from prometheus_client.openmetrics.exposition import generate_latest
from prometheus_client.registry import Collector

from report.prometheus import PrometheusClient
from streams.core.instants import NEVER, Instant, to_instant
from streams.core.intake import STREAM_OF_TYPE, Keys, Stream
from streams.exporter import FlowCollector
from streams.worker.pipeline import Pipeline
from tools.monitoring_servers import binary
from uecflow.config import Registry


class BackfillError(RuntimeError):
    """promtool is missing or refused the history."""


@dataclass(frozen=True, slots=True)
class Period:
    """Scrapes at `start`, `start + step`, ... up to and including `end`."""

    start: datetime
    end: datetime
    step: timedelta

    def instants(self) -> Iterator[datetime]:
        moment = self.start
        while moment <= self.end:
            yield moment
            moment += self.step


def scrapes(
    lines: Iterable[bytes], registry: Registry, period: Period
) -> Iterator[tuple[datetime, list[Family]]]:
    """Each scrape's families, with every event up to its instant delivered in time order."""
    pending = sorted(_timed(lines), key=lambda item: item[0])
    clock = [period.start]
    pipeline = Pipeline(registry, _discard, lambda: clock[0], CollectorRegistry())
    pipeline.recover([])
    collector = FlowCollector(registry, pipeline.read, lambda: clock[0])
    position = 0
    for moment in period.instants():
        clock[0] = moment
        stamp = to_instant(moment)
        while position < len(pending) and pending[position][0] <= stamp:
            _, stream, raw = pending[position]
            pipeline.handle(raw, stream, key=Keys.UNCHECKED)
            pipeline.flush()  # the changelog goes nowhere; flushing keeps its buffer empty
            position += 1
        yield moment, list(collector.collect())


def write_openmetrics(history: Iterable[tuple[datetime, list[Family]]], path: Path) -> int:
    """Write the scrapes as one OpenMetrics file; return how many samples it holds.

    OpenMetrics wants each family once and each series' points together in time order, so the
    scrapes are regrouped by family and series. A series that a scrape no longer has (nobody
    waiting: no longest wait) gets a NaN there: live scraping would mark it stale, but a backfill
    has no staleness markers, and Prometheus would otherwise show its last value for 5 minutes.
    """
    families: dict[str, Family] = {}
    series: dict[str, dict[tuple[tuple[str, str], ...], list[tuple[dict[str, str], float, int]]]]
    series = {}
    for moment, scraped in history:
        stamp = int(moment.timestamp())
        for family in scraped:
            families.setdefault(family.name, Family(family.name, family.documentation, "gauge"))
            by_labels = series.setdefault(family.name, {})
            present = set()
            for sample in family.samples:
                key = tuple(sorted(sample.labels.items()))
                present.add(key)
                by_labels.setdefault(key, []).append((sample.labels, sample.value, stamp))
            for key, points in by_labels.items():
                if key not in present and points and not math.isnan(points[-1][1]):
                    points.append((points[-1][0], math.nan, stamp))
    count = 0
    for name, family in families.items():
        for points in series[name].values():
            for labels, value, stamp in points:
                family.add_sample(name, labels, value, timestamp=stamp)
                count += 1
    exposition = CollectorRegistry(auto_describe=False)
    exposition.register(_Fixed(list(families.values())))
    path.write_bytes(generate_latest(exposition))  # type: ignore[no-untyped-call]  # untyped upstream
    return count


def create_blocks(openmetrics: Path, blocks: Path) -> None:
    """`promtool tsdb create-blocks-from openmetrics`: blocks for Prometheus' storage path."""
    blocks.mkdir(parents=True, exist_ok=True)
    _promtool("openmetrics", "--quiet", str(openmetrics), str(blocks))


def rule_layers(rules: Path) -> list[list[dict[str, str]]]:
    """The recording rules in the order they can be evaluated from blocks: first those that
    read only scraped series, then those that read the first ones' records, and so on."""
    pending = _recording_rules(rules)
    layers: list[list[dict[str, str]]] = []
    done: set[str] = set()
    recorded = {rule["record"] for rule in pending}
    while pending:
        ready = [r for r in pending if not (_reads(r["expr"]) & recorded) - done]
        if not ready:
            raise BackfillError("recording rules read each other in a cycle")
        layers.append(ready)
        done |= {rule["record"] for rule in ready}
        pending = [rule for rule in pending if rule not in ready]
    return layers


def _reads(expr: str) -> set[str]:
    return set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr))


def record(rules: list[dict[str, str]], prometheus: str, period: Period, blocks: Path) -> None:
    """Recording rules (the trust, place and system figures; one layer of `rule_layers`) over
    the period, evaluated by a Prometheus serving the blocks, at the scrapes' own instants, and
    written into `blocks` too. Not `promtool tsdb create-blocks-from rules`: it evaluates at the
    group's offset, so a figure read at a scrape's instant would be the one of the scrape
    before, and it cannot read one rule's records in another."""
    instants = [moment.timestamp() for moment in period.instants()]
    lines = []
    with PrometheusClient(prometheus, timeout=60) as client:
        for rule in rules:
            name = rule["record"]
            lines.append(f"# TYPE {name} gauge")
            for series in client.range(rule["expr"], period.start, period.end, period.step):
                labels = _openmetrics_labels(series.labels)
                lines += [
                    f"{name}{labels} {value!r} {when:.3f}"
                    for when, value in _ended_by_nan(series.points, instants)
                ]
    # Written by hand: prometheus_client escapes the colons of a rule's name to underscores.
    openmetrics = blocks.parent / f"{blocks.name}.rules.om.txt"
    openmetrics.write_text("\n".join([*lines, "# EOF", ""]), encoding="utf-8")
    written = blocks.parent / f"{blocks.name}.rules"
    create_blocks(openmetrics, written)
    for block in written.iterdir():
        block.rename(blocks / block.name)
    written.rmdir()
    openmetrics.unlink()


def _openmetrics_labels(labels: dict[str, str]) -> str:
    pairs = [f'{key}="{_escaped(value)}"' for key, value in labels.items() if key != "__name__"]
    return "{" + ",".join(pairs) + "}" if pairs else ""


def _escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _ended_by_nan(
    points: Iterable[tuple[float, float]], instants: list[float]
) -> Iterator[tuple[float, float]]:
    """A figure that a step no longer has (a ratio with nothing to divide) gets a NaN there, as
    in `write_openmetrics`: a backfill has no staleness markers."""
    values = dict(points)
    had = False
    for moment in instants:
        if moment in values:
            yield moment, values[moment]
        elif had:
            yield moment, math.nan
        had = moment in values


def _recording_rules(path: Path) -> list[dict[str, str]]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"] if "record" in rule]


def _promtool(source: str, *arguments: str) -> None:
    promtool = binary("promtool")
    if promtool is None:
        raise BackfillError("promtool not built: scripts/monitoring-tools install")
    command = [promtool, "tsdb", "create-blocks-from", source, *arguments]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackfillError(f"promtool refused the {source}: {done.stderr.strip()[-500:]}")


def backfill(lines: Iterable[bytes], registry: Registry, period: Period, blocks: Path) -> int:
    """Scrape a file of events over `period` into TSDB blocks under `blocks`; samples written."""
    blocks.mkdir(parents=True, exist_ok=True)
    openmetrics = blocks.parent / f"{blocks.name}.om.txt"
    count = write_openmetrics(scrapes(lines, registry, period), openmetrics)
    create_blocks(openmetrics, blocks)
    openmetrics.unlink()
    return count


class _Fixed(Collector):
    def __init__(self, families: list[Family]) -> None:
        self._families = families

    def collect(self) -> Iterator[Family]:
        return iter(self._families)


def _discard(_site: str, _key: bytes, _value: bytes | None) -> None:
    """The changelog of a history has no reader."""


def _timed(lines: Iterable[bytes]) -> Iterator[tuple[Instant, Stream, bytes]]:
    # Lines without a readable time or type go first: the pipeline refuses them as a worker
    # would, and they can move no number.
    for raw in lines:
        try:
            fields = json.loads(raw)
            at = to_instant(datetime.fromisoformat(fields["occurred_at"]))
            stream = STREAM_OF_TYPE[fields["event_type"]]
        except (ValueError, KeyError, TypeError, OverflowError):
            at, stream = NEVER, Stream.AE
        yield at, stream, raw
