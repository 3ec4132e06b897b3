"""Ambulance handover metrics: waiting now, and handovers completed today, at their edges."""

from __future__ import annotations

from datetime import timedelta

import pytest

from events import Event
from streams.core.flow import FlowState, Outcome
from tests.events_builder import (
    REGISTRY,
    ambulance_arrival,
    ambulance_handover,
    at,
    site_metrics,
    state_of,
)

T0 = at("2025-01-15T08:00:00Z")
US = timedelta(microseconds=1)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def handed_over_after(took: timedelta, name: str = "h") -> list[Event]:
    return [ambulance_arrival(name, T0), ambulance_handover(name, T0 + took)]


def test_no_ambulances() -> None:
    m = site_metrics([], T0)
    assert m["ambulances_waiting"] == 0
    assert m["ambulance_longest_wait_minutes"] is None
    assert m["handovers_today"] == 0
    assert m["handover_mean_minutes_today"] is None
    assert m["handovers_over_30_today"] == 0
    assert m["handovers_over_45_today"] == 0
    assert m["handovers_over_60_today"] == 0
    assert m["handover_hours_lost_today"] == 0


def test_ambulance_waiting_until_handover() -> None:
    events = [ambulance_arrival("h", T0)]
    m = site_metrics(events, T0 + minutes(25))
    assert m["ambulances_waiting"] == 1
    assert m["ambulance_longest_wait_minutes"] == pytest.approx(25.0)
    assert m["handovers_today"] == 0


def test_longest_ambulance_wait_is_the_maximum() -> None:
    events = [
        ambulance_arrival("first", T0),
        ambulance_arrival("second", T0 + minutes(20)),
        ambulance_arrival("done", T0 - minutes(60)),
        ambulance_handover("done", T0),
    ]
    m = site_metrics(events, T0 + minutes(50))
    assert m["ambulances_waiting"] == 2
    assert m["ambulance_longest_wait_minutes"] == pytest.approx(50.0)


def test_handed_over_ambulance_is_not_waiting() -> None:
    m = site_metrics(handed_over_after(minutes(20)), T0 + minutes(30))
    assert m["ambulances_waiting"] == 0
    assert m["ambulance_longest_wait_minutes"] is None
    assert m["handovers_today"] == 1
    assert m["handover_mean_minutes_today"] == pytest.approx(20.0)


@pytest.mark.parametrize("band", [30, 45, 60])
def test_handover_of_exactly_the_band_is_not_over_it(band: int) -> None:
    m = site_metrics(handed_over_after(minutes(band)), T0 + minutes(band))
    assert m["handovers_today"] == 1
    assert m[f"handovers_over_{band}_today"] == 0


@pytest.mark.parametrize("band", [30, 45, 60])
def test_handover_just_over_the_band_is_over_it(band: int) -> None:
    m = site_metrics(handed_over_after(minutes(band) + US), T0 + minutes(61))
    assert m[f"handovers_over_{band}_today"] == 1


@pytest.mark.parametrize(
    ("took", "over_30", "over_45", "over_60"),
    [
        (minutes(10), 0, 0, 0),
        (minutes(30), 0, 0, 0),
        (minutes(31), 1, 0, 0),
        (minutes(45), 1, 0, 0),
        (minutes(46), 1, 1, 0),
        (minutes(60), 1, 1, 0),
        (minutes(90), 1, 1, 1),
    ],
)
def test_handover_bands_are_cumulative(
    took: timedelta, over_30: int, over_45: int, over_60: int
) -> None:
    m = site_metrics(handed_over_after(took), T0 + minutes(120))
    assert (
        m["handovers_over_30_today"],
        m["handovers_over_45_today"],
        m["handovers_over_60_today"],
    ) == (over_30, over_45, over_60)


def test_handover_of_exactly_15_minutes_loses_no_time() -> None:
    m = site_metrics(handed_over_after(minutes(15)), T0 + minutes(15))
    assert m["handover_hours_lost_today"] == 0


def test_handover_just_over_15_minutes_loses_a_little() -> None:
    m = site_metrics(handed_over_after(minutes(15) + US), T0 + minutes(20))
    lost = m["handover_hours_lost_today"]
    assert isinstance(lost, float)
    assert lost > 0
    assert lost == pytest.approx(1e-6 / 3600)


def test_hours_lost_is_the_sum_of_minutes_beyond_15() -> None:
    # 10 min -> 0, 15 -> 0, 45 -> 30 min, 75 -> 60 min, 27 -> 12 min: 102 min = 1.7 h.
    events: list[Event] = []
    for i, took in enumerate([10, 15, 45, 75, 27]):
        events += handed_over_after(minutes(took), name=f"h{i}")
    m = site_metrics(events, T0 + minutes(120))
    assert m["handovers_today"] == 5
    assert m["handover_hours_lost_today"] == pytest.approx(102 / 60)
    assert m["handover_mean_minutes_today"] == pytest.approx((10 + 15 + 45 + 75 + 27) / 5)
    assert m["handovers_over_30_today"] == 2
    assert m["handovers_over_45_today"] == 1
    assert m["handovers_over_60_today"] == 1


