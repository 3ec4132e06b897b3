"""What the situation report says, from Prometheus answers and the registry: no I/O, no clock.

Every figure has its target from the registry (never from Prometheus) and a breach flag, and
every figure knows the feed it comes from: a figure whose site feed is stale is marked stale,
since a stale number shown as current is the worst thing the report could do.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from report.prometheus import Sample, Series
from streams.core.instants import LONDON, london_day, to_instant
from streams.core.intake import Stream
from streams.core.metrics import FRESHNESS, METRIC, OPEL_HIGHEST_IN_FORCE, OPEL_IN_FORCE, Limit
from uecflow.config import Registry

AS_OF = "uecflow_as_of_timestamp_seconds"
STREAMS = tuple(stream.value for stream in Stream)
TREND_HOURS = 24
TREND_STEP = timedelta(minutes=5)
HISTORY = timedelta(days=7)  # how far back "since when" looks for the start of a breach
_HANDOVER_BANDS = (30, 45, 60)  # the bands the flow core counts (streams.core.metrics)

Unit = Literal["ratio", "count", "seconds"]
_UNIT: dict[str, Unit] = {
    "ratio": "ratio",
    "count": "count",
    "level": "count",
    "minutes": "seconds",
    "hours": "seconds",
}


class NoData(Exception):
    """Prometheus holds no uecflow metrics at the instant asked about."""


# A figure's target in force, in its Prometheus unit; exactly at it is within it.
Target = Limit


@dataclass(frozen=True, slots=True)
class Measure:
    key: str
    family: str  # the Prometheus family a site's figure is read from
    trust_family: str  # the recording rule a trust's figure is read from
    system_family: str  # the recording rule the system's figure is read from
    label: str
    unit: Unit
    stream: str  # the feed that moves it
    target: Target | None
    yesterday: bool = False  # the figure at the end of yesterday (London), not now


@dataclass(frozen=True, slots=True)
class Cell:
    value: float | None
    breach: bool | None
    stale: bool  # the value is the last known, not current
    since: datetime | None = None  # a breach: when its unbroken run began (within HISTORY)
    # False when the run reaches back to a step with no value (no data, or before the history
    # began): it began then or earlier.
    since_known: bool = True


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
    feeds: dict[str, Feed]  # empty for a trust's or the system's total
    total: bool = False  # a trust's or the system's
    trust: str = ""  # the trust's code, of a site or of a trust's total
    before: dict[str, Feed] = field(default_factory=dict)  # a site's feeds at yesterday's end


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
    trusts: tuple[Row, ...]
    system: Row
    trends: tuple[Trend, ...]

    def rows(self) -> list[Row]:
        """Each trust's sites, then the trust; the system last (as the terminal table has it)."""
        ordered: list[Row] = []
        for trust in self.trusts:
            ordered += [row for row in self.sites if row.trust == trust.trust]
            ordered.append(trust)
        return [*ordered, self.system]

    def stale_feeds(self) -> list[tuple[Row, Feed]]:
        return [
            (row, feed) for row in self.sites for feed in row.feeds.values() if feed.stale(self.at)
        ]


def measures(registry: Registry, at: datetime) -> tuple[Measure, ...]:
    """The report's columns: their Prometheus names, feeds and targets (as of `at`'s London day)
    from the metric table; the labels are the report's."""
    column = _Columns(registry, london_day(to_instant(at)))
    before = _Columns(registry, london_day(to_instant(yesterday_end(at))), yesterday=True)
    band = _handover_band(registry.targets.handover_max_minutes)
    handovers = f"handovers_over_{band}_today"
    return (
        column("occupancy", "ga_occupancy", "G&A occupancy"),
        column("mffd", "mffd_rate", "Medically fit (MFFD)"),
        column("four_hour", "ae_4h_performance_today", "A&E 4 h today"),
        before("four_hour_yesterday", "ae_4h_performance_today", "A&E 4 h yesterday"),
        column("over_12h", "ae_over_12h_in_department", ">12 h in A&E"),
        column("over_12h_dta", "ae_over_12h_after_dta", ">12 h after DTA"),
        column("ambulances_waiting", "ambulances_waiting", "Ambulances waiting"),
        column("longest_wait", "ambulance_longest_wait_minutes", "Longest amb. wait"),
        column("handovers_over", handovers, f"Handovers >{band} min today"),
        before("handovers_over_yesterday", handovers, f"Handovers >{band} min yesterday"),
        opel(column("opel", "opel_site_level", "OPEL")),
    )


