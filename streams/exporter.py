"""The flow metrics in Prometheus form, read from the flow state at scrape time.

One gauge family per metric of `streams.core.metrics.METRICS`. A site's series carry `site`,
`trust` and `place`; a trust's total carries only `trust`, a place's only `place`, and the
system's none. So `{site!=""}` selects sites and `{trust!="", site=""}` trusts. Durations are
in seconds and ratios from 0 to 1; a value that is undefined (no departures yet today) is
left out rather than shown as 0.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime

from prometheus_client.metrics_core import Metric as Family
from prometheus_client.registry import Collector

from streams.core.instants import Instant, london_day, to_instant
from streams.core.metrics import AS_OF, FRESHNESS, METRICS, Value
from streams.core.snapshot import FlowSnapshot
from uecflow.config import Registry


class FlowCollector(Collector):
    """Yields every flow metric for every site, trust, place and the system, as of `clock()`.

    `read(as_of)` returns the snapshot and each site's latest event time per stream, or None
    while the worker has not yet recovered its state (then only the targets are exposed).
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
        scopes = self._scopes(snapshot)
        for metric in METRICS:
            samples = [
                (labels, metric.in_prometheus_unit(values[metric.name]))
                for labels, values in scopes
            ]
            yield _gauge(metric.prometheus, metric.help, samples)
        yield self._freshness(latest)

    def _scopes(self, snapshot: FlowSnapshot) -> list[tuple[dict[str, str], dict[str, Value]]]:
        registry = self._registry
        scopes = [
            ({"site": code, "trust": site.trust, "place": site.place}, snapshot.site(code))
            for code, site in registry.sites.items()
        ]
        scopes += [({"trust": code}, snapshot.trust(code)) for code in registry.trusts]
        scopes += [({"place": place}, snapshot.place(place)) for place in registry.places]
        scopes.append(({}, snapshot.system()))
        return scopes

    def _freshness(self, latest: Mapping[tuple[str, str], Instant]) -> Family:
        samples: list[tuple[dict[str, str], float | None]] = []
        for (code, stream), at in sorted(latest.items()):
            site = self._registry.sites.get(code)
            if site is not None:
                labels = {"site": code, "trust": site.trust, "place": site.place, "stream": stream}
                samples.append((labels, at / 1_000_000))
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
