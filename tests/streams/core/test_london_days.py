"""'Today' and 'this month' are Europe/London calendar periods containing T, DST-correct."""

from __future__ import annotations

from datetime import timedelta

import pytest

from events import Event
from tests.events_builder import (
    ambulance_arrival,
    ambulance_handover,
    arrival,
    at,
    departure,
    site_metrics,
)


def departed(when: str, name: str = "a", took: timedelta = timedelta(hours=1)) -> list[Event]:
    moment = at(when)
    return [arrival(name, moment - took), departure(name, moment)]


def handed_over(when: str, name: str = "h") -> list[Event]:
    moment = at(when)
    return [
        ambulance_arrival(name, moment - timedelta(minutes=20)),
        ambulance_handover(name, moment),
    ]


def today(events: list, as_of: str) -> int | float | None:  # type: ignore[type-arg]
    return site_metrics(events, at(as_of))["ae_departures_today"]


def month(events: list, as_of: str) -> int | float | None:  # type: ignore[type-arg]
    return site_metrics(events, at(as_of))["ae_4h_performance_month"]


# --- winter: London is UTC -------------------------------------------------------------------


def test_winter_day_is_the_utc_day() -> None:
    events = departed("2025-01-15T00:00:00Z", "first") + departed("2025-01-15T23:59:59Z", "last")
    assert today(events, "2025-01-15T23:59:59.999999Z") == 2
    assert today(events, "2025-01-16T00:00:00Z") == 0


def test_departure_yesterday_does_not_count_today() -> None:
    events = departed("2025-01-14T23:59:59.999999Z")
    assert today(events, "2025-01-15T00:00:00Z") == 0
    assert today(events, "2025-01-14T23:59:59.999999Z") == 1


# --- summer: London is UTC+1 -----------------------------------------------------------------


def test_summer_day_starts_at_23_utc_the_evening_before() -> None:
    # 2025-07-14T23:30Z is 00:30 BST on 15 July.
    events = departed("2025-07-14T23:30:00Z")
    assert today(events, "2025-07-15T12:00:00Z") == 1
    assert today(events, "2025-07-14T23:30:00Z") == 1
    # 2025-07-14T22:30Z is 23:30 BST on 14 July: not 15 July.
    assert today(departed("2025-07-14T22:30:00Z"), "2025-07-15T12:00:00Z") == 0


def test_summer_day_ends_at_23_utc() -> None:
    events = departed("2025-07-15T22:59:59Z")
    assert today(events, "2025-07-15T22:59:59.999999Z") == 1
    assert today(events, "2025-07-15T23:00:00Z") == 0  # T is 00:00 BST 16 July


# --- 2025-03-30: clocks go forward, the day is 23 hours ------------------------------------


def test_spring_forward_day_boundaries() -> None:
    # 30 March London runs from 00:00Z (00:00 GMT) to 23:00Z (00:00 BST on 31 March).
    events = (
        departed("2025-03-29T23:59:00Z", "before")  # 23:59 GMT on 29 March
        + departed("2025-03-30T00:00:00Z", "first")  # 00:00 GMT on 30 March
        + departed("2025-03-30T00:59:59Z", "before-change")  # 00:59 GMT
        + departed("2025-03-30T01:00:00Z", "after-change")  # 02:00 BST
        + departed("2025-03-30T22:59:59Z", "last")  # 23:59:59 BST on 30 March
        + departed("2025-03-30T23:00:00Z", "next")  # 00:00 BST on 31 March
    )
    assert today(events, "2025-03-30T22:59:59.999999Z") == 4
    assert today(events, "2025-03-30T23:00:00Z") == 1
    assert today(events, "2025-03-30T23:30:00Z") == 1


def test_spring_forward_departure_at_2330z_is_the_next_london_day() -> None:
    events = departed("2025-03-30T23:30:00Z")  # 00:30 BST on 31 March
    assert today(events, "2025-03-30T23:45:00Z") == 1
    assert today(events, "2025-03-31T12:00:00Z") == 1
    assert today(departed("2025-03-30T22:30:00Z"), "2025-03-30T23:45:00Z") == 0