def opel(declared: Measure) -> Measure:
    """A site's declared level; a trust's in force (its own, else its sites' highest); the
    system's: the highest trust's."""
    return replace(declared, trust_family=OPEL_IN_FORCE, system_family=OPEL_HIGHEST_IN_FORCE)


def yesterday_end(at: datetime) -> datetime:
    """The last second of the London day before `at`'s: where yesterday's figures are read."""
    local = at.astimezone(LONDON)
    midnight = datetime(local.year, local.month, local.day, tzinfo=LONDON)
    return midnight.astimezone(UTC) - timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class _Columns:
    registry: Registry
    day: date
    yesterday: bool = False

    def __call__(self, key: str, name: str, label: str) -> Measure:
        metric = METRIC[name]
        unit = _UNIT[metric.unit]
        limit = metric.prometheus_limit(self.registry.targets, self.day)
        return Measure(
            key,
            metric.prometheus,
            metric.recorded("trust"),
            metric.recorded("system"),
            label,
            unit,
            metric.feed.value,
            limit,
            self.yesterday,
        )


def _handover_band(max_minutes: float) -> int:
    # The flow core counts handovers over 30, 45 and 60 minutes: the column is the band at the
    # registry's maximum, or 45 if none matches.
    return next((b for b in _HANDOVER_BANDS if b == max_minutes), 45)


TREND_KEYS = ("occupancy", "four_hour", "longest_wait", "mffd")


def now_query(columns: Iterable[Measure]) -> str:
    """One instant query for every column, each feed's freshness and the worker's clock."""
    families = [family for m in columns for family in (m.family, m.trust_family, m.system_family)]
    return _selector([*families, FRESHNESS, AS_OF], "")


def trend_query(columns: Iterable[Measure]) -> str:
    """One range query for the sites' trend series and their feeds' freshness."""
    trended = [m.family for m in columns if m.key in TREND_KEYS]
    return _selector([*trended, FRESHNESS], ',site!=""')


def trend_window(at: datetime) -> tuple[datetime, datetime]:
    return at - timedelta(hours=TREND_HOURS), at


def history_query(columns: Iterable[Measure]) -> str:
    """One range query (over `history_window(at)`, step `TREND_STEP`) for every figure that has
    a target, at every level: where each breach's unbroken run began."""
    judged = [m for m in columns if m.target is not None and not m.yesterday]
    return _selector([f for m in judged for f in (m.family, m.trust_family, m.system_family)], "")


def history_window(at: datetime) -> tuple[datetime, datetime]:
    return at - HISTORY, at


def yesterday_query(columns: Iterable[Measure]) -> str:
    """One instant query, at `yesterday_end(at)`, for yesterday's figures and their feeds."""
    before = [m for m in columns if m.yesterday]
    families = [f for m in before for f in (m.family, m.trust_family, m.system_family)]
    return _selector([*families, FRESHNESS], "")


def build(
    registry: Registry,
    at: datetime,
    now: Iterable[Sample],
    trends: Iterable[Series],
    source: str,
    history: Iterable[Series] = (),
    yesterday: Iterable[Sample] = (),
) -> Situation:
    """The report as of `at` from an instant query (`now_query`), a range query (`trend_query`
    over `trend_window(at)`, step `TREND_STEP`), and for since-when and yesterday's figures
    `history_query` over `history_window(at)` and `yesterday_query` at `yesterday_end(at)`."""
    current = [sample for sample in now if _ours(sample.labels.get("__name__", ""))]
    clock = [s.value for s in current if s.labels.get("__name__") == AS_OF and _number(s.value)]
    if not clock:
        raise NoData(f"no uecflow metrics at {at.isoformat()}")
    columns = measures(registry, at)
    readings = _Readings(at, current, list(yesterday), list(history))
    sites = tuple(_site_row(registry, code, columns, readings) for code in registry.sites)
    return Situation(
        at=at,
        source=source,
        worker_as_of=datetime.fromtimestamp(max(clock), UTC),
        measures=columns,
        sites=sites,
        trusts=tuple(
            _total_row(columns, readings, [r for r in sites if r.trust == code], (code, name))
            for code, name in ((t.code, t.short_name) for t in registry.trusts.values())
        ),
        system=_total_row(columns, readings, sites, None),
        trends=_trends(registry, columns, list(trends), at),
    )


