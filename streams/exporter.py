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
from streams.core.metrics import METRICS, Metric, Value
from streams.core.snapshot import FlowSnapshot
from uecflow.config import Registry

_SECONDS_PER = {"minutes": 60.0, "hours": 3600.0}
PREFIX = "uecflow_"
FRESHNESS = "uecflow_last_event_timestamp_seconds"


def prometheus_name(metric: Metric) -> str:
    """`ae_longest_wait_minutes` → `uecflow_ae_longest_wait_seconds`; ratios end `_ratio`."""
    name = metric.name
    if metric.unit in _SECONDS_PER:
        words = [word for word in name.split("_") if word != metric.unit]
        return PREFIX + "_".join(words) + "_seconds"
    if metric.unit == "ratio" and not name.endswith("_ratio"):
        return PREFIX + name + "_ratio"
    return PREFIX + name


_NAME = {metric.name: prometheus_name(metric) for metric in METRICS}  # targets name their series


def prometheus_value(metric: Metric, value: Value) -> float | None:
    if value is None:
        return None
    return float(value) * _SECONDS_PER.get(metric.unit, 1.0)


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
            "uecflow_as_of_timestamp_seconds",
            "The instant the flow metrics of this scrape are computed as of (the worker's clock).",
            [({}, as_of.timestamp())],
        )
        scopes = self._scopes(snapshot)
        for metric in METRICS:
            samples = [
                (labels, prometheus_value(metric, values[metric.name])) for labels, values in scopes
            ]
            yield _gauge(prometheus_name(metric), metric.help, samples)
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
        targets = self._registry.targets
        four_hour = targets.four_hour_min(london_day(to_instant(as_of)))
        over_12h = float(targets.over_12h_max)
        samples: list[tuple[dict[str, str], float | None]] = [
            ({"metric": _NAME["ga_occupancy"], "bound": "max"}, targets.ga_occupancy_max),
            ({"metric": _NAME["ae_4h_performance_today"], "bound": "min"}, four_hour),
            ({"metric": _NAME["ae_4h_performance_month"], "bound": "min"}, four_hour),
            (
                {"metric": _NAME["ambulance_longest_wait_minutes"], "bound": "max"},
                targets.handover_max_minutes * 60,
            ),
            ({"metric": _NAME["ae_over_12h_in_department"], "bound": "max"}, over_12h),
            ({"metric": _NAME["ae_over_12h_after_dta"], "bound": "max"}, over_12h),
            ({"metric": _NAME["mffd_rate"], "bound": "max"}, targets.mffd_rate_max),
        ]
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
