"""The flow metrics in Prometheus form, read from the flow state at scrape time.

One gauge family per metric of `streams.core.metrics.METRICS`, and one per part of a ratio or a
mean (`PARTS`), with a series for each site this worker holds, labelled `site`, `trust` and
`place`. No totals: a worker holds only some sites, so the trust, place and system figures are
Prometheus recording rules over every worker's sites (`alerts.recording`), and a plain `sum()`
of a count family is the system's count. Durations are in seconds and ratios from 0 to 1; a
value that is undefined (no departures yet today) is left out rather than shown as 0.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from datetime import datetime

from prometheus_client.metrics_core import Metric as Family
from prometheus_client.registry import Collector

from streams.core.instants import Instant, london_day, to_instant
from streams.core.metrics import AS_OF, FRESHNESS, METRICS, PARTS
from streams.core.snapshot import FlowSnapshot
from uecflow.config import Registry


class FlowCollector(Collector):
    """Yields every flow metric for the sites the worker holds, as of `clock()`.

    `read(as_of)` returns the snapshot of those sites and their latest event time per stream,
    or None while the worker has not yet recovered its state (then only the targets are exposed).
    """

    def __init__(
        self,
        registry: Registry,
        read: Callable[[datetime], tuple[FlowSnapshot, Mapping[tuple[str, str], Instant]] | None],
        clock: Callable[[], datetime],
    ) -> None:
        self._registry, self._read, self._clock = registry, read, clock

    def collect(self) -> Iterator[Family]:
        as_of = self._clock()
        yield self._targets(as_of)
        state = self._read(as_of)
        if state is None:
            return
        snapshot, latest = state
        yield _gauge(
            AS_OF,
            "The instant the flow metrics of this scrape are computed as of (the worker's clock).",
            [({}, as_of.timestamp())],
        )
        sites = [(self._labels(code), parts) for code, parts in snapshot.sites.items()]
        for metric in (*METRICS, *PARTS):
            samples = [
                (labels, metric.in_prometheus_unit(metric.value(parts))) for labels, parts in sites
            ]
            yield _gauge(metric.prometheus, metric.help, samples)
        yield self._freshness(latest, snapshot.sites)

    def _labels(self, code: str) -> dict[str, str]:
        site = self._registry.sites[code]
        return {"site": code, "trust": site.trust, "place": site.place}

    def _freshness(
        self, latest: Mapping[tuple[str, str], Instant], shown: Collection[str]
    ) -> Family:
        samples: list[tuple[dict[str, str], float | None]] = []
        for (code, stream), at in sorted(latest.items()):
            if code in shown:
                samples.append(({**self._labels(code), "stream": stream}, at / 1_000_000))
        return _gauge(
            FRESHNESS,
            "occurred_at of the latest event counted, per site and stream (event time).",
            samples,
        )

    def _targets(self, as_of: datetime) -> Family:
        day = london_day(to_instant(as_of))
        samples: list[tuple[dict[str, str], float | None]] = []
        for metric in METRICS:
            limit = metric.prometheus_limit(self._registry.targets, day)
            if limit is not None:
                samples.append(({"metric": metric.prometheus, "bound": limit.bound}, limit.value))
        targets = self._registry.targets
        samples += [
            (
                {
                    "metric": FRESHNESS,
                    "bound": "max_age",
                    "stream": stream,
                },
                minutes * 60,
            )
            for stream, minutes in sorted(targets.stale_after_minutes.items())
        ]
        return _gauge(
            "uecflow_target",
            "A target or threshold from the configuration: `metric` is the series it applies to;"
            " `bound` says whether it is a maximum, a minimum or the oldest an event may be.",
            samples,
        )


def _gauge(
    name: str, documentation: str, samples: list[tuple[dict[str, str], float | None]]
) -> Family:
    family = Family(name, documentation, "gauge")
    for labels, value in samples:
        if value is not None:
            family.add_sample(name, labels, value)
    return family