def _ours(name: str) -> bool:
    """A family the workers export, or a recording rule over them (`system:uecflow_…`)."""
    return name.startswith("uecflow_") or ":uecflow_" in name


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


@dataclass(frozen=True, slots=True)
class _Readings:
    """What Prometheus answered: now, at the end of yesterday, and the history before now."""

    at: datetime
    now: list[Sample]
    yesterday: list[Sample]
    history: list[Series]

    def samples(self, measure: Measure) -> list[Sample]:
        return self.yesterday if measure.yesterday else self.now

    def instant(self, measure: Measure) -> datetime:
        return yesterday_end(self.at) if measure.yesterday else self.at

    def cell(self, measure: Measure, family: str, level: tuple[str, str, str], stale: bool) -> Cell:
        value = _value(self.samples(measure), family, level)
        breach = measure.target.breached(value) if measure.target else None
        # Yesterday's figure is final: its breach has no run going on now.
        if not breach or measure.yesterday:  # yesterday's figure is final: no run going on now
            return Cell(value, breach, stale)
        since, known = self._since(measure, family, level)
        return Cell(value, breach, stale, since, known)

    def _since(
        self, measure: Measure, family: str, level: tuple[str, str, str]
    ) -> tuple[datetime, bool]:
        """The first instant of the unbroken run of breaches that ends now (by the history's
        steps), and whether the step before it was within the target (else it had no value: the
        run may be older). Now itself if the last step was within."""
        assert measure.target is not None
        points = _history(self.history, family, level)
        start, end = history_window(self.at)
        steps = int((end - start) / TREND_STEP)
        since = self.at
        for k in range(steps, -1, -1):
            moment = start + TREND_STEP * k
            value = points.get(round(moment.timestamp()))
            if value is None:
                return since, False
            if not measure.target.breached(value):
                return since, True
            since = moment
        return since, False


def _history(series: list[Series], family: str, level: tuple[str, str, str]) -> dict[int, float]:
    points: dict[int, float] = {}
    for one in series:
        if one.labels.get("__name__") == family and _level(one.labels) == level:
            points.update((round(when), value) for when, value in one.points if _number(value))
    return points


def _site_row(registry: Registry, code: str, columns: tuple[Measure, ...], read: _Readings) -> Row:
    site = registry.sites[code]
    feeds = _feeds(registry, code, read.now)
    before = _feeds(registry, code, read.yesterday)
    level = (code, site.trust, site.place)
    cells = {}
    for measure in columns:
        at, feed = read.instant(measure), (before if measure.yesterday else feeds)
        stale = feed[measure.stream].stale(at)
        cells[measure.key] = read.cell(measure, measure.family, level, stale)
    return Row(code, site.short_name, cells, feeds, trust=site.trust, before=before)


def _total_row(
    columns: tuple[Measure, ...],
    read: _Readings,
    sites: Iterable[Row],
    trust: tuple[str, str] | None,  # (code, name); None: the system
) -> Row:
    sites = list(sites)
    cells = {}
    for measure in columns:
        if trust is None:
            family, level = measure.system_family, ("", "", "")
        else:
            family, level = measure.trust_family, ("", trust[0], "")
        # A total that includes a stale site is not current either.
        at = read.instant(measure)
        stale = any(
            (row.before if measure.yesterday else row.feeds)[measure.stream].stale(at)
            for row in sites
        )
        cells[measure.key] = read.cell(measure, family, level, stale)
    if trust is None:
        return Row(None, "NEL system", cells, {}, total=True)
    return Row(trust[0], trust[1], cells, {}, total=True, trust=trust[0])


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
