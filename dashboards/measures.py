"""The numbers the dashboards show: their titles here; their Prometheus names, feeds and
targets from the metric table (`streams.core.metrics`), with the limits of `[targets]` in the
reference data (uecflow/nel.toml): change a target there, regenerate, and the colours, the drawn
lines and the stale marks follow.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from dashboards.panels import Measure, Steps, at_least, at_most, count_at_most
from dashboards.promql import Feed, Undefined
from streams.core.intake import Stream
from streams.core.metrics import METRIC, OPEL_IN_FORCE
from uecflow.config import ConfigError, Registry, Targets

# Grafana's unit for each unit of the metric table (durations are exported in seconds).
_GRAFANA_UNIT = {
    "ratio": "percentunit",
    "minutes": "s",
    "hours": "s",
    "count": "none",
    "level": "none",
}


@dataclass(frozen=True, slots=True)
class Feeds:
    ae: Feed
    beds: Feed
    ambulance: Feed

    @property
    def all(self) -> tuple[Feed, ...]:
        return (self.ae, self.beds, self.ambulance)

    def of(self, stream: Stream) -> Feed:
        return {Stream.AE: self.ae, Stream.BEDS: self.beds, Stream.AMBULANCE: self.ambulance}[
            stream
        ]


def feeds_from(registry: Registry) -> Feeds:
    limits = registry.targets.stale_after_minutes
    missing = [stream.value for stream in Stream if stream.value not in limits]
    if missing:
        raise ConfigError(f"targets.stale_after_minutes: no limit for {', '.join(missing)}")
    ae, beds, ambulance = (Feed(s.value, limits[s.value] * 60) for s in Stream)
    return Feeds(ae=ae, beds=beds, ambulance=ambulance)


@dataclass(frozen=True, slots=True)
class Catalogue:
    feeds: Feeds
    # beds
    beds_open: Measure
    beds_occupied: Measure
    occupancy: Measure
    nctr: Measure
    mffd: Measure
    escalation_beds: Measure
    cc_occupancy: Measure
    opel_declared: Measure
    opel_in_force: Measure
    # demand
    arrivals_today: Measure
    arrivals_last_hour: Measure
    ambulance_arrivals_today: Measure
    # A&E
    in_department: Measure
    over_4h_in_department: Measure
    over_4h_share: Measure
    over_12h_share: Measure
    longest_in_department: Measure
    over_12h_in_department: Measure
    waiting_after_dta: Measure
    over_12h_after_dta: Measure
    four_hour_today: Measure
    four_hour_type1_today: Measure
    four_hour_month: Measure
    # ambulances
    ambulances_waiting: Measure
    longest_ambulance_wait: Measure
    handovers_today: Measure
    handover_mean: Measure
    handovers_over_30: Measure
    handovers_over_45: Measure
    handovers_over_60: Measure
    handover_time_lost: Measure


def catalogue(registry: Registry) -> Catalogue:
    feeds = feeds_from(registry)
    board = _Board(feeds, registry.targets)
    return Catalogue(
        feeds=feeds,
        # beds
        beds_open=board.measure("ga_beds_open", "beds_open", "Beds open"),
        beds_occupied=board.measure("ga_beds_occupied", "beds_occupied", "Beds occupied"),
        occupancy=board.measure("ga_occupancy", "occupancy", "G&A occupancy"),
        nctr=board.measure("nctr_patients", "nctr", "NCTR patients"),
        mffd=board.measure("mffd_rate", "mffd", "MFFD rate"),
        escalation_beds=board.measure(
            "ga_escalation_beds_open", "escalation", "Escalation beds open"
        ),
        cc_occupancy=board.measure("cc_occupancy", "cc_occupancy", "Critical care occupancy"),
        opel_declared=board.measure("opel_site_level", "opel", "OPEL declared"),
        # A trust's own declaration, else its sites' highest; the system row: the highest trust's.
        opel_in_force=replace(
            board.measure("opel_site_level", "opel", "OPEL in force"), metric=OPEL_IN_FORCE
        ),
        # demand
        arrivals_today=board.measure("ae_arrivals_today", "arrivals", "A&E arrivals today"),
        arrivals_last_hour=board.measure(
            "ae_arrivals_last_hour", "arrivals_hour", "A&E arrivals last hour"
        ),
        ambulance_arrivals_today=board.measure(
            "ambulance_arrivals_today", "ambulance_arrivals", "Ambulance arrivals today"
        ),
        # A&E
        in_department=board.measure("ae_in_department", "in_department", "In department"),
        over_4h_in_department=board.measure(
            "ae_over_4h_in_department", "over_4h", ">4 h in department"
        ),
        over_4h_share=board.measure(
            "ae_over_4h_in_department_rate", "over_4h_share", "Share >4 h in department"
        ),
        over_12h_share=board.measure(
            "ae_over_12h_in_department_rate", "over_12h_share", "Share >12 h in department"
        ),
        longest_in_department=board.measure(
            "ae_longest_wait_minutes", "longest_in_department", "Longest in department", "zero"
        ),
        over_12h_in_department=board.measure(
            "ae_over_12h_in_department", "over_12h", ">12 h in department"
        ),
        waiting_after_dta=board.measure("ae_waiting_after_dta", "after_dta", "Waiting after DTA"),
        over_12h_after_dta=board.measure(
            "ae_over_12h_after_dta", "over_12h_dta", ">12 h after DTA"
        ),
        four_hour_today=board.measure("ae_4h_performance_today", "four_hour", "4-hour today"),
        four_hour_type1_today=board.measure(
            "ae_type1_4h_performance_today", "four_hour_type1", "4-hour type 1 today"
        ),
        four_hour_month=board.measure(
            "ae_4h_performance_month", "four_hour_month", "4-hour this month"
        ),
        # ambulances
        ambulances_waiting=board.measure("ambulances_waiting", "waiting", "Ambulances waiting"),
        longest_ambulance_wait=board.measure(
            "ambulance_longest_wait_minutes", "longest_wait", "Longest ambulance wait", "zero"
        ),
        handovers_today=board.measure("handovers_today", "handovers", "Handovers today"),
        handover_mean=board.measure("handover_mean_minutes_today", "mean", "Mean handover today"),
        handovers_over_30=board.measure("handovers_over_30_today", "over_30", ">30 min today"),
        handovers_over_45=board.measure("handovers_over_45_today", "over_45", ">45 min today"),
        handovers_over_60=board.measure("handovers_over_60_today", "over_60", ">60 min today"),
        handover_time_lost=board.measure("handover_hours_lost_today", "lost", "Time lost today"),
    )


@dataclass(frozen=True, slots=True)
class _Board:
    feeds: Feeds
    targets: Targets

    def measure(self, name: str, ref: str, title: str, undefined: Undefined = "nan") -> Measure:
        """A metric of the table as a board shows it: `ref` and `title` are the board's own."""
        metric = METRIC[name]
        return Measure(
            ref,
            title,
            metric.prometheus,
            _GRAFANA_UNIT[metric.unit],
            self.feeds.of(metric.feed),
            self._steps(name),
            undefined,
        )

    def _steps(self, name: str) -> Steps | None:
        # A static board shows the newest standard; a count turns red from one over its limit.
        metric = METRIC[name]
        limit = metric.prometheus_limit(self.targets, None)
        if limit is None:
            return None
        if limit.bound == "min":
            return at_least(limit.value)
        counted = metric.unit in ("count", "level")
        return count_at_most(round(limit.value)) if counted else at_most(limit.value)
