"""The flow metrics: defined once, here, from summable parts.

A site's parts are counts; a trust, a place or the whole system sums its sites' parts and then
recomputes every ratio from the sums (never an average of ratios); longest waits are maxima.
Prometheus does the same from the site series (`Aggregate`): each worker exports only its own
sites, with the parts of every ratio and mean (`PARTS`), and recording rules make the totals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from streams.core.attendance import Arrivals, DepartmentCensus, DepartureCounts
from streams.core.handover import AmbulanceCensus, HandoverCounts
from streams.core.instants import HOUR, MINUTE, Instant
from streams.core.intake import Stream
from streams.core.occupancy import BedCounts
from streams.core.opel import OpelLevels
from uecflow.config import Targets

Value = int | float | None


@dataclass(slots=True)
class FlowParts:
    beds: BedCounts = field(default_factory=BedCounts)
    department: DepartmentCensus = field(default_factory=DepartmentCensus)
    departed_today: DepartureCounts = field(default_factory=DepartureCounts)
    departed_month: DepartureCounts = field(default_factory=DepartureCounts)
    ambulances: AmbulanceCensus = field(default_factory=AmbulanceCensus)
    handed_over_today: HandoverCounts = field(default_factory=HandoverCounts)
    arrived: Arrivals = field(default_factory=Arrivals)
    opel: OpelLevels = field(default_factory=OpelLevels)

    def add(self, other: FlowParts) -> None:
        self.beds.add(other.beds)
        self.department.add(other.department)
        self.departed_today.add(other.departed_today)
        self.departed_month.add(other.departed_month)
        self.ambulances.add(other.ambulances)
        self.handed_over_today.add(other.handed_over_today)
        self.arrived.add(other.arrived)
        self.opel.add(other.opel)

    @classmethod
    def total(cls, parts: Iterable[FlowParts]) -> FlowParts:
        summed = cls()
        for part in parts:
            summed.add(part)
        return summed


Bound = Literal["max", "min"]


@dataclass(frozen=True, slots=True)
class Limit:
    """A target in force, in the unit it is compared in: exactly at it is within it."""

    bound: Bound
    value: float

    def breached(self, value: Value) -> bool | None:
        """None when the value is unknown: neither within nor past the target."""
        if value is None:
            return None
        return value > self.value if self.bound == "max" else value < self.value


@dataclass(frozen=True, slots=True)
class Target:
    """Which of the configuration's targets a metric is judged against, and how."""

    bound: Bound
    # The limit in the metric's own unit on a London day; with no day, the newest one (what a
    # static dashboard threshold shows). None: no target applies.
    of: Callable[[Targets, date | None], float | None]

    def limit(self, targets: Targets, day: date | None) -> Limit | None:
        value = self.of(targets, day)
        return None if value is None else Limit(self.bound, value)


Level = Literal["trust", "place", "system"]
LEVELS: tuple[Level, ...] = ("trust", "place", "system")


@dataclass(frozen=True, slots=True)
class Aggregate:
    """How a trust's, a place's or the system's figure is made from its sites' figures: summed,
    the largest, or the sum of one part over the sum of another (metric or part names)."""

    operation: Literal["sum", "max", "ratio"]
    parts: tuple[str, str] | None = None


SUM, MAX = Aggregate("sum"), Aggregate("max")


def _over(numerator: str, denominator: str) -> Aggregate:
    return Aggregate("ratio", (numerator, denominator))


