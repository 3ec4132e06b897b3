"""The numbers the dashboards show, with the targets that colour them, from the registry.

Every limit here comes from `[targets]` in the reference data (uecflow/nel.toml): change a
target there, regenerate, and the colours, the drawn lines and the stale marks follow.
"""

from __future__ import annotations

from dataclasses import dataclass

from dashboards.panels import Measure, at_least, at_most, count_at_most
from dashboards.promql import Feed
from uecflow.config import ConfigError, Registry

STREAMS = ("ae", "beds", "ambulance")
RATIO, SECONDS, COUNT = "percentunit", "s", "none"


@dataclass(frozen=True, slots=True)
class Feeds:
    ae: Feed
    beds: Feed
    ambulance: Feed

    @property
    def all(self) -> tuple[Feed, ...]:
        return (self.ae, self.beds, self.ambulance)


def feeds_from(registry: Registry) -> Feeds:
    limits = registry.targets.stale_after_minutes
    missing = [stream for stream in STREAMS if stream not in limits]
    if missing:
        raise ConfigError(f"targets.stale_after_minutes: no limit for {', '.join(missing)}")
    ae, beds, ambulance = (Feed(stream, limits[stream] * 60) for stream in STREAMS)
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
    # A&E
    in_department: Measure
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
    return Catalogue(
        feeds=feeds,
        **_beds(registry, feeds.beds),
        **_ae(registry, feeds.ae),
        **_ambulance(registry, feeds.ambulance),
    )


def _beds(registry: Registry, beds: Feed) -> dict[str, Measure]:
    targets = registry.targets
    return {
        "beds_open": Measure("beds_open", "Beds open", "uecflow_ga_beds_open", COUNT, beds),
        "beds_occupied": Measure(
            "beds_occupied", "Beds occupied", "uecflow_ga_beds_occupied", COUNT, beds
        ),
        "occupancy": Measure(
            "occupancy",
            "G&A occupancy",
            "uecflow_ga_occupancy_ratio",
            RATIO,
            beds,
            at_most(targets.ga_occupancy_max),
        ),
        "nctr": Measure("nctr", "NCTR patients", "uecflow_nctr_patients", COUNT, beds),
        "mffd": Measure(
            "mffd",
            "MFFD rate",
            "uecflow_mffd_rate_ratio",
            RATIO,
            beds,
            at_most(targets.mffd_rate_max),
        ),
    }


def _ae(registry: Registry, ae: Feed) -> dict[str, Measure]:
    targets = registry.targets
    over_12h = count_at_most(targets.over_12h_max)
    four_hour = at_least(targets.four_hour_latest)
    return {
        "in_department": Measure(
            "in_department", "In department", "uecflow_ae_in_department", COUNT, ae
        ),
        "longest_in_department": Measure(
            "longest_in_department",
            "Longest in department",
            "uecflow_ae_longest_wait_seconds",
            SECONDS,
            ae,
            undefined="zero",
        ),
        "over_12h_in_department": Measure(
            "over_12h",
            ">12 h in department",
            "uecflow_ae_over_12h_in_department",
            COUNT,
            ae,
            over_12h,
        ),
        "waiting_after_dta": Measure(
            "after_dta", "Waiting after DTA", "uecflow_ae_waiting_after_dta", COUNT, ae
        ),
        "over_12h_after_dta": Measure(
            "over_12h_dta",
            ">12 h after DTA",
            "uecflow_ae_over_12h_after_dta",
            COUNT,
            ae,
            over_12h,
        ),
        "four_hour_today": Measure(
            "four_hour",
            "4-hour today",
            "uecflow_ae_4h_performance_today_ratio",
            RATIO,
            ae,
            four_hour,
        ),
        "four_hour_type1_today": Measure(
            "four_hour_type1",
            "4-hour type 1 today",
            "uecflow_ae_type1_4h_performance_today_ratio",
            RATIO,
            ae,
            four_hour,
        ),
        "four_hour_month": Measure(
            "four_hour_month",
            "4-hour this month",
            "uecflow_ae_4h_performance_month_ratio",
            RATIO,
            ae,
            four_hour,
        ),
    }


def _ambulance(registry: Registry, ambulance: Feed) -> dict[str, Measure]:
    # Any handover past the longest wait allowed is a breach: the count's target is none.
    over_limit = count_at_most(0)
    return {
        "ambulances_waiting": Measure(
            "waiting", "Ambulances waiting", "uecflow_ambulances_waiting", COUNT, ambulance
        ),
        "longest_ambulance_wait": Measure(
            "longest_wait",
            "Longest ambulance wait",
            "uecflow_ambulance_longest_wait_seconds",
            SECONDS,
            ambulance,
            at_most(registry.targets.handover_max_minutes * 60),
            undefined="zero",
        ),
        "handovers_today": Measure(
            "handovers", "Handovers today", "uecflow_handovers_today", COUNT, ambulance
        ),
        "handover_mean": Measure(
            "mean",
            "Mean handover today",
            "uecflow_handover_mean_today_seconds",
            SECONDS,
            ambulance,
        ),
        "handovers_over_30": Measure(
            "over_30", ">30 min today", "uecflow_handovers_over_30_today", COUNT, ambulance
        ),
        "handovers_over_45": Measure(
            "over_45",
            ">45 min today",
            "uecflow_handovers_over_45_today",
            COUNT,
            ambulance,
            over_limit,
        ),
        "handovers_over_60": Measure(
            "over_60",
            ">60 min today",
            "uecflow_handovers_over_60_today",
            COUNT,
            ambulance,
            over_limit,
        ),
        "handover_time_lost": Measure(
            "lost", "Time lost today", "uecflow_handover_lost_today_seconds", SECONDS, ambulance
        ),
    }