def test_spring_forward_day_handovers() -> None:
    events = (
        handed_over("2025-03-30T00:10:00Z", "early")
        + handed_over("2025-03-30T22:50:00Z", "late")
        + handed_over("2025-03-30T23:10:00Z", "next-day")
    )
    m = site_metrics(events, at("2025-03-30T22:59:00Z"))
    assert m["handovers_today"] == 2
    m = site_metrics(events, at("2025-03-30T23:59:00Z"))
    assert m["handovers_today"] == 1


# --- 2025-10-26: clocks go back, the day is 25 hours ----------------------------------------


def test_fall_back_departure_at_2330z_on_25th_is_on_26th() -> None:
    # BST ends at 01:00Z on 26 October: 23:30Z on 25 October is 00:30 BST on 26 October.
    events = departed("2025-10-25T23:30:00Z")
    assert today(events, "2025-10-26T12:00:00Z") == 1
    assert today(events, "2025-10-25T23:30:00Z") == 1


def test_fall_back_day_boundaries() -> None:
    # 26 October London runs from 2025-10-25T23:00Z to 2025-10-27T00:00Z: 25 hours.
    events = (
        departed("2025-10-25T22:59:59Z", "before")  # 23:59:59 BST on 25 October
        + departed("2025-10-25T23:00:00Z", "first")  # 00:00 BST on 26 October
        + departed("2025-10-26T00:30:00Z", "first-0130")  # 01:30 BST
        + departed("2025-10-26T01:30:00Z", "second-0130")  # 01:30 GMT
        + departed("2025-10-26T23:59:59Z", "last")  # 23:59:59 GMT on 26 October
        + departed("2025-10-27T00:00:00Z", "next")  # 00:00 GMT on 27 October
    )
    assert today(events, "2025-10-26T23:59:59.999999Z") == 4
    assert today(events, "2025-10-27T00:00:00Z") == 1
    assert today(events, "2025-10-25T22:59:59.999999Z") == 1


def test_fall_back_day_handovers() -> None:
    events = (
        handed_over("2025-10-25T23:10:00Z", "first")
        + handed_over("2025-10-26T23:50:00Z", "last")
        + handed_over("2025-10-25T22:50:00Z", "day-before")
    )
    m = site_metrics(events, at("2025-10-26T23:55:00Z"))
    assert m["handovers_today"] == 2


def test_today_ratio_recomputed_over_25_hour_day() -> None:
    events = departed("2025-10-25T23:30:00Z", "quick", took=timedelta(hours=1)) + departed(
        "2025-10-26T23:30:00Z", "slow", took=timedelta(hours=5)
    )
    m = site_metrics(events, at("2025-10-26T23:45:00Z"))
    assert m["ae_departures_today"] == 2
    assert m["ae_4h_performance_today"] == pytest.approx(0.5)


# --- months ---------------------------------------------------------------------------------


def test_departure_at_2330z_on_30_april_counts_in_may() -> None:
    # 2025-04-30T23:30Z is 00:30 BST on 1 May.
    events = departed("2025-04-30T23:30:00Z", "may", took=timedelta(hours=5))
    assert month(events, "2025-05-01T10:00:00Z") == 0.0
    assert today(events, "2025-05-01T10:00:00Z") == 1
    assert month(events, "2025-05-31T22:59:59Z") == 0.0  # still May in London
    assert month(events, "2025-05-31T23:00:00Z") is None  # 00:00 BST 1 June


def test_month_excludes_departures_of_the_previous_london_month() -> None:
    events = (
        departed("2025-04-30T22:30:00Z", "april", took=timedelta(hours=5))  # 23:30 BST 30 Apr
        + departed("2025-04-30T23:30:00Z", "may", took=timedelta(hours=1))  # 00:30 BST 1 May
    )
    assert month(events, "2025-05-01T10:00:00Z") == 1.0
    assert month(events, "2025-04-30T22:45:00Z") == 0.0  # April as of 23:45 BST 30 April