@dataclass(frozen=True, slots=True)
class Metric:
    """A metric's identity: everything that shows it (the exporter, the table, the alerts, the
    dashboards, the report) reads its name, unit, Prometheus name, feed and target from here."""

    name: str
    help: str
    unit: str  # "count", "ratio", "minutes", "hours" or "level" (OPEL, 1 to 4)
    feed: Stream  # the feed whose events move it, whose staleness makes it stale
    value: Callable[[FlowParts], Value]
    target: Target | None = None
    aggregate: Aggregate = SUM

    @property
    def prometheus(self) -> str:
        """`ae_longest_wait_minutes` → `uecflow_ae_longest_wait_seconds`; ratios end `_ratio`."""
        if self.unit in _SECONDS_PER:
            words = [word for word in self.name.split("_") if word != self.unit]
            return PREFIX + "_".join(words) + "_seconds"
        if self.unit == "ratio" and not self.name.endswith("_ratio"):
            return PREFIX + self.name + "_ratio"
        return PREFIX + self.name

    def recorded(self, level: Level) -> str:
        """The recording rule of a trust, place or system figure, named `level:metric:operation`
        as Prometheus's conventions have it: `trust:uecflow_ga_occupancy:ratio`."""
        operation = self.aggregate.operation
        name = self.prometheus.removesuffix("_ratio") if operation == "ratio" else self.prometheus
        return f"{level}:{name}:{operation}"

    def in_prometheus_unit(self, value: Value) -> float | None:
        """Durations in seconds, ratios from 0 to 1, counts as they are."""
        return None if value is None else float(value) * _SECONDS_PER.get(self.unit, 1.0)

    def limit(self, targets: Targets, day: date | None) -> Limit | None:
        """The target in force on a London day (None: the newest), in the metric's unit."""
        return None if self.target is None else self.target.limit(targets, day)

    def prometheus_limit(self, targets: Targets, day: date | None) -> Limit | None:
        limit = self.limit(targets, day)
        if limit is None:
            return None
        return Limit(limit.bound, float(self.in_prometheus_unit(limit.value) or 0.0))


PREFIX = "uecflow_"
# Two series beside the metrics: the instant a scrape is computed as of, and each feed's latest
# event per site (what staleness is judged on).
AS_OF = "uecflow_as_of_timestamp_seconds"
FRESHNESS = "uecflow_last_event_timestamp_seconds"
_SECONDS_PER = {"minutes": 60.0, "hours": 3600.0}


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _minutes(duration: Instant | None) -> float | None:
    return None if duration is None else duration / MINUTE


def _at_most(of: Callable[[Targets, date | None], float | None]) -> Target:
    return Target("max", of)


def _at_least(of: Callable[[Targets, date | None], float | None]) -> Target:
    return Target("min", of)


def _occupancy(targets: Targets, _day: date | None) -> float:
    return targets.ga_occupancy_max


def _medically_fit(targets: Targets, _day: date | None) -> float:
    return targets.mffd_rate_max


def _twelve_hours(targets: Targets, _day: date | None) -> float:
    # over_12h_max: the most patients past 12 hours, in the department, after a DTA or departed.
    return float(targets.over_12h_max)


def _four_hours(targets: Targets, day: date | None) -> float | None:
    return targets.four_hour_latest if day is None else targets.four_hour_min(day)


def _opel(targets: Targets, _day: date | None) -> float:
    return float(targets.opel_level_max)


def _handover(targets: Targets, _day: date | None) -> float:
    return targets.handover_max_minutes


def _none_past_handover(band: int) -> Callable[[Targets, date | None], float | None]:
    """A band at or past the longest handover allowed should hold no handover at all."""

    def of(targets: Targets, _day: date | None) -> float | None:
        return 0.0 if band >= targets.handover_max_minutes else None

    return of


