"""Where a day's sitrep figures come from: a file of events replayed through the core, or the
Prometheus that scrapes the live workers (the same families and recording rules the report
reads)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from report.prometheus import PrometheusClient
from sitrep.fields import Instants, Values, When, metrics_read, row
from streams.core.metrics import METRIC, Value
from streams.core.replay import replay
from streams.core.snapshot import FlowSnapshot
from uecflow.config import Registry


class NoFigures(Exception):
    """The source holds nothing to report for the day."""


@dataclass(frozen=True, slots=True)
class SitrepRow:
    code: str
    name: str
    level: str  # "site" or "trust"
    fields: dict[str, Value]


def rows(registry: Registry, figures: dict[When, dict[str, Values]]) -> list[SitrepRow]:
    """Each trust's sites, then the trust: the order the terminal table and report use."""
    found = []
    for trust in registry.trusts.values():
        for code in registry.sites_of_trust(trust.code):
            name = registry.sites[code].name
            found.append(SitrepRow(code, name, "site", _row(figures, code)))
        found.append(SitrepRow(trust.code, trust.name, "trust", _row(figures, trust.code)))
    return found


def _row(figures: dict[When, dict[str, Values]], code: str) -> dict[str, Value]:
    return row(figures["beds"][code], figures["day"][code])


def from_events(lines: Sequence[bytes], registry: Registry, instants: Instants) -> list[SitrepRow]:
    """Replay the file as of each instant: the core's own figures, as `uecflow replay` gives."""
    figures: dict[When, dict[str, Values]] = {
        when: _replayed(lines, registry, instants.of(when)) for when in ("beds", "day")
    }
    return rows(registry, figures)


def _replayed(lines: Sequence[bytes], registry: Registry, at: datetime) -> dict[str, Values]:
    result = replay(lines, registry, as_of=at, when_empty=lambda: at)
    if not result.applied + result.after_as_of:
        raise NoFigures("no valid event in the file")
    return _by_code(result.snapshot)


def _by_code(snapshot: FlowSnapshot) -> dict[str, Values]:
    registry = snapshot.registry
    by_code: dict[str, Values] = {code: snapshot.site(code) for code in registry.sites}
    return by_code | {code: snapshot.trust(code) for code in registry.trusts}


def from_prometheus(
    client: PrometheusClient, registry: Registry, instants: Instants
) -> list[SitrepRow]:
    """Each site's series and each trust's recording rule at each instant: the last scrape at or
    before it (with a 15 s scrape interval, events in the last seconds of D are not in it)."""
    figures: dict[When, dict[str, Values]] = {}
    for when in ("beds", "day"):
        # Whole seconds: Prometheus keeps milliseconds, and 23:59:59.999999 would round up to
        # midnight, whose scrape has started the next day's counts.
        at = instants.of(when).replace(microsecond=0)
        by_code: dict[str, dict[str, Value]] = {
            code: {} for code in (*registry.sites, *registry.trusts)
        }
        for name in metrics_read(when):
            metric = METRIC[name]
            sites = _query(client, f"max by (site) ({metric.prometheus})", at, "site")
            trusts = _query(client, metric.recorded("trust"), at, "trust")
            for code, values in by_code.items():
                values[name] = sites.get(code, trusts.get(code))
        if not any(v is not None for values in by_code.values() for v in values.values()):
            raise NoFigures(f"no uecflow metrics in Prometheus at {at.isoformat()}")
        figures[when] = dict(by_code)
    return rows(registry, figures)


def _query(client: PrometheusClient, expr: str, at: datetime, label: str) -> dict[str, Value]:
    # Counts only (fields.py checks): a sample is a whole number.
    return {
        sample.labels[label]: round(sample.value)
        for sample in client.instant(expr, at)
        if label in sample.labels and math.isfinite(sample.value)
    }
