"""A lateness horizon bounds state but, within it, must not change any figure."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from events import Event
from streams.core.flow import FlowState, Outcome
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

T0 = at("2025-03-27T06:00:00Z")  # spans the clock change on 30 March and the month end
HORIZON = timedelta(hours=48)
SITES = tuple(REGISTRY.sites)


def stream(seed: int) -> list[Event]:
    rng = random.Random(seed)
    events: list[Event] = []
    for i in range(300):
        site = rng.choice(SITES)
        start = T0 + timedelta(minutes=rng.randrange(0, 8 * 24 * 60))
        name = f"p{i}"
        events.append(
            arrival(
                name,
                start,
                site=site,
                mental_health=rng.random() < 0.2,
                department_type=rng.choice([1, 1, 1, 3]),
            )
        )
        stay = timedelta(minutes=rng.randrange(10, 20 * 60))
        if rng.random() < 0.4:
            events.append(dta(name, start + stay / 3, site=site))
        if rng.random() < 0.9:
            events.append(
                departure(
                    name, start + stay, site=site, outcome=rng.choice(["admitted", "discharged"])
                )
            )
        if rng.random() < 0.5:
            took = timedelta(minutes=rng.randrange(1, 120))
            events.append(ambulance_arrival(name, start, site=site))
            events.append(ambulance_handover(name, start + took, site=site))
        if rng.random() < 0.1:
            events.append(
                ward(
                    f"W{i % 5}",
                    start,
                    site=site,
                    beds_open_core=rng.randrange(30),
                    beds_occupied=rng.randrange(30),
                )
            )
    events.sort(key=lambda e: e.occurred_at)
    # Shuffle a little, within an hour, as a live feed would.
    for k in range(0, len(events) - 1, 7):
        if events[k + 1].occurred_at - events[k].occurred_at < timedelta(hours=1):
            events[k], events[k + 1] = events[k + 1], events[k]
    return events


def test_horizon_keeps_figures_exact_at_and_within_the_horizon() -> None:
    events = stream(1)
    exact = FlowState(REGISTRY, horizon=None)
    bounded = FlowState(REGISTRY, horizon=HORIZON)
    checks = 0
    for n, event in enumerate(events, 1):
        assert exact.apply(event) is Outcome.APPLIED
        assert bounded.apply(event) is Outcome.APPLIED
        if n % 40 == 0:
            latest = max(e.occurred_at for e in events[:n])
            for back in (timedelta(0), timedelta(hours=5), timedelta(hours=30)):
                as_of = latest - back
                a, b = exact.snapshot(as_of), bounded.snapshot(as_of)
                for site in SITES:
                    assert a.site(site) == b.site(site), (site, as_of)
                assert a.system() == b.system()
                checks += 1
    assert checks > 10


def test_event_older_than_the_horizon_is_refused() -> None:
    state = FlowState(REGISTRY, horizon=HORIZON)
    assert state.apply(arrival("a", T0)) is Outcome.APPLIED
    assert state.apply(arrival("b", T0 + timedelta(days=3))) is Outcome.APPLIED
    late = arrival("c", T0 + timedelta(days=1) - timedelta(microseconds=1))
    assert state.apply(late) is Outcome.TOO_LATE
    on_the_line = arrival("d", T0 + timedelta(days=1))
    assert state.apply(on_the_line) is Outcome.APPLIED
    m = state.snapshot(T0 + timedelta(days=3)).site("R1H12")
    assert m["ae_in_department"] == 3  # a (never folded while still there), b and d


def test_patient_still_in_department_beyond_the_horizon_is_kept() -> None:
    state = FlowState(REGISTRY, horizon=HORIZON)
    state.apply(arrival("a", T0))
    state.apply(ward("W", T0 + timedelta(days=5), beds_open_core=1, beds_occupied=1))
    m = state.snapshot(T0 + timedelta(days=5)).site("R1H12")
    assert m["ae_in_department"] == 1
    assert m["ae_over_12h_in_department"] == 1
    state.apply(departure("a", T0 + timedelta(days=5, hours=1)))
    m = state.snapshot(T0 + timedelta(days=5, hours=2)).site("R1H12")
    assert m["ae_in_department"] == 0
    assert m["ae_departures_today"] == 1
    assert m["ae_over_12h_today"] == 1


def test_current_month_day_counters_are_kept() -> None:
    state = FlowState(REGISTRY, horizon=HORIZON)
    state.apply(arrival("a", at("2025-06-02T08:00:00Z")))
    state.apply(departure("a", at("2025-06-02T13:00:00Z")))
    state.apply(arrival("b", at("2025-06-20T08:00:00Z")))
    state.apply(departure("b", at("2025-06-20T09:00:00Z")))
    m = state.snapshot(at("2025-06-20T12:00:00Z")).site("R1H12")
    assert m["ae_departures_today"] == 1
    assert m["ae_4h_performance_month"] == pytest.approx(0.5)


def test_a_state_rebuilt_from_its_stores_folds_and_expires_what_it_restored() -> None:
    before = FlowState(REGISTRY, horizon=HORIZON)
    before.apply(arrival("a", at("2025-06-02T08:00:00Z")))
    before.apply(departure("a", at("2025-06-02T09:00:00Z")))
    before.apply(dta("orphan", at("2025-06-02T10:00:00Z")))
    # A restart: a new state on the same (changelogged) stores.
    after = FlowState(REGISTRY, horizon=HORIZON, stores=before.stores)
    assert after.watermark == before.watermark
    assert after.apply(arrival("late", at("2025-05-30T08:00:00Z"))) is Outcome.TOO_LATE
    after.apply(arrival("b", at("2025-06-06T08:00:00Z"), event_id="e-b"))
    assert ("R1H12", "a") not in after.stores.attendances  # folded into 2 June
    assert ("R1H12", "orphan") not in after.stores.attendances  # expired unmatched
    assert after.unmatched_expired == 1
    assert set(after.stores.seen) == {"e-b"}  # older ids forgotten with their records
    m = after.snapshot(at("2025-06-06T12:00:00Z")).site("R1H12")
    assert m["ae_4h_performance_month"] == 1.0


def test_a_sites_backlog_after_an_outage_is_not_refused_because_other_sites_moved_on() -> None:
    state = FlowState(REGISTRY, horizon=HORIZON)
    state.apply(arrival("q", at("2025-06-01T08:00:00Z"), site="RF4QH"))
    state.apply(arrival("h", at("2025-06-05T08:00:00Z"), site="RQXM1"))  # four days on
    # Queen's feed comes back with its backlog: late for Homerton's clock, not for its own.
    assert state.apply(departure("q", at("2025-06-01T12:00:00Z"), site="RF4QH")) is Outcome.APPLIED
    assert state.apply(arrival("r", at("2025-05-29T08:00:00Z"), site="RF4QH")) is Outcome.TOO_LATE
    m = state.snapshot(at("2025-06-01T13:00:00Z")).site("RF4QH")
    assert m["ae_departures_today"] == 1


def test_folded_attendances_and_handovers_still_count_on_their_arrival_day() -> None:
    # Folded before T's own London day ends: counted from the day counters, by arrival day.
    events = [
        arrival("short", at("2025-06-02T01:00:00Z")),  # 02:00 BST on 2 June
        departure("short", at("2025-06-02T02:00:00Z")),
        arrival("overnight", at("2025-06-01T22:30:00Z")),  # 23:30 BST on 1 June
        departure("overnight", at("2025-06-01T23:30:00Z")),  # 00:30 BST on 2 June
        ambulance_arrival("h", at("2025-06-02T01:00:00Z")),
        ambulance_handover("h", at("2025-06-02T01:20:00Z")),
        ward("W", at("2025-06-04T11:00:00Z"), beds_open_core=1, beds_occupied=1),
        arrival("clock", at("2025-06-04T11:00:00Z")),  # moves the A&E event time on
        ambulance_arrival("clock", at("2025-06-04T11:00:00Z")),
    ]
    folding = FlowState(REGISTRY, horizon=HORIZON)
    for event in events:
        assert folding.apply(event) is Outcome.APPLIED
    assert ("R1H12", "short") not in folding.stores.attendances  # folded
    as_of = at("2025-06-02T11:00:00Z")  # the horizon's edge
    m = folding.snapshot(as_of).site("R1H12")
    assert (m["ae_arrivals_today"], m["ae_departures_today"]) == (1, 2)
    assert m["ambulance_arrivals_today"] == 1
    assert m == state_of(events).snapshot(as_of).site("R1H12")
