"""A&E metrics: census of the department at T, departures today and this month, their edges."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from events import Event
from streams.core.flow import FlowState, Outcome
from tests.events_builder import (
    REGISTRY,
    arrival,
    at,
    departure,
    dta,
    site_metrics,
    state_of,
)

T0 = at("2025-01-15T06:00:00Z")  # January: London time is UTC
US = timedelta(microseconds=1)
H4 = timedelta(hours=4)
H12 = timedelta(hours=12)


def empty_metrics(as_of: datetime = T0) -> dict[str, int | float | None]:
    return site_metrics([], as_of)


# --- census: who is in the department at T ---------------------------------------------------


def test_nobody_in_department() -> None:
    m = empty_metrics()
    assert m["ae_in_department"] == 0
    assert m["ae_over_12h_in_department"] == 0
    assert m["ae_mh_over_12h_in_department"] == 0
    assert m["ae_longest_wait_minutes"] is None
    assert m["ae_waiting_after_dta"] == 0
    assert m["ae_over_12h_after_dta"] == 0


def test_arrived_patient_is_in_department() -> None:
    m = site_metrics([arrival("a", T0)], T0 + timedelta(minutes=90))
    assert m["ae_in_department"] == 1
    assert m["ae_longest_wait_minutes"] == pytest.approx(90.0)


def test_arrival_at_exactly_t_counts_with_zero_wait() -> None:
    m = site_metrics([arrival("a", T0)], T0)
    assert m["ae_in_department"] == 1
    assert m["ae_longest_wait_minutes"] == 0


def test_departed_patient_is_not_in_department() -> None:
    events = [arrival("a", T0), departure("a", T0 + timedelta(hours=1))]
    m = site_metrics(events, T0 + timedelta(hours=2))
    assert m["ae_in_department"] == 0
    assert m["ae_longest_wait_minutes"] is None


def test_departure_at_exactly_t_has_departed() -> None:
    events = [arrival("a", T0), departure("a", T0 + timedelta(hours=1))]
    m = site_metrics(events, T0 + timedelta(hours=1))
    assert m["ae_in_department"] == 0
    assert m["ae_departures_today"] == 1


def test_longest_wait_is_the_longest_of_those_still_waiting() -> None:
    events = [
        arrival("gone", T0),  # longest, but departed
        departure("gone", T0 + timedelta(hours=5)),
        arrival("b", T0 + timedelta(minutes=30)),
        arrival("c", T0 + timedelta(hours=2)),
    ]
    m = site_metrics(events, T0 + timedelta(hours=6))
    assert m["ae_in_department"] == 2
    assert m["ae_longest_wait_minutes"] == pytest.approx(330.0)


def test_longest_wait_is_in_minutes_with_fractions() -> None:
    m = site_metrics([arrival("a", T0)], T0 + timedelta(minutes=2, seconds=30))
    assert m["ae_longest_wait_minutes"] == pytest.approx(2.5)


def test_in_department_exactly_12h_is_not_over_12h() -> None:
    events = [arrival("a", T0, mental_health=True)]
    m = site_metrics(events, T0 + H12)
    assert m["ae_in_department"] == 1
    assert m["ae_over_12h_in_department"] == 0
    assert m["ae_mh_over_12h_in_department"] == 0
    assert m["ae_longest_wait_minutes"] == pytest.approx(720.0)


def test_in_department_just_over_12h_is_over_12h() -> None:
    events = [arrival("a", T0, mental_health=True)]
    m = site_metrics(events, T0 + H12 + US)
    assert m["ae_over_12h_in_department"] == 1
    assert m["ae_mh_over_12h_in_department"] == 1


def test_mental_health_over_12h_counts_only_mental_health_patients() -> None:
    events = [
        arrival("mh", T0, mental_health=True),
        arrival("other", T0),
        arrival("mh-recent", T0 + timedelta(hours=10), mental_health=True),
    ]
    m = site_metrics(events, T0 + timedelta(hours=13))
    assert m["ae_in_department"] == 3
    assert m["ae_over_12h_in_department"] == 2
    assert m["ae_mh_over_12h_in_department"] == 1


def test_waiting_after_dta() -> None:
    events = [
        arrival("a", T0),
        dta("a", T0 + timedelta(hours=1)),
        arrival("b", T0),
    ]
    m = site_metrics(events, T0 + timedelta(hours=2))
    assert m["ae_in_department"] == 2
    assert m["ae_waiting_after_dta"] == 1
    assert m["ae_over_12h_after_dta"] == 0


def test_dta_exactly_12h_ago_is_not_over_12h_after_dta() -> None:
    events = [arrival("a", T0), dta("a", T0 + timedelta(hours=1))]
    m = site_metrics(events, T0 + timedelta(hours=1) + H12)
    assert m["ae_waiting_after_dta"] == 1
    assert m["ae_over_12h_after_dta"] == 0


def test_dta_just_over_12h_ago_is_over_12h_after_dta() -> None:
    events = [arrival("a", T0), dta("a", T0 + timedelta(hours=1))]
    m = site_metrics(events, T0 + timedelta(hours=1) + H12 + US)
    assert m["ae_over_12h_after_dta"] == 1


def test_departed_after_dta_is_no_longer_waiting() -> None:
    events = [
        arrival("a", T0),
        dta("a", T0 + timedelta(hours=1)),
        departure("a", T0 + timedelta(hours=2), outcome="admitted"),
    ]
    m = site_metrics(events, T0 + timedelta(hours=20))
    assert m["ae_waiting_after_dta"] == 0
    assert m["ae_over_12h_after_dta"] == 0


# --- departures today -----------------------------------------------------------------------


def test_no_departures_gives_none_ratios() -> None:
    m = empty_metrics()
    assert m["ae_departures_today"] == 0
    assert m["ae_4h_performance_today"] is None
    assert m["ae_type1_4h_performance_today"] is None
    assert m["ae_4h_performance_month"] is None
    assert m["ae_over_12h_today"] == 0
    assert m["ae_mh_departures_today"] == 0
    assert m["ae_mh_over_12h_today"] == 0
    assert m["ae_12h_trolley_waits_today"] == 0


def test_departure_exactly_4h_after_arrival_is_within_4h() -> None:
    events = [arrival("a", T0), departure("a", T0 + H4)]
    m = site_metrics(events, T0 + H4)
    assert m["ae_departures_today"] == 1
    assert m["ae_4h_performance_today"] == 1.0
    assert m["ae_type1_4h_performance_today"] == 1.0
    assert m["ae_4h_performance_month"] == 1.0


def test_departure_4h_and_1us_after_arrival_is_not_within_4h() -> None:
    events = [arrival("a", T0), departure("a", T0 + H4 + US)]
    m = site_metrics(events, T0 + H4 + US)
    assert m["ae_departures_today"] == 1
    assert m["ae_4h_performance_today"] == 0.0
    assert m["ae_type1_4h_performance_today"] == 0.0
    assert m["ae_4h_performance_month"] == 0.0


def test_four_hour_performance_is_a_share_of_departures() -> None:
    events = [
        arrival("a", T0),
        departure("a", T0 + timedelta(hours=1)),
        arrival("b", T0),
        departure("b", T0 + timedelta(hours=3)),
        arrival("c", T0),
        departure("c", T0 + timedelta(hours=5)),
        arrival("d", T0),
        departure("d", T0 + timedelta(hours=6)),
        arrival("still-here", T0),
    ]
    m = site_metrics(events, T0 + timedelta(hours=7))
    assert m["ae_departures_today"] == 4
    assert m["ae_4h_performance_today"] == pytest.approx(0.5)


def test_type1_performance_counts_only_type1_departures() -> None:
    events = [
        arrival("t1-slow", T0, department_type=1),
        departure("t1-slow", T0 + timedelta(hours=5)),
        arrival("t3-quick", T0, department_type=3),
        departure("t3-quick", T0 + timedelta(hours=1)),
        arrival("t2-quick", T0, department_type=2),
        departure("t2-quick", T0 + timedelta(hours=1)),
        arrival("t1-quick", T0),  # type 1 by default
        departure("t1-quick", T0 + timedelta(hours=2)),
    ]
    m = site_metrics(events, T0 + timedelta(hours=6))
    assert m["ae_departures_today"] == 4
    assert m["ae_4h_performance_today"] == pytest.approx(0.75)
    assert m["ae_type1_4h_performance_today"] == pytest.approx(0.5)


def test_type1_performance_is_none_without_type1_departures() -> None:
    events = [arrival("a", T0, department_type=3), departure("a", T0 + timedelta(hours=1))]
    m = site_metrics(events, T0 + timedelta(hours=2))
    assert m["ae_4h_performance_today"] == 1.0
    assert m["ae_type1_4h_performance_today"] is None


def test_departure_exactly_12h_after_arrival_is_not_over_12h() -> None:
    events = [arrival("a", T0, mental_health=True), departure("a", T0 + H12)]
    m = site_metrics(events, T0 + H12)
    assert m["ae_over_12h_today"] == 0
    assert m["ae_mh_departures_today"] == 1
    assert m["ae_mh_over_12h_today"] == 0


def test_departure_just_over_12h_after_arrival_is_over_12h() -> None:
    events = [arrival("a", T0, mental_health=True), departure("a", T0 + H12 + US)]
    m = site_metrics(events, T0 + H12 + US)
    assert m["ae_over_12h_today"] == 1
    assert m["ae_mh_departures_today"] == 1
    assert m["ae_mh_over_12h_today"] == 1


def test_mental_health_departures_count_only_mental_health_patients() -> None:
    events = [
        arrival("mh", T0, mental_health=True),
        departure("mh", T0 + timedelta(hours=1)),
        arrival("other", T0),
        departure("other", T0 + timedelta(hours=13)),
    ]
    m = site_metrics(events, T0 + timedelta(hours=14))
    assert m["ae_departures_today"] == 2
    assert m["ae_mh_departures_today"] == 1
    assert m["ae_over_12h_today"] == 1
    assert m["ae_mh_over_12h_today"] == 0


# --- 12-hour trolley waits -------------------------------------------------------------------


def test_trolley_wait_exactly_12h_after_dta_is_not_counted() -> None:
    events = [
        arrival("a", T0),
        dta("a", T0 + timedelta(hours=1)),
        departure("a", T0 + timedelta(hours=1) + H12, outcome="admitted"),
    ]
    m = site_metrics(events, T0 + timedelta(hours=14))
    assert m["ae_12h_trolley_waits_today"] == 0
    assert m["ae_over_12h_today"] == 1  # 13 h in the department


def test_trolley_wait_just_over_12h_after_dta_is_counted() -> None:
    events = [
        arrival("a", T0),
        dta("a", T0 + timedelta(hours=1)),
        departure("a", T0 + timedelta(hours=1) + H12 + US, outcome="admitted"),
    ]
    m = site_metrics(events, T0 + timedelta(hours=14))
    assert m["ae_12h_trolley_waits_today"] == 1


@pytest.mark.parametrize("outcome", ["discharged", "transferred", "left_before_treatment", "other"])
def test_trolley_wait_needs_outcome_admitted(outcome: str) -> None:
    events = [
        arrival("a", T0),
        dta("a", T0 + timedelta(hours=1)),
        departure("a", T0 + timedelta(hours=15), outcome=outcome),
    ]
    m = site_metrics(events, T0 + timedelta(hours=16))
    assert m["ae_12h_trolley_waits_today"] == 0
    assert m["ae_over_12h_today"] == 1


def test_trolley_wait_needs_a_decision_to_admit() -> None:
    events = [arrival("a", T0), departure("a", T0 + timedelta(hours=15), outcome="admitted")]
    m = site_metrics(events, T0 + timedelta(hours=16))
    assert m["ae_12h_trolley_waits_today"] == 0
    assert m["ae_over_12h_today"] == 1


def test_trolley_wait_is_measured_from_dta_not_arrival() -> None:
    # 15 h in the department, but only 10 h since the decision to admit.
    events = [
        arrival("a", T0),
        dta("a", T0 + timedelta(hours=5)),
        departure("a", T0 + timedelta(hours=15), outcome="admitted"),
    ]
    m = site_metrics(events, T0 + timedelta(hours=16))
    assert m["ae_12h_trolley_waits_today"] == 0
    assert m["ae_over_12h_today"] == 1


# --- held attendances -----------------------------------------------------------------------


def test_departure_without_arrival_is_held() -> None:
    m = site_metrics([departure("a", T0 + timedelta(hours=1))], T0 + timedelta(hours=2))
    assert m["ae_departures_today"] == 0
    assert m["ae_4h_performance_today"] is None
    assert m["ae_4h_performance_month"] is None
    assert m["ae_in_department"] == 0


def test_dta_without_arrival_is_held() -> None:
    m = site_metrics([dta("a", T0 + timedelta(hours=1))], T0 + timedelta(hours=2))
    assert m["ae_waiting_after_dta"] == 0
    assert m["ae_in_department"] == 0
    assert m["ae_longest_wait_minutes"] is None


def test_held_departure_counts_once_its_arrival_arrives() -> None:
    state = state_of([departure("a", T0 + timedelta(hours=5))])
    as_of = T0 + timedelta(hours=6)
    assert state.snapshot(as_of).site("R1H12")["ae_departures_today"] == 0
    assert state.apply(arrival("a", T0)) is Outcome.APPLIED
    m = state.snapshot(as_of).site("R1H12")
    assert m["ae_departures_today"] == 1
    assert m["ae_4h_performance_today"] == 0.0
    assert m["ae_in_department"] == 0


def test_held_dta_counts_once_its_arrival_arrives() -> None:
    state = state_of([dta("a", T0 + timedelta(hours=1))])
    as_of = T0 + timedelta(hours=2)
    assert state.snapshot(as_of).site("R1H12")["ae_waiting_after_dta"] == 0
    state.apply(arrival("a", T0))
    m = state.snapshot(as_of).site("R1H12")
    assert m["ae_waiting_after_dta"] == 1
    assert m["ae_in_department"] == 1


def test_held_trolley_wait_counts_once_its_arrival_arrives() -> None:
    state = state_of(
        [
            dta("a", T0 + timedelta(hours=1)),
            departure("a", T0 + timedelta(hours=14), outcome="admitted"),
        ]
    )
    as_of = T0 + timedelta(hours=15)
    assert state.snapshot(as_of).site("R1H12")["ae_12h_trolley_waits_today"] == 0
    state.apply(arrival("a", T0))
    assert state.snapshot(as_of).site("R1H12")["ae_12h_trolley_waits_today"] == 1


# --- events after T, order of delivery, duplicates ------------------------------------------


def test_arrival_after_t_does_not_count() -> None:
    m = site_metrics([arrival("a", T0 + timedelta(hours=1))], T0)
    assert m["ae_in_department"] == 0
    assert m["ae_longest_wait_minutes"] is None


def test_arrival_after_t_holds_its_departure() -> None:
    # Departure is before T but its arrival is after T: as of T the attendance is not known.
    events = [arrival("a", T0 + timedelta(hours=2)), departure("a", T0)]
    m = site_metrics(events, T0 + timedelta(hours=1))
    assert m["ae_departures_today"] == 0
    assert m["ae_in_department"] == 0


def test_dta_after_t_does_not_count() -> None:
    events = [arrival("a", T0), dta("a", T0 + timedelta(hours=2))]
    m = site_metrics(events, T0 + timedelta(hours=1))
    assert m["ae_in_department"] == 1
    assert m["ae_waiting_after_dta"] == 0


def test_departure_after_t_does_not_count() -> None:
    events = [arrival("a", T0), departure("a", T0 + timedelta(hours=2))]
    m = site_metrics(events, T0 + timedelta(hours=1))
    assert m["ae_in_department"] == 1
    assert m["ae_departures_today"] == 0
    assert m["ae_4h_performance_today"] is None


def test_trolley_wait_needs_dta_at_or_before_t() -> None:
    events = [
        arrival("a", T0),
        dta("a", T0 + timedelta(hours=1)),
        departure("a", T0 + timedelta(hours=14), outcome="admitted"),
    ]
    before = site_metrics(events, T0 + timedelta(hours=13))
    assert before["ae_12h_trolley_waits_today"] == 0
    assert before["ae_in_department"] == 1
    assert before["ae_over_12h_after_dta"] == 0
    after = site_metrics(events, T0 + timedelta(hours=14))
    assert after["ae_12h_trolley_waits_today"] == 1


def test_order_of_delivery_does_not_matter() -> None:
    events = [
        arrival("a", T0, mental_health=True),
        dta("a", T0 + timedelta(hours=2)),
        departure("a", T0 + timedelta(hours=15), outcome="admitted"),
        arrival("b", T0 + timedelta(hours=1)),
        departure("b", T0 + timedelta(hours=3)),
        arrival("c", T0 + timedelta(hours=2)),
        dta("c", T0 + timedelta(hours=3)),
    ]
    as_of = T0 + timedelta(hours=16)
    forwards = site_metrics(events, as_of)
    backwards = site_metrics(list(reversed(events)), as_of)
    assert forwards == backwards
    assert forwards["ae_departures_today"] == 2
    assert forwards["ae_12h_trolley_waits_today"] == 1
    assert forwards["ae_waiting_after_dta"] == 1


def test_duplicate_event_id_is_ignored() -> None:
    state = FlowState(REGISTRY, horizon=None)
    assert state.apply(arrival("a", T0, event_id="same")) is Outcome.APPLIED
    assert state.apply(arrival("a", T0, event_id="same")) is Outcome.DUPLICATE
    # A different event with an id already seen is a duplicate too, and ignored.
    assert state.apply(arrival("b", T0, event_id="same")) is Outcome.DUPLICATE
    assert state.apply(departure("a", T0 + timedelta(hours=1), event_id="same")) is (
        Outcome.DUPLICATE
    )
    m = state.snapshot(T0 + timedelta(hours=2)).site("R1H12")
    assert m["ae_in_department"] == 1
    assert m["ae_departures_today"] == 0


def test_replayed_stream_counts_once() -> None:
    events = [arrival("a", T0), departure("a", T0 + timedelta(hours=1))]
    state = FlowState(REGISTRY, horizon=None)
    for event in events + events:
        state.apply(event)
    m = state.snapshot(T0 + timedelta(hours=2)).site("R1H12")
    assert m["ae_departures_today"] == 1


def test_until_ignores_later_events() -> None:
    until = T0 + timedelta(hours=2)
    state = FlowState(REGISTRY, horizon=None, until=until)
    assert state.apply(arrival("a", T0)) is Outcome.APPLIED
    assert state.apply(departure("a", until)) is Outcome.APPLIED
    assert state.apply(arrival("b", T0)) is Outcome.APPLIED
    assert state.apply(departure("b", until + US)) is Outcome.AFTER_AS_OF
    assert state.apply(arrival("c", until + US)) is Outcome.AFTER_AS_OF
    m = state.snapshot(until + timedelta(hours=5)).site("R1H12")
    assert m["ae_departures_today"] == 1
    assert m["ae_in_department"] == 1  # b: its departure came after `until`


def test_same_attendance_id_at_two_sites_is_two_attendances() -> None:
    events = [
        arrival("a", T0, site="R1H12"),
        arrival("a", T0, site="RF4QH"),
        departure("a", T0 + timedelta(hours=1), site="R1H12"),
    ]
    snap = state_of(events).snapshot(T0 + timedelta(hours=2))
    assert snap.site("R1H12")["ae_in_department"] == 0
    assert snap.site("R1H12")["ae_departures_today"] == 1
    assert snap.site("RF4QH")["ae_in_department"] == 1
    assert snap.site("RF4QH")["ae_departures_today"] == 0


def test_events_of_one_site_do_not_count_at_another() -> None:
    snap = state_of([arrival("a", T0, site="RQXM1")]).snapshot(T0 + timedelta(hours=1))
    assert snap.site("RQXM1")["ae_in_department"] == 1
    for code in REGISTRY.sites:
        if code != "RQXM1":
            assert snap.site(code)["ae_in_department"] == 0


# --- conflicting events as of T ---------------------------------------------------------------
# A replay "as of T" never applies events after T (until=T), so the earlier of two conflicting
# events is the one in force. The live state keeps only the winning event of each kind, so it
# answers "as of now", not "as of a moment before a later correction" (documented limitation).


def replayed_as_of(events: list[Event], t: datetime) -> dict[str, int | float | None]:
    state = FlowState(REGISTRY, horizon=None, until=t)
    for event in events:
        state.apply(event)
    return state.snapshot(t).site("R1H12")


def test_departure_at_or_before_t_counts_even_if_a_later_correction_exists() -> None:
    events = [
        arrival("a", T0),
        departure("a", T0 + timedelta(hours=3), outcome="admitted"),  # after T: not yet seen
        departure("a", T0 + timedelta(hours=1), outcome="discharged"),
    ]
    m = replayed_as_of(events, T0 + timedelta(hours=2))
    assert m["ae_in_department"] == 0
    assert m["ae_departures_today"] == 1


def test_dta_at_or_before_t_counts_even_if_a_later_correction_exists() -> None:
    events = [
        arrival("a", T0),
        dta("a", T0 + timedelta(hours=3)),  # after T: not yet seen
        dta("a", T0 + timedelta(hours=1)),
    ]
    m = replayed_as_of(events, T0 + timedelta(hours=2))
    assert m["ae_in_department"] == 1
    assert m["ae_waiting_after_dta"] == 1


# --- two events of one kind for one attendance: the latest wins -----------------------------


def test_two_arrivals_the_latest_wins() -> None:
    events = [
        arrival("a", T0, event_id="arr-1", department_type=3),
        arrival("a", T0 + timedelta(hours=1), event_id="arr-2", mental_health=True),
    ]
    as_of = T0 + timedelta(hours=14)
    for order in (events, list(reversed(events))):
        m = site_metrics(order, as_of)
        assert m["ae_in_department"] == 1
        assert m["ae_longest_wait_minutes"] == pytest.approx(13 * 60)
        assert m["ae_mh_over_12h_in_department"] == 1


def test_two_arrivals_at_the_same_instant_the_greater_event_id_wins() -> None:
    events = [
        arrival("a", T0, event_id="arr-b", department_type=3),
        arrival("a", T0, event_id="arr-a", department_type=1),
        departure("a", T0 + timedelta(hours=1)),
    ]
    for order in (events, list(reversed(events))):
        m = site_metrics(order, T0 + timedelta(hours=2))
        assert m["ae_departures_today"] == 1
        assert m["ae_4h_performance_today"] == 1.0
        assert m["ae_type1_4h_performance_today"] is None  # arr-b says type 3


def test_two_departures_the_latest_wins() -> None:
    events = [
        arrival("a", T0),
        dta("a", T0 + timedelta(hours=1)),
        departure("a", T0 + timedelta(hours=14), outcome="discharged"),
        departure("a", T0 + timedelta(hours=15), outcome="admitted"),
    ]
    as_of = T0 + timedelta(hours=16)
    for order in (events, list(reversed(events))):
        m = site_metrics(order, as_of)
        assert m["ae_departures_today"] == 1
        assert m["ae_12h_trolley_waits_today"] == 1


# --- arrivals, and the share of the department past 4 and 12 hours -------------------------


def test_arrivals_today_count_every_arrival_of_the_london_day_up_to_t() -> None:
    events = [
        arrival("yesterday", at("2025-01-14T23:59:59.999999Z")),
        arrival("midnight", at("2025-01-15T00:00:00Z")),
        arrival("gone", T0, department_type=3),
        departure("gone", T0 + timedelta(minutes=30)),
        arrival("at-t", T0 + H4),
        arrival("after-t", T0 + H4 + US),
    ]
    assert site_metrics(events, T0 + H4)["ae_arrivals_today"] == 3


def test_an_arrival_exactly_one_hour_before_t_is_not_in_the_last_hour() -> None:
    one_hour = timedelta(hours=1)
    events = [
        arrival("on-the-line", T0 - one_hour),
        arrival("just-inside", T0 - one_hour + US),
        arrival("at-t", T0),
        departure("just-inside", T0 - timedelta(minutes=5)),
    ]
    m = site_metrics(events, T0)
    assert m["ae_arrivals_last_hour"] == 2
    assert site_metrics(events, T0 - US)["ae_arrivals_last_hour"] == 2  # on-the-line, inside


def test_in_department_exactly_4h_is_not_over_4h() -> None:
    events = [arrival("a", T0), arrival("b", T0 - US), arrival("c", T0 + timedelta(hours=3))]
    m = site_metrics(events, T0 + H4)
    assert m["ae_over_4h_in_department"] == 1
    assert m["ae_over_4h_in_department_rate"] == pytest.approx(1 / 3)
    assert m["ae_over_12h_in_department_rate"] == 0


def test_over_12h_share_of_the_department() -> None:
    events = [arrival("a", T0), arrival("b", T0 - US), departure("a", T0 + H12 + US)]
    m = site_metrics(events, T0 + H12)
    assert m["ae_over_12h_in_department"] == 1
    assert m["ae_over_12h_in_department_rate"] == pytest.approx(0.5)
    assert m["ae_over_4h_in_department_rate"] == 1


def test_shares_of_an_empty_department_are_none() -> None:
    m = empty_metrics()
    assert m["ae_over_4h_in_department_rate"] is None
    assert m["ae_over_12h_in_department_rate"] is None
    assert m["ae_over_12h_today_rate"] is None


def test_over_12h_today_rate_is_a_share_of_todays_departures() -> None:
    events = [
        arrival("long", T0),
        departure("long", T0 + H12 + US),
        arrival("exactly", T0 + US),
        departure("exactly", T0 + US + H12),
        arrival("short", T0 + timedelta(hours=2)),
        departure("short", T0 + timedelta(hours=3)),
    ]
    m = site_metrics(events, T0 + timedelta(hours=13))
    assert m["ae_over_12h_today"] == 1
    assert m["ae_over_12h_today_rate"] == pytest.approx(1 / 3)


@pytest.mark.parametrize(
    ("after_dta", "counted"),
    [(H4, 0), (H4 + US, 1), (H12, 1), (H12 + US, 0)],
)
def test_admitted_4_to_12h_after_dta_counts_over_4h_and_up_to_12h(
    after_dta: timedelta, counted: int
) -> None:
    events = [
        arrival("a", T0),
        dta("a", T0 + timedelta(minutes=30)),
        departure("a", T0 + timedelta(minutes=30) + after_dta, outcome="admitted"),
    ]
    m = site_metrics(events, T0 + timedelta(hours=14))
    assert m["ae_dta_4_to_12h_today"] == counted


def test_4_to_12h_after_dta_needs_admission() -> None:
    events = [
        arrival("a", T0),
        dta("a", T0 + timedelta(minutes=30)),
        departure("a", T0 + timedelta(hours=6), outcome="transferred"),
    ]
    assert site_metrics(events, T0 + timedelta(hours=7))["ae_dta_4_to_12h_today"] == 0