METRICS: tuple[Metric, ...] = (
    Metric(
        "ga_beds_open",
        "Adult G&A beds open, core plus escalation.",
        "count",
        Stream.BEDS,
        lambda p: p.beds.open,
    ),
    Metric(
        "ga_beds_occupied",
        "Adult G&A beds occupied (unfunded beds count).",
        "count",
        Stream.BEDS,
        lambda p: p.beds.occupied,
    ),
    Metric(
        "ga_occupancy",
        "Adult G&A occupied / open (target: 0.92 or below).",
        "ratio",
        Stream.BEDS,
        lambda p: _ratio(p.beds.occupied, p.beds.open),
        _at_most(_occupancy),
        _over("ga_beds_occupied", "ga_beds_open"),
    ),
    Metric(
        "ga_escalation_beds_open",
        "Adult G&A escalation beds open (part of ga_beds_open).",
        "count",
        Stream.BEDS,
        lambda p: p.beds.escalation_open,
    ),
    Metric(
        "opel_site_level",
        "OPEL level the site declared (1-4); a trust's, place's or the system's: the highest"
        " its sites declared.",
        "level",
        Stream.BEDS,
        lambda p: p.opel.sites,
        _at_most(_opel),
        MAX,
    ),
    Metric(
        "opel_trust_level",
        "OPEL level a trust declared for itself (scope trust), which holds instead of its"
        " sites' highest; at a site, its trust's declaration sent from there.",
        "level",
        Stream.BEDS,
        lambda p: p.opel.trust,
        _at_most(_opel),
        MAX,
    ),
    Metric(
        "nctr_patients",
        "Adult G&A patients with no criteria to reside (medically fit).",
        "count",
        Stream.BEDS,
        lambda p: p.beds.nctr,
    ),
    Metric(
        "mffd_rate",
        "Medically fit patients / occupied adult G&A beds.",
        "ratio",
        Stream.BEDS,
        lambda p: _ratio(p.beds.nctr, p.beds.occupied),
        _at_most(_medically_fit),
        _over("nctr_patients", "ga_beds_occupied"),
    ),
    Metric(
        "cc_beds_open",
        "Adult critical care beds open, core plus escalation.",
        "count",
        Stream.BEDS,
        lambda p: p.beds.cc_open,
    ),
    Metric(
        "cc_beds_occupied",
        "Adult critical care beds occupied (unfunded beds count).",
        "count",
        Stream.BEDS,
        lambda p: p.beds.cc_occupied,
    ),
    Metric(
        "cc_occupancy",
        "Adult critical care occupied / open.",
        "ratio",
        Stream.BEDS,
        lambda p: _ratio(p.beds.cc_occupied, p.beds.cc_open),
        aggregate=_over("cc_beds_occupied", "cc_beds_open"),
    ),
    Metric(
        "ae_arrivals_today",
        "A&E arrivals today (London day), all department types.",
        "count",
        Stream.AE,
        lambda p: p.arrived.ae_today,
    ),
    Metric(
        "ae_arrivals_last_hour",
        "A&E arrivals in the hour up to now.",
        "count",
        Stream.AE,
        lambda p: p.arrived.ae_last_hour,
    ),
    Metric(
        "ae_in_department",
        "A&E patients arrived and not departed.",
        "count",
        Stream.AE,
        lambda p: p.department.in_department,
    ),
    Metric(
        "ae_over_4h_in_department",
        "A&E patients in the department more than 4 h.",
        "count",
        Stream.AE,
        lambda p: p.department.over_4h,
    ),
    Metric(
        "ae_over_4h_in_department_rate",
        "Share of A&E patients in the department who have been there more than 4 h.",
        "ratio",
        Stream.AE,
        lambda p: _ratio(p.department.over_4h, p.department.in_department),
        aggregate=_over("ae_over_4h_in_department", "ae_in_department"),
    ),
    Metric(
        "ae_over_12h_in_department",
        "A&E patients in the department more than 12 h.",
        "count",
        Stream.AE,
        lambda p: p.department.over_12h,
        _at_most(_twelve_hours),
    ),
    Metric(
        "ae_over_12h_in_department_rate",
        "Share of A&E patients in the department who have been there more than 12 h.",
        "ratio",
        Stream.AE,
        lambda p: _ratio(p.department.over_12h, p.department.in_department),
        aggregate=_over("ae_over_12h_in_department", "ae_in_department"),
    ),
    Metric(
        "ae_mh_over_12h_in_department",
        "Mental-health A&E patients in the department more than 12 h.",
        "count",
        Stream.AE,
        lambda p: p.department.mh_over_12h,
        _at_most(_twelve_hours),
    ),
    Metric(
        "ae_longest_wait_minutes",
        "Longest time in the department of anyone still there.",
        "minutes",
        Stream.AE,
        lambda p: _minutes(p.department.longest_wait),
        aggregate=MAX,
    ),
    Metric(
        "ae_waiting_after_dta",
        "A&E patients with a decision to admit, not yet departed.",
        "count",
        Stream.AE,
        lambda p: p.department.waiting_after_dta,
    ),
    Metric(
        "ae_over_12h_after_dta",
        "A&E patients waiting more than 12 h since the decision to admit.",
        "count",
        Stream.AE,
        lambda p: p.department.over_12h_after_dta,
        _at_most(_twelve_hours),
    ),
    Metric(
        "ae_departures_today",
        "A&E departures today (London day).",
        "count",
        Stream.AE,
        lambda p: p.departed_today.departures,
    ),
    Metric(
        "ae_4h_performance_today",
        "Share of today's departures within 4 h of arrival.",
        "ratio",
        Stream.AE,
        lambda p: _ratio(p.departed_today.within_4h, p.departed_today.departures),
        _at_least(_four_hours),
        _over("ae_within_4h_today", "ae_departures_today"),
    ),
    Metric(
        "ae_type1_4h_performance_today",
        "Four-hour performance today, type 1 only.",
        "ratio",
        Stream.AE,
        lambda p: _ratio(p.departed_today.type1_within_4h, p.departed_today.type1_departures),
        _at_least(_four_hours),
        _over("ae_type1_within_4h_today", "ae_type1_departures_today"),
    ),
    Metric(
        "ae_over_12h_today",
        "Today's departures more than 12 h after arrival.",
        "count",
        Stream.AE,
        lambda p: p.departed_today.over_12h,
        _at_most(_twelve_hours),
    ),
    Metric(
        "ae_over_12h_today_rate",
        "Share of today's departures more than 12 h after arrival.",
        "ratio",
        Stream.AE,
        lambda p: _ratio(p.departed_today.over_12h, p.departed_today.departures),
        aggregate=_over("ae_over_12h_today", "ae_departures_today"),
    ),
    Metric(
        "ae_mh_departures_today",
        "Mental-health A&E departures today.",
        "count",
        Stream.AE,
        lambda p: p.departed_today.mh_departures,
    ),
    Metric(
        "ae_mh_over_12h_today",
        "Today's mental-health departures more than 12 h after arrival.",
        "count",
        Stream.AE,
        lambda p: p.departed_today.mh_over_12h,
        _at_most(_twelve_hours),
    ),
    Metric(
        "ae_12h_trolley_waits_today",
        "Today's admissions more than 12 h after the decision to admit.",
        "count",
        Stream.AE,
        lambda p: p.departed_today.trolley_waits,
        _at_most(_twelve_hours),
    ),
    Metric(
        "ae_dta_4_to_12h_today",
        "Today's admissions more than 4 h and at most 12 h after the decision to admit.",
        "count",
        Stream.AE,
        lambda p: p.departed_today.dta_4_to_12h,
    ),
    Metric(
        "ae_4h_performance_month",
        "Four-hour performance over this London month.",
        "ratio",
        Stream.AE,
        lambda p: _ratio(p.departed_month.within_4h, p.departed_month.departures),
        _at_least(_four_hours),
        _over("ae_within_4h_month", "ae_departures_month"),
    ),
    Metric(
        "ambulances_waiting",
        "Ambulances arrived whose patient is not handed over.",
        "count",
        Stream.AMBULANCE,
        lambda p: p.ambulances.waiting,
    ),
    Metric(
        "ambulance_arrivals_today",
        "Ambulances arrived at the hospital today (London day).",
        "count",
        Stream.AMBULANCE,
        lambda p: p.arrived.ambulance_today,
    ),
    Metric(
        "ambulance_longest_wait_minutes",
        "Longest wait of an ambulance still waiting.",
        "minutes",
        Stream.AMBULANCE,
        lambda p: _minutes(p.ambulances.longest_wait),
        _at_most(_handover),
        MAX,
    ),
    Metric(
        "handovers_today",
        "Ambulance handovers completed today.",
        "count",
        Stream.AMBULANCE,
        lambda p: p.handed_over_today.handovers,
    ),
    Metric(
        "handovers_within_15_today",
        "Handovers today within 15 minutes (standard: 65% of handovers).",
        "count",
        Stream.AMBULANCE,
        lambda p: p.handed_over_today.within_15,
    ),
    Metric(
        "handovers_within_30_today",
        "Handovers today within 30 minutes (standard: 95% of handovers).",
        "count",
        Stream.AMBULANCE,
        lambda p: p.handed_over_today.within_30,
    ),
    Metric(
        "handover_mean_minutes_today",
        "Mean arrival-to-handover time today.",
        "minutes",
        Stream.AMBULANCE,
        lambda p: _minutes_mean(p.handed_over_today),
        aggregate=_over("handover_time_minutes_today", "handovers_today"),
    ),
    Metric(
        "handovers_over_30_today",
        "Handovers today that took more than 30 minutes.",
        "count",
        Stream.AMBULANCE,
        lambda p: p.handed_over_today.over_30,
        _at_most(_none_past_handover(30)),
    ),
    Metric(
        "handovers_over_45_today",
        "Handovers today that took more than 45 minutes.",
        "count",
        Stream.AMBULANCE,
        lambda p: p.handed_over_today.over_45,
        _at_most(_none_past_handover(45)),
    ),
    Metric(
        "handovers_over_60_today",
        "Handovers today that took more than 60 minutes.",
        "count",
        Stream.AMBULANCE,
        lambda p: p.handed_over_today.over_60,
        _at_most(_none_past_handover(60)),
    ),
    Metric(
        "handover_hours_lost_today",
        "Hours lost today: the sum of each handover's time beyond 15 minutes.",
        "hours",
        Stream.AMBULANCE,
        lambda p: p.handed_over_today.lost / HOUR,
    ),
    Metric(
        "handover_hours_lost_over_60_today",
        "Hours lost today beyond 60 minutes: the sum of each handover's time past an hour.",
        "hours",
        Stream.AMBULANCE,
        lambda p: p.handed_over_today.lost_over_60 / HOUR,
    ),
)

