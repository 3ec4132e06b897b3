"""Trust, place and system figures: sums of the sites' parts, ratios recomputed, maxima."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import pytest

from events import Event
from streams.core.flow import FlowState
from streams.core.metrics import METRICS
from tests.events_builder import (
    REGISTRY,
    ambulance_arrival,
    ambulance_handover,
    arrival,
    at,
    departure,
    dta,
    state_of,
    ward,
)

T0 = at("2025-01-15T08:00:00Z")
AS_OF = T0 + timedelta(hours=10)

SITES = ("R1H12", "R1HKH", "R1HNH", "RF4QH", "RF4DG", "RQXM1")
TRUSTS = {"R1H": ("R1H12", "R1HKH", "R1HNH"), "RF4": ("RF4QH", "RF4DG"), "RQX": ("RQXM1",)}
PLACES = {
    "Tower Hamlets": "R1H12",
    "Waltham Forest": "R1HKH",
    "Newham": "R1HNH",
    "Havering": "RF4QH",
    "Redbridge": "RF4DG",
    "City and Hackney": "RQXM1",
}
COUNTS = [m.name for m in METRICS if m.unit == "count"]
NONE_WHEN_EMPTY = {
    "opel_site_level",
    "opel_trust_level",
    "ga_occupancy",
    "mffd_rate",
    "cc_occupancy",
    "ae_over_4h_in_department_rate",
    "ae_over_12h_in_department_rate",
    "ae_over_12h_today_rate",
    "ae_longest_wait_minutes",
    "ae_4h_performance_today",
    "ae_type1_4h_performance_today",
    "ae_4h_performance_month",
    "ambulance_longest_wait_minutes",
    "handover_mean_minutes_today",
}


def test_registry_is_the_nel_default() -> None:
    assert set(REGISTRY.sites) == set(SITES)
    assert set(REGISTRY.trusts) == set(TRUSTS)
    for trust, sites in TRUSTS.items():
        assert set(REGISTRY.sites_of_trust(trust)) == set(sites)
    assert set(REGISTRY.places) == set(PLACES)


def test_metric_names_are_unique_and_every_metric_is_reported() -> None:
    names = [m.name for m in METRICS]
    assert len(names) == len(set(names))
    snap = FlowState(REGISTRY, horizon=None).snapshot(T0)
    assert set(snap.site("R1H12")) == set(names)
    assert set(snap.trust("R1H")) == set(names)
    assert set(snap.place("Newham")) == set(names)
    assert set(snap.system()) == set(names)


def test_metric_list_covers_the_spec() -> None:
    assert {m.name for m in METRICS} >= NONE_WHEN_EMPTY
    assert {
        "ga_beds_open",
        "ga_beds_occupied",
        "nctr_patients",
        "ae_in_department",
        "ae_over_12h_in_department",
        "ae_mh_over_12h_in_department",
        "ae_waiting_after_dta",
        "ae_over_12h_after_dta",
        "ae_departures_today",
        "ae_over_12h_today",
        "ae_mh_departures_today",
        "ae_mh_over_12h_today",
        "ae_12h_trolley_waits_today",
        "ambulances_waiting",
        "handovers_today",
        "handovers_over_30_today",
        "handovers_over_45_today",
        "handovers_over_60_today",
        "handover_hours_lost_today",
    } <= {m.name for m in METRICS}


def total(values: Iterable[int | float | None]) -> float:
    summed = 0.0
    for value in values:
        assert value is not None
        summed += value
    return summed


def _assert_empty(metrics: dict[str, int | float | None]) -> None:
    for name, value in metrics.items():
        if name in NONE_WHEN_EMPTY:
            assert value is None, name
        else:
            assert value == 0, name


def test_every_site_trust_and_place_is_present_with_no_events() -> None:
    snap = FlowState(REGISTRY, horizon=None).snapshot(T0)
    for site in SITES:
        _assert_empty(snap.site(site))
    for trust in TRUSTS:
        _assert_empty(snap.trust(trust))
    for place in PLACES:
        _assert_empty(snap.place(place))
    _assert_empty(snap.system())


def test_sites_without_events_are_still_present_when_others_have_some() -> None:
    events = [arrival("a", T0, site="R1H12"), ward("W", T0, beds_open_core=5, beds_occupied=5)]
    snap = state_of(events).snapshot(AS_OF)
    for site in SITES[1:]:
        _assert_empty(snap.site(site))
    _assert_empty(snap.trust("RF4"))
    _assert_empty(snap.trust("RQX"))


def test_four_hour_performance_is_recomputed_from_summed_parts() -> None:
    # Site A: 1 of 1 within 4 h; site B: 0 of 3. Trust: 1 of 4 = 0.25, not the mean 0.5.
    events = [
        arrival("a1", T0, site="R1H12"),
        departure("a1", T0 + timedelta(hours=1), site="R1H12"),
    ]
    for i in range(3):
        events += [
            arrival(f"b{i}", T0, site="R1HKH"),
            departure(f"b{i}", T0 + timedelta(hours=5), site="R1HKH"),
        ]
    snap = state_of(events).snapshot(AS_OF)
    assert snap.site("R1H12")["ae_4h_performance_today"] == 1.0
    assert snap.site("R1HKH")["ae_4h_performance_today"] == 0.0
    assert snap.site("R1HNH")["ae_4h_performance_today"] is None
    trust = snap.trust("R1H")
    assert trust["ae_departures_today"] == 4
    assert trust["ae_4h_performance_today"] == pytest.approx(0.25)
    assert trust["ae_type1_4h_performance_today"] == pytest.approx(0.25)
    assert trust["ae_4h_performance_month"] == pytest.approx(0.25)
    system = snap.system()
    assert system["ae_4h_performance_today"] == pytest.approx(0.25)
    assert system["ae_4h_performance_month"] == pytest.approx(0.25)


def test_occupancy_is_recomputed_from_summed_beds() -> None:
    events = [
        ward("W", T0, site="RF4QH", beds_open_core=10, beds_occupied=10, nctr=10),
        ward("W", T0, site="RF4DG", beds_open_core=90, beds_occupied=45, nctr=0),
    ]
    snap = state_of(events).snapshot(AS_OF)
    trust = snap.trust("RF4")
    assert trust["ga_beds_open"] == 100
    assert trust["ga_beds_occupied"] == 55
    assert trust["ga_occupancy"] == pytest.approx(0.55)  # not (1.0 + 0.5) / 2
    assert trust["nctr_patients"] == 10
    assert trust["mffd_rate"] == pytest.approx(10 / 55)  # not (1.0 + 0.0) / 2
    system = snap.system()
    assert system["ga_occupancy"] == pytest.approx(0.55)
    assert system["mffd_rate"] == pytest.approx(10 / 55)


def test_type1_performance_recomputed_from_summed_parts() -> None:
    events = [
        arrival("a", T0, site="RF4QH"),
        departure("a", T0 + timedelta(hours=1), site="RF4QH"),
        arrival("b", T0, site="RF4DG"),
        departure("b", T0 + timedelta(hours=5), site="RF4DG"),
        arrival("c", T0, site="RF4DG"),
        departure("c", T0 + timedelta(hours=6), site="RF4DG"),
        arrival("d", T0, site="RF4DG", department_type=3),
        departure("d", T0 + timedelta(hours=1), site="RF4DG"),
    ]
    trust = state_of(events).snapshot(AS_OF).trust("RF4")
    assert trust["ae_4h_performance_today"] == pytest.approx(2 / 4)
    assert trust["ae_type1_4h_performance_today"] == pytest.approx(1 / 3)


def test_handover_mean_is_recomputed_from_summed_parts() -> None:
    # Site A: one handover of 60 min; site B: three of 20 min. Mean 30 min, not (60 + 20) / 2.
    events = [
        ambulance_arrival("a", T0, site="R1H12"),
        ambulance_handover("a", T0 + timedelta(minutes=60), site="R1H12"),
    ]
    for i in range(3):
        events += [
            ambulance_arrival(f"b{i}", T0, site="R1HNH"),
            ambulance_handover(f"b{i}", T0 + timedelta(minutes=20), site="R1HNH"),
        ]
    snap = state_of(events).snapshot(AS_OF)
    for figures in (snap.trust("R1H"), snap.system()):
        assert figures["handovers_today"] == 4
        assert figures["handover_mean_minutes_today"] == pytest.approx(30.0)
        assert figures["handover_hours_lost_today"] == pytest.approx((45 + 3 * 5) / 60)
        assert figures["handovers_over_30_today"] == 1
        assert figures["handovers_over_45_today"] == 1
        assert figures["handovers_over_60_today"] == 0


def test_longest_waits_are_maxima_not_sums() -> None:
    events = [
        arrival("a", T0, site="R1H12"),  # 10 h at AS_OF
        arrival("b", T0 + timedelta(hours=4), site="R1HKH"),  # 6 h
        arrival("c", T0 + timedelta(hours=1), site="RQXM1"),  # 9 h
        ambulance_arrival("x", T0 + timedelta(hours=9), site="R1HKH"),  # 60 min
        ambulance_arrival("y", T0 + timedelta(hours=9, minutes=30), site="R1H12"),  # 30 min
        ambulance_arrival("z", T0 + timedelta(hours=9, minutes=45), site="RF4DG"),  # 15 min
    ]
    snap = state_of(events).snapshot(AS_OF)
    trust = snap.trust("R1H")
    assert trust["ae_in_department"] == 2
    assert trust["ae_longest_wait_minutes"] == pytest.approx(600.0)
    assert trust["ambulances_waiting"] == 2
    assert trust["ambulance_longest_wait_minutes"] == pytest.approx(60.0)
    system = snap.system()
    assert system["ae_in_department"] == 3
    assert system["ae_longest_wait_minutes"] == pytest.approx(600.0)
    assert system["ambulances_waiting"] == 3
    assert system["ambulance_longest_wait_minutes"] == pytest.approx(60.0)
    assert snap.trust("RF4")["ae_longest_wait_minutes"] is None
    assert snap.trust("RF4")["ambulance_longest_wait_minutes"] == pytest.approx(15.0)


def test_counts_are_sums_of_sites() -> None:
    events: list[Event] = []
    for i, site in enumerate(SITES):
        for j in range(i + 1):
            name = f"{site}-{j}"
            events += [
                arrival(name, T0, site=site, mental_health=True),
                dta(name, T0 + timedelta(minutes=30), site=site),
                departure(name, T0 + timedelta(hours=13), site=site, outcome="admitted"),
            ]
        events.append(ward("W", T0, site=site, beds_open_core=10 + i, beds_occupied=5 + i, nctr=i))
    snap = state_of(events).snapshot(T0 + timedelta(hours=14))
    site_figures = {site: snap.site(site) for site in SITES}
    for name in COUNTS:
        for trust, sites in TRUSTS.items():
            assert snap.trust(trust)[name] == total(site_figures[s][name] for s in sites), name
        for place, site in PLACES.items():
            assert snap.place(place)[name] == site_figures[site][name], name
        assert snap.system()[name] == total(site_figures[s][name] for s in SITES), name
    system = snap.system()
    assert system["ae_departures_today"] == 21
    assert system["ae_12h_trolley_waits_today"] == 21
    assert system["ae_mh_over_12h_today"] == 21
    assert system["ga_beds_open"] == sum(10 + i for i in range(6))


def test_place_figures_equal_their_single_site() -> None:
    events = [
        arrival("a", T0, site="RF4DG"),
        departure("a", T0 + timedelta(hours=5), site="RF4DG"),
        ward("W", T0, site="RF4DG", beds_open_core=8, beds_occupied=9, nctr=2),
    ]
    snap = state_of(events).snapshot(AS_OF)
    assert snap.place("Redbridge") == snap.site("RF4DG")
    _assert_empty(snap.place("Havering"))


def test_ratios_none_when_every_site_has_zero_denominator() -> None:
    events = [ward("W", T0, site=site, beds_open_core=0, beds_occupied=0) for site in SITES]
    snap = state_of(events).snapshot(AS_OF)
    assert snap.system()["ga_occupancy"] is None
    assert snap.system()["mffd_rate"] is None
    assert snap.trust("R1H")["ga_occupancy"] is None
