"""A normal winter midweek gives roughly the published NEL figures (DOMAIN.md), through the same
metric core that `uecflow replay` and the live worker use. Tolerances are loose: the model is
calibrated to the figures, not fitted to one seed."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest

from streams.core.flow import FlowState
from streams.core.metrics import FlowParts
from tests.producers.simulator.runs import REGISTRY, WINTER_THURSDAY, number, run, state_of

WEDNESDAY = WINTER_THURSDAY - timedelta(days=1)
DAYS = (WEDNESDAY, WINTER_THURSDAY)


@pytest.fixture(scope="module")
def midweek() -> FlowState:
    return state_of(run(start=WEDNESDAY, hours=48))


def _end_of(day: datetime) -> datetime:
    return day + timedelta(hours=23, minutes=59, seconds=59)


def _departed(state: FlowState, sites: tuple[str, ...]) -> FlowParts:
    """Both days' departures at these sites, summed."""
    return FlowParts.total(state.snapshot(_end_of(day)).parts_of(sites) for day in DAYS)


def _type1_four_hour(state: FlowState, trust: str) -> float:
    departed = _departed(state, REGISTRY.sites_of_trust(trust)).departed_today
    return departed.type1_within_4h / departed.type1_departures


def _sitrep(state: FlowState, sites: tuple[str, ...]) -> FlowParts:
    """The 08:00 sitreps of both days, summed."""
    return FlowParts.total(state.snapshot(day + timedelta(hours=8)).parts_of(sites) for day in DAYS)


def test_bhrut_type1_four_hour_performance_is_about_half(midweek: FlowState) -> None:
    # Published: BHRUT type 1 about 50% (2023).
    assert 0.42 <= _type1_four_hour(midweek, "RF4") <= 0.60


def test_homerton_type1_four_hour_performance_is_about_86_percent(midweek: FlowState) -> None:
    # Published: Homerton about 86% (2022).
    assert 0.78 <= _type1_four_hour(midweek, "RQX") <= 0.94


def test_barts_health_sits_between_them(midweek: FlowState) -> None:
    # Not published per site; the sample profiles give Barts' sites 66-70%.
    assert 0.60 <= _type1_four_hour(midweek, "R1H") <= 0.80


def test_queens_sees_about_650_patients_and_100_ambulances_a_day(midweek: FlowState) -> None:
    queens = _departed(midweek, ("RF4QH",))
    assert 560 <= queens.departed_today.departures / 2 <= 740
    assert 80 <= queens.handed_over_today.handovers / 2 <= 120


def test_whipps_cross_is_over_98_percent_occupied_at_the_winter_sitrep(
    midweek: FlowState,
) -> None:
    beds = _sitrep(midweek, ("R1HKH",)).beds
    assert beds.occupied / beds.open >= 0.97


def test_about_a_tenth_of_nel_ga_beds_hold_medically_fit_patients(midweek: FlowState) -> None:
    # Published: 10.79% of G&A beds occupied by patients medically fit for discharge.
    beds = _sitrep(midweek, tuple(REGISTRY.sites)).beds
    assert 0.07 <= beds.nctr / beds.occupied <= 0.15


def test_about_a_third_of_mental_health_attendances_wait_over_12_hours(
    midweek: FlowState,
) -> None:
    # Published: 36.8% of A&E mental-health attendances waited over 12 hours.
    departed = _departed(midweek, tuple(REGISTRY.sites)).departed_today
    assert departed.mh_departures > 150
    assert 0.26 <= departed.mh_over_12h / departed.mh_departures <= 0.48


def test_every_site_is_busy_by_day_and_quiet_at_night() -> None:
    arrivals = Counter(
        event.occurred_at.astimezone(WINTER_THURSDAY.tzinfo).hour
        for event in run(sites=("RF4QH",))
        if event.event_type == "ae.arrival" and event.occurred_at >= WINTER_THURSDAY
    )
    daytime = sum(arrivals[hour] for hour in range(10, 20)) / 10
    small_hours = sum(arrivals[hour] for hour in range(2, 6)) / 4
    assert daytime >= 3 * small_hours


def test_winter_fills_the_wards_more_than_summer() -> None:
    # Winter: more patients admitted, and they stay longer (the model's winter pressure).
    summer_thursday = datetime(2026, 7, 16, tzinfo=WINTER_THURSDAY.tzinfo)
    winter = state_of(run()).snapshot(WINTER_THURSDAY + timedelta(hours=8))
    summer = state_of(run(start=summer_thursday)).snapshot(summer_thursday + timedelta(hours=8))
    occupied = "ga_beds_occupied"
    assert number(winter.system(), occupied) > number(summer.system(), occupied)