# The parts of ratios and means that are not metrics themselves: exported for each site, so
# that Prometheus can sum them (see `Aggregate`), and shown nowhere else.
PARTS: tuple[Metric, ...] = (
    Metric(
        "ae_within_4h_today",
        "Today's A&E departures within 4 h of arrival.",
        "count",
        Stream.AE,
        lambda p: p.departed_today.within_4h,
    ),
    Metric(
        "ae_type1_departures_today",
        "Today's type 1 A&E departures.",
        "count",
        Stream.AE,
        lambda p: p.departed_today.type1_departures,
    ),
    Metric(
        "ae_type1_within_4h_today",
        "Today's type 1 A&E departures within 4 h of arrival.",
        "count",
        Stream.AE,
        lambda p: p.departed_today.type1_within_4h,
    ),
    Metric(
        "ae_departures_month",
        "A&E departures this London month.",
        "count",
        Stream.AE,
        lambda p: p.departed_month.departures,
    ),
    Metric(
        "ae_within_4h_month",
        "This London month's A&E departures within 4 h of arrival.",
        "count",
        Stream.AE,
        lambda p: p.departed_month.within_4h,
    ),
    Metric(
        "handover_time_minutes_today",
        "Arrival-to-handover times of today's handovers, summed.",
        "minutes",
        Stream.AMBULANCE,
        lambda p: p.handed_over_today.total / MINUTE,
    ),
)

METRIC = {metric.name: metric for metric in METRICS}
PART = {part.name: part for part in PARTS}
BY_PROMETHEUS = {metric.prometheus: metric for metric in METRICS}


def _minutes_mean(counts: HandoverCounts) -> float | None:
    return None if not counts.handovers else counts.total / counts.handovers / MINUTE


# A trust's OPEL level in force, and the highest trust's, as Prometheus records them
# (`alerts.recording`).
OPEL_IN_FORCE = "trust:uecflow_opel_level:in_force"
OPEL_HIGHEST_IN_FORCE = "system:uecflow_opel_level:in_force"


def opel_in_force(values: dict[str, Value]) -> Value:
    """A trust's OPEL level from its figures: its own declaration if it made one, else the
    highest of its sites' (in Prometheus, the rule `OPEL_IN_FORCE`)."""
    declared = values["opel_trust_level"]
    return values["opel_site_level"] if declared is None else declared


def metric_values(parts: FlowParts) -> dict[str, Value]:
    return {metric.name: metric.value(parts) for metric in METRICS}
