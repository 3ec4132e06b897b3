"""The flow metrics: defined once, here, from summable parts.

A site's parts are counts; a trust, a place or the whole system sums its sites' parts and then
recomputes every ratio from the sums (never an average of ratios); longest waits are maxima.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from streams.core.attendance import DepartmentCensus, DepartureCounts
from streams.core.handover import AmbulanceCensus, HandoverCounts
from streams.core.instants import HOUR, MINUTE, Instant
from streams.core.occupancy import BedCounts

Value = int | float | None


@dataclass(slots=True)
class FlowParts:
    beds: BedCounts = field(default_factory=BedCounts)
    department: DepartmentCensus = field(default_factory=DepartmentCensus)
    departed_today: DepartureCounts = field(default_factory=DepartureCounts)
    departed_month: DepartureCounts = field(default_factory=DepartureCounts)
    ambulances: AmbulanceCensus = field(default_factory=AmbulanceCensus)
    handed_over_today: HandoverCounts = field(default_factory=HandoverCounts)

    def add(self, other: FlowParts) -> None:
        self.beds.add(other.beds)
        self.department.add(other.department)
        self.departed_today.add(other.departed_today)
        self.departed_month.add(other.departed_month)
        self.ambulances.add(other.ambulances)
        self.handed_over_today.add(other.handed_over_today)

    @classmethod
    def total(cls, parts: Iterable[FlowParts]) -> FlowParts:
        summed = cls()
        for part in parts:
            summed.add(part)
        return summed


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    help: str
    unit: str  # "count", "ratio", "minutes" or "hours"
    value: Callable[[FlowParts], Value]


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _minutes(duration: Instant | None) -> float | None:
    return None if duration is None else duration / MINUTE


METRICS: tuple[Metric, ...] = (
    Metric(
        "ga_beds_open", "Adult G&A beds open, core plus escalation.", "count", lambda p: p.beds.open
    ),
    Metric(
        "ga_beds_occupied",
        "Adult G&A beds occupied (unfunded beds count).",
        "count",
        lambda p: p.beds.occupied,
    ),
    Metric(
        "ga_occupancy",
        "Adult G&A occupied / open (target: 0.92 or below).",
        "ratio",
        lambda p: _ratio(p.beds.occupied, p.beds.open),
    ),
    Metric(
        "nctr_patients",
        "Adult G&A patients with no criteria to reside (medically fit).",
        "count",
        lambda p: p.beds.nctr,
    ),
    Metric(
        "mffd_rate",
        "Medically fit patients / occupied adult G&A beds.",
        "ratio",
        lambda p: _ratio(p.beds.nctr, p.beds.occupied),
    ),
    Metric(
        "ae_in_department",
        "A&E patients arrived and not departed.",
        "count",
        lambda p: p.department.in_department,
    ),
    Metric(
        "ae_over_12h_in_department",
        "A&E patients in the department more than 12 h.",
        "count",
        lambda p: p.department.over_12h,
    ),
    Metric(
        "ae_mh_over_12h_in_department",
        "Mental-health A&E patients in the department more than 12 h.",
        "count",
        lambda p: p.department.mh_over_12h,
    ),
    Metric(
        "ae_longest_wait_minutes",
        "Longest time in the department of anyone still there.",
        "minutes",
        lambda p: _minutes(p.department.longest_wait),
    ),
    Metric(
        "ae_waiting_after_dta",
        "A&E patients with a decision to admit, not yet departed.",
        "count",
        lambda p: p.department.waiting_after_dta,
    ),
    Metric(
        "ae_over_12h_after_dta",
        "A&E patients waiting more than 12 h since the decision to admit.",
        "count",
        lambda p: p.department.over_12h_after_dta,
    ),
    Metric(
        "ae_departures_today",
        "A&E departures today (London day).",
        "count",
        lambda p: p.departed_today.departures,
    ),
    Metric(
        "ae_4h_performance_today",
        "Share of today's departures within 4 h of arrival.",
        "ratio",
        lambda p: _ratio(p.departed_today.within_4h, p.departed_today.departures),
    ),
    Metric(
        "ae_type1_4h_performance_today",
        "Four-hour performance today, type 1 only.",
        "ratio",
        lambda p: _ratio(p.departed_today.type1_within_4h, p.departed_today.type1_departures),
    ),
    Metric(
        "ae_over_12h_today",
        "Today's departures more than 12 h after arrival.",
        "count",
        lambda p: p.departed_today.over_12h,
    ),
    Metric(
        "ae_mh_departures_today",
        "Mental-health A&E departures today.",
        "count",
        lambda p: p.departed_today.mh_departures,
    ),
    Metric(
        "ae_mh_over_12h_today",
        "Today's mental-health departures more than 12 h after arrival.",
        "count",
        lambda p: p.departed_today.mh_over_12h,
    ),
    Metric(
        "ae_12h_trolley_waits_today",
        "Today's admissions more than 12 h after the decision to admit.",
        "count",
        lambda p: p.departed_today.trolley_waits,
    ),
    Metric(
        "ae_4h_performance_month",
        "Four-hour performance over this London month.",
        "ratio",
        lambda p: _ratio(p.departed_month.within_4h, p.departed_month.departures),
    ),
    Metric(
        "ambulances_waiting",
        "Ambulances arrived whose patient is not handed over.",
        "count",
        lambda p: p.ambulances.waiting,
    ),
    Metric(
        "ambulance_longest_wait_minutes",
        "Longest wait of an ambulance still waiting.",
        "minutes",
        lambda p: _minutes(p.ambulances.longest_wait),
    ),
    Metric(
        "handovers_today",
        "Ambulance handovers completed today.",
        "count",
        lambda p: p.handed_over_today.handovers,
    ),
    Metric(
        "handover_mean_minutes_today",
        "Mean arrival-to-handover time today.",
        "minutes",
        lambda p: _minutes_mean(p.handed_over_today),
    ),
    Metric(
        "handovers_over_30_today",
        "Handovers today that took more than 30 minutes.",
        "count",
        lambda p: p.handed_over_today.over_30,
    ),
    Metric(
        "handovers_over_45_today",
        "Handovers today that took more than 45 minutes.",
        "count",
        lambda p: p.handed_over_today.over_45,
    ),
    Metric(
        "handovers_over_60_today",
        "Handovers today that took more than 60 minutes.",
        "count",
        lambda p: p.handed_over_today.over_60,
    ),
    Metric(
        "handover_hours_lost_today",
        "Hours lost today: the sum of each handover's time beyond 15 minutes.",
        "hours",
        lambda p: p.handed_over_today.lost / HOUR,
    ),
)


def _minutes_mean(counts: HandoverCounts) -> float | None:
    return None if not counts.handovers else counts.total / counts.handovers / MINUTE


def metric_values(parts: FlowParts) -> dict[str, Value]:
    return {metric.name: metric.value(parts) for metric in METRICS}
