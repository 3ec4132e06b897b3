"""What the situation report says, from Prometheus answers and the registry: no I/O, no clock.

Every figure has its target from the registry (never from Prometheus) and a breach flag, and
every figure knows the feed it comes from: a figure whose site feed is stale is marked stale,
since a stale number shown as current is the worst thing the report could do.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from report.prometheus import Sample, Series
from streams.core.instants import london_day, to_instant
from streams.core.metrics import METRICS
from streams.exporter import FRESHNESS, prometheus_name
from uecflow.config import Registry

AS_OF = "uecflow_as_of_timestamp_seconds"
STREAMS = ("ae", "beds", "ambulance")
TREND_HOURS = 24
TREND_STEP = timedelta(minutes=5)
_HANDOVER_BANDS = (30, 45, 60)  # the bands the flow core counts (streams.core.metrics)
# The exporter's names, so that a renamed family fails here at once rather than read nothing.
_FAMILY = {metric.name: prometheus_name(metric) for metric in METRICS}

Unit = Literal["ratio", "count", "seconds"]


class NoData(Exception):
    """Prometheus holds no uecflow metrics at the instant asked about."""


@dataclass(frozen=True, slots=True)
class Target:
    bound: Literal["max", "min"]
    value: float

    def breached(self, value: float | None) -> bool | None:
        """Exactly at the target is within it; an unknown value is neither."""
        if value is None:
            return None
        return value > self.value if self.bound == "max" else value < self.value


@dataclass(frozen=True, slots=True)
class Measure:
    key: str
    family: str  # the Prometheus family it is read from
    label: str
    unit: Unit
    stream: str  # the feed that moves it
    target: Target | None


@dataclass(frozen=True, slots=True)
class Cell:
    value: float | None
    breach: bool | None
    stale: bool  # the value is the last known, not current


@dataclass(frozen=True, slots=True)
class Feed:
    stream: str
    last_event: datetime | None
    limit: timedelta

    def age(self, at: datetime) -> timedelta | None:
        return None if self.last_event is None else at - self.last_event

    def stale(self, at: datetime) -> bool:
        """Older than its limit, as the UecflowFeedStale alert says; never heard of is stale."""
        age = self.age(at)
        return age is None or age > self.limit


@dataclass(frozen=True, slots=True)
class Row:
    code: str | None  # None for the system total
    name: str
    cells: dict[str, Cell]
    feeds: dict[str, Feed]  # empty for the system total


@dataclass(frozen=True, slots=True)
class Trend:
    measure: Measure
    times: tuple[datetime, ...]
    # Per site name; None where there is no value or the site's feed was stale then.
    lines: dict[str, tuple[float | None, ...]]


@dataclass(frozen=True, slots=True)
class Situation:
    at: datetime  # the instant the report is about
    source: str
    worker_as_of: datetime  # the worker's clock at its latest scrape before `at`
    measures: tuple[Measure, ...]
    sites: tuple[Row, ...]
    system: Row
    trends: tuple[Trend, ...]

    def stale_feeds(self) -> list[tuple[Row, Feed]]:
        return [
            (row, feed) for row in self.sites for feed in row.feeds.values() if feed.stale(self.at)
        ]


def measures(registry: Registry, at: datetime) -> tuple[Measure, ...]:
    """The report's columns, each with its target from the registry as of `at`."""
    targets = registry.targets
    four_hour = targets.four_hour_min(london_day(to_instant(at)))
    over_12h = Target("max", float(targets.over_12h_max))
    return (
        Measure("occupancy", _FAMILY["ga_occupancy"], "G&A occupancy", "ratio", "beds",
                Target("max", targets.ga_occupancy_max)),
        Measure("mffd", _FAMILY["mffd_rate"], "Medically fit (MFFD)", "ratio", "beds",
                Target("max", targets.mffd_rate_max)),
        Measure("four_hour", _FAMILY["ae_4h_performance_today"], "A&E 4 h today", "ratio", "ae",
                None if four_hour is None else Target("min", four_hour)),
        Measure("over_12h", _FAMILY["ae_over_12h_in_department"], ">12 h in A&E", "count", "ae",
                over_12h),
        Measure("over_12h_dta", _FAMILY["ae_over_12h_after_dta"], ">12 h after DTA", "count",
                "ae", over_12h),
        Measure("ambulances_waiting", _FAMILY["ambulances_waiting"], "Ambulances waiting",
                "count", "ambulance", None),
        Measure("longest_wait", _FAMILY["ambulance_longest_wait_minutes"], "Longest amb. wait",
                "seconds", "ambulance", Target("max", targets.handover_max_minutes * 60)),
        _handovers_over(targets.handover_max_minutes),
    )  # fmt: skip


def _handovers_over(max_minutes: float) -> Measure:
    # The flow core counts handovers over 30, 45 and 60 minutes: the column is the band at the
    # registry's maximum (none over it is the target), or 45 with no target if none matches.
    band = next((b for b in _HANDOVER_BANDS if b == max_minutes), None)
    shown = band or 45
    return Measure(
        "handovers_over", _FAMILY[f"handovers_over_{shown}_today"],
        f"Handovers >{shown} min today", "count", "ambulance",
        None if band is None else Target("max", 0.0),
    )  # fmt: skip


TREND_KEYS = ("occupancy", "four_hour", "longest_wait", "mffd")