def test_departure_at_2330z_on_31_march_counts_in_april() -> None:
    # 2025-03-31T23:30Z is 00:30 BST on 1 April; 22:30Z is 23:30 BST on 31 March.
    events = departed("2025-03-31T23:30:00Z", "april", took=timedelta(hours=1)) + departed(
        "2025-03-31T22:30:00Z", "march", took=timedelta(hours=5)
    )
    assert month(events, "2025-04-15T12:00:00Z") == 1.0
    assert month(events, "2025-03-31T22:45:00Z") == 0.0


def test_month_covers_departures_of_every_day_so_far() -> None:
    events = (
        departed("2025-05-01T08:00:00Z", "d1", took=timedelta(hours=1))
        + departed("2025-05-10T08:00:00Z", "d10", took=timedelta(hours=6))
        + departed("2025-05-20T08:00:00Z", "d20", took=timedelta(hours=2))
        + departed("2025-05-20T12:00:00Z", "later-today", took=timedelta(hours=9))
        + departed("2025-05-25T08:00:00Z", "future", took=timedelta(hours=9))
    )
    m = site_metrics(events, at("2025-05-20T10:00:00Z"))
    assert m["ae_departures_today"] == 1
    assert m["ae_4h_performance_month"] == pytest.approx(2 / 3)


def test_month_with_no_departures_yet_is_none() -> None:
    events = departed("2025-05-31T12:00:00Z")
    assert month(events, "2025-06-01T00:00:00Z") is None  # 01:00 BST on 1 June


def test_month_across_the_year_end() -> None:
    events = departed("2024-12-31T23:30:00Z", "dec") + departed(
        "2025-01-01T00:30:00Z", "jan", took=timedelta(hours=5)
    )
    assert month(events, "2025-01-01T12:00:00Z") == 0.0
    assert month(events, "2024-12-31T23:45:00Z") == 1.0


def test_same_month_of_another_year_does_not_count() -> None:
    events = departed("2024-05-15T08:00:00Z", "last-year")
    assert month(events, "2025-05-20T10:00:00Z") is None


# --- arrivals count by the London day of the arrival, on the clock-change days too -------------


def arrivals(as_of: str, *moments: str) -> tuple[object, object, object]:
    events = [arrival(f"a{n}", at(when)) for n, when in enumerate(moments)]
    events += [ambulance_arrival(f"h{n}", at(when)) for n, when in enumerate(moments)]
    m = site_metrics(events, at(as_of))
    return m["ae_arrivals_today"], m["ambulance_arrivals_today"], m["ae_arrivals_last_hour"]


def test_spring_forward_day_arrivals_are_those_of_its_23_hours() -> None:
    # 30 March 2025 London runs from 00:00Z to 23:00Z: an hour is missing at 01:00 GMT.
    moments = (
        "2025-03-29T23:59:59Z",  # 23:59:59 GMT on 29 March
        "2025-03-30T00:00:00Z",  # 00:00 GMT on 30 March
        "2025-03-30T01:00:00Z",  # 02:00 BST
        "2025-03-30T22:59:59Z",  # 23:59:59 BST
        "2025-03-30T23:00:00Z",  # 00:00 BST on 31 March
    )
    assert arrivals("2025-03-30T22:59:59.999999Z", *moments)[:2] == (3, 3)
    assert arrivals("2025-03-30T23:00:00Z", *moments)[:2] == (1, 1)


def test_fall_back_day_arrivals_are_those_of_its_25_hours_and_the_last_hour_is_60_minutes() -> None:
    # 26 October 2025 London runs from 2025-10-25T23:00Z to 2025-10-27T00:00Z.
    moments = (
        "2025-10-25T22:59:59Z",  # 23:59:59 BST on 25 October
        "2025-10-25T23:00:00Z",  # 00:00 BST on 26 October
        "2025-10-26T00:30:00Z",  # 01:30 BST
        "2025-10-26T01:30:00Z",  # 01:30 GMT, an hour later
        "2025-10-26T23:59:59Z",  # 23:59:59 GMT on 26 October
    )
    assert arrivals("2025-10-26T23:59:59.999999Z", *moments)[:2] == (4, 4)
    # At 02:00 GMT the last hour holds 01:30 GMT only: 01:30 BST was an hour and a half ago.
    assert arrivals("2025-10-26T02:00:00Z", *moments) == (3, 3, 1)