def test_quick_handovers_do_not_offset_slow_ones() -> None:
    # max(0, minutes - 15) per handover, not (total - 15 * n).
    events = handed_over_after(minutes(5), "quick") + handed_over_after(minutes(25), "slow")
    m = site_metrics(events, T0 + minutes(30))
    assert m["handover_hours_lost_today"] == pytest.approx(10 / 60)
    assert m["handover_mean_minutes_today"] == pytest.approx(15.0)


def test_handover_without_arrival_is_not_counted() -> None:
    m = site_metrics([ambulance_handover("h", T0)], T0 + minutes(10))
    assert m["handovers_today"] == 0
    assert m["handover_mean_minutes_today"] is None
    assert m["ambulances_waiting"] == 0


def test_held_handover_counts_once_its_arrival_arrives() -> None:
    state = state_of([ambulance_handover("h", T0 + minutes(40))])
    as_of = T0 + minutes(60)
    assert state.snapshot(as_of).site("R1H12")["handovers_today"] == 0
    state.apply(ambulance_arrival("h", T0))
    m = state.snapshot(as_of).site("R1H12")
    assert m["handovers_today"] == 1
    assert m["handover_mean_minutes_today"] == pytest.approx(40.0)
    assert m["handovers_over_30_today"] == 1
    assert m["handover_hours_lost_today"] == pytest.approx(25 / 60)


def test_ambulance_arriving_after_t_does_not_count() -> None:
    m = site_metrics([ambulance_arrival("h", T0 + US)], T0)
    assert m["ambulances_waiting"] == 0
    assert m["ambulance_longest_wait_minutes"] is None


def test_handover_after_t_does_not_count() -> None:
    m = site_metrics(handed_over_after(minutes(40)), T0 + minutes(30))
    assert m["handovers_today"] == 0
    assert m["ambulances_waiting"] == 1
    assert m["ambulance_longest_wait_minutes"] == pytest.approx(30.0)


def test_handover_order_of_delivery_does_not_matter() -> None:
    events = handed_over_after(minutes(50), "a") + handed_over_after(minutes(20), "b")
    events.append(ambulance_arrival("c", T0 + minutes(10)))
    as_of = T0 + minutes(70)
    assert site_metrics(events, as_of) == site_metrics(list(reversed(events)), as_of)


def test_duplicate_handover_events_are_ignored() -> None:
    state = FlowState(REGISTRY, horizon=None)
    assert state.apply(ambulance_arrival("h", T0, event_id="x1")) is Outcome.APPLIED
    assert state.apply(ambulance_handover("h", T0 + minutes(20), event_id="x2")) is (
        Outcome.APPLIED
    )
    assert state.apply(ambulance_handover("h", T0 + minutes(20), event_id="x2")) is (
        Outcome.DUPLICATE
    )
    # Same id as the arrival: ignored, so ambulance "other" never arrived.
    assert state.apply(ambulance_arrival("other", T0, event_id="x1")) is Outcome.DUPLICATE
    m = state.snapshot(T0 + minutes(30)).site("R1H12")
    assert m["handovers_today"] == 1
    assert m["ambulances_waiting"] == 0


def test_handovers_at_different_sites_stay_apart() -> None:
    events = [
        ambulance_arrival("h", T0, site="R1H12"),
        ambulance_arrival("h", T0, site="RF4DG"),
        ambulance_handover("h", T0 + minutes(20), site="RF4DG"),
    ]
    snap = state_of(events).snapshot(T0 + minutes(30))
    assert snap.site("R1H12")["ambulances_waiting"] == 1
    assert snap.site("R1H12")["handovers_today"] == 0
    assert snap.site("RF4DG")["ambulances_waiting"] == 0
    assert snap.site("RF4DG")["handovers_today"] == 1


@pytest.mark.parametrize(
    ("took", "within_15", "within_30"),
    [
        (minutes(15), 1, 1),
        (minutes(15) + US, 0, 1),
        (minutes(30), 0, 1),
        (minutes(30) + US, 0, 0),
    ],
)
def test_handovers_within_15_and_30_minutes_include_the_edge(
    took: timedelta, within_15: int, within_30: int
) -> None:
    m = site_metrics(handed_over_after(took), T0 + minutes(90))
    assert (m["handovers_within_15_today"], m["handovers_within_30_today"]) == (
        within_15,
        within_30,
    )


def test_hours_lost_over_60_sum_each_handovers_time_past_an_hour() -> None:
    events = (
        handed_over_after(minutes(60), "on-the-hour")
        + handed_over_after(minutes(90), "ninety")
        + handed_over_after(minutes(150), "two-and-a-half-hours")
    )
    m = site_metrics(events, T0 + minutes(200))
    assert m["handover_hours_lost_over_60_today"] == pytest.approx(2.0)  # 0 + 0.5 + 1.5
    assert m["handover_hours_lost_today"] == pytest.approx((45 + 75 + 135) / 60)


def test_ambulance_arrivals_today_count_arrivals_not_handovers() -> None:
    events = [
        ambulance_arrival("yesterday", at("2025-01-14T23:50:00Z")),
        ambulance_handover("yesterday", at("2025-01-15T00:20:00Z")),
        ambulance_arrival("waiting", T0),
        ambulance_handover("no-arrival", T0),
        ambulance_arrival("later", T0 + minutes(1)),
    ]
    m = site_metrics(events, T0)
    assert m["ambulance_arrivals_today"] == 1
    assert m["handovers_today"] == 1