def now_query(columns: Iterable[Measure]) -> str:
    """One instant query for every column, each feed's freshness and the worker's clock."""
    return _selector([*(m.family for m in columns), FRESHNESS, AS_OF], "")


def trend_query(columns: Iterable[Measure]) -> str:
    """One range query for the sites' trend series and their feeds' freshness."""
    trended = [m.family for m in columns if m.key in TREND_KEYS]
    return _selector([*trended, FRESHNESS], ',site!=""')


def trend_window(at: datetime) -> tuple[datetime, datetime]:
    return at - timedelta(hours=TREND_HOURS), at


def build(
    registry: Registry,
    at: datetime,
    now: Iterable[Sample],
    trends: Iterable[Series],
    source: str,
) -> Situation:
    """The report as of `at` from an instant query (`now_query`) and a range query
    (`trend_query` over `trend_window(at)`, step `TREND_STEP`)."""
    current = [sample for sample in now if sample.labels.get("__name__", "").startswith("uecflow_")]
    clock = [s.value for s in current if s.labels.get("__name__") == AS_OF and _number(s.value)]
    if not clock:
        raise NoData(f"no uecflow metrics at {at.isoformat()}")
    columns = measures(registry, at)
    sites = tuple(_site_row(registry, code, columns, current, at) for code in registry.sites)
    return Situation(
        at=at,
        source=source,
        worker_as_of=datetime.fromtimestamp(max(clock), UTC),
        measures=columns,
        sites=sites,
        system=_system_row(columns, current, sites, at),
        trends=_trends(registry, columns, list(trends), at),
    )


def _selector(families: list[str], extra: str) -> str:
    names = "|".join(sorted(set(families)))
    return f'{{__name__=~"{names}"{extra}}}'


def _number(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _level(labels: Mapping[str, str]) -> tuple[str, str, str]:
    return labels.get("site", ""), labels.get("trust", ""), labels.get("place", "")


def _value(samples: list[Sample], family: str, level: tuple[str, str, str]) -> float | None:
    for sample in samples:
        if sample.labels.get("__name__") == family and _level(sample.labels) == level:
            return sample.value if _number(sample.value) else None  # NaN means "not defined"
    return None


def _feeds(registry: Registry, code: str, samples: list[Sample]) -> dict[str, Feed]:
    limits = registry.targets.stale_after_minutes
    feeds = {}
    for stream in STREAMS:
        last = [
            s.value
            for s in samples
            if s.labels.get("__name__") == FRESHNESS
            and s.labels.get("site") == code
            and s.labels.get("stream") == stream
            and _number(s.value)
        ]
        when = datetime.fromtimestamp(max(last), UTC) if last else None
        feeds[stream] = Feed(stream, when, timedelta(minutes=limits.get(stream, 0.0)))
    return feeds


def _site_row(
    registry: Registry, code: str, columns: tuple[Measure, ...], samples: list[Sample],
    at: datetime,
) -> Row:  # fmt: skip
    site = registry.sites[code]
    feeds = _feeds(registry, code, samples)
    level = (code, site.trust, site.place)
    cells = {}
    for measure in columns:
        value = _value(samples, measure.family, level)
        stale = feeds[measure.stream].stale(at)
        breach = measure.target.breached(value) if measure.target else None
        cells[measure.key] = Cell(value, breach, stale)
    return Row(code, site.short_name, cells, feeds)


def _system_row(
    columns: tuple[Measure, ...], samples: list[Sample], sites: tuple[Row, ...], at: datetime
) -> Row:
    cells = {}
    for measure in columns:
        value = _value(samples, measure.family, ("", "", ""))
        # A total that includes a stale site is not current either.
        stale = any(row.feeds[measure.stream].stale(at) for row in sites)
        breach = measure.target.breached(value) if measure.target else None
        cells[measure.key] = Cell(value, breach, stale)
    return Row(None, "NEL system", cells, {})


def _trends(
    registry: Registry, columns: tuple[Measure, ...], series: list[Series], at: datetime
) -> tuple[Trend, ...]:
    start, end = trend_window(at)
    steps = int((end - start) / TREND_STEP)
    times = tuple(start + TREND_STEP * k for k in range(steps + 1))
    trends = []
    for measure in (m for m in columns if m.key in TREND_KEYS):
        lines = {
            site.short_name: _line(series, measure, code, times, registry)
            for code, site in registry.sites.items()
        }
        trends.append(Trend(measure, times, lines))
    trends.sort(key=lambda trend: TREND_KEYS.index(trend.measure.key))
    return tuple(trends)


def _points(series: list[Series], family: str, site: str, stream: str | None) -> dict[int, float]:
    points: dict[int, float] = {}
    for one in series:
        labels = one.labels
        if labels.get("__name__") != family or labels.get("site") != site:
            continue
        if stream is not None and labels.get("stream") != stream:
            continue
        points.update((round(when), value) for when, value in one.points if _number(value))
    return points


def _line(
    series: list[Series], measure: Measure, code: str, times: tuple[datetime, ...],
    registry: Registry,
) -> tuple[float | None, ...]:  # fmt: skip
    values = _points(series, measure.family, code, None)
    fresh = _points(series, FRESHNESS, code, measure.stream)
    limit = registry.targets.stale_after_minutes.get(measure.stream, 0.0) * 60
    line: list[float | None] = []
    for moment in times:
        stamp = round(moment.timestamp())
        last = fresh.get(stamp)
        stale = last is None or stamp - last > limit
        line.append(None if stale else values.get(stamp))
    return tuple(line)
