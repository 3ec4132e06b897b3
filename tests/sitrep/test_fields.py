"""The sitrep's fields and the instants they are read at, on ordinary and clock-change days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from sitrep.fields import FIELDS, Instants, metrics_read, row
from streams.core.metrics import METRIC
from tests.events_builder import ambulance_arrival, ambulance_handover, at, state_of, ward


@pytest.mark.parametrize(
    ("day", "beds", "day_end"),
    [
        # Beds at 08:00 London on the day of reporting; the day's counts to its last instant.
        (date(2025, 11, 20), "2025-11-21T08:00:00+00:00", "2025-11-20T23:59:59.999999+00:00"),
        # The clocks go forward on 30 March 2025: 08:00 BST is 07:00 UTC.
        (date(2025, 3, 29), "2025-03-30T07:00:00+00:00", "2025-03-29T23:59:59.999999+00:00"),
        (date(2025, 3, 30), "2025-03-31T07:00:00+00:00", "2025-03-30T22:59:59.999999+00:00"),
        # Back on 26 October 2025: that day has 25 hours and ends at 23:59:59 GMT.
        (date(2025, 10, 25), "2025-10-26T08:00:00+00:00", "2025-10-25T22:59:59.999999+00:00"),
        (date(2025, 10, 26), "2025-10-27T08:00:00+00:00", "2025-10-26T23:59:59.999999+00:00"),
    ],
)
def test_a_day_is_read_at_its_end_and_its_beds_at_eight_the_morning_after(
    day: date, beds: str, day_end: str
) -> None:
    instants = Instants(day)
    assert instants.beds.astimezone(UTC) == datetime.fromisoformat(beds)
    assert instants.day_end.astimezone(UTC) == datetime.fromisoformat(day_end)


def test_every_field_is_filled_from_counts_or_says_why_not() -> None:
    assert len({field.name for field in FIELDS}) == len(FIELDS)
    for field in FIELDS:
        assert field.filled != bool(field.why_not), field.name
        assert all(METRIC[name].unit == "count" for name in field.metrics), field.name
    assert metrics_read("beds") == (
        "ga_beds_open", "ga_beds_occupied", "cc_beds_open", "cc_beds_occupied"
    )  # fmt: skip


def test_handover_delays_fall_in_one_band_each_with_the_edges_as_the_sitrep_has_them() -> None:
    """30 minutes exactly is no delay; 60 exactly is in 30-60; a second over 60 is over 60."""
    t0 = at("2025-11-20T10:00:00Z")
    minutes = [29, 30, 31, 60, 61]
    events = []
    for number, waited in enumerate(minutes):
        start = t0 + timedelta(minutes=number)
        events += [
            ambulance_arrival(f"h{number}", start),
            ambulance_handover(f"h{number}", start + timedelta(minutes=waited)),
        ]
    events.append(ward("W1", t0, beds_open_core=10, beds_occupied=9))
    instants = Instants(date(2025, 11, 20))
    state = state_of(events)
    beds = state.snapshot(instants.beds).site("R1H12")
    figures = row(beds, state.snapshot(instants.day_end).site("R1H12"))
    assert figures["Arriving by ambulance"] == 5
    assert figures["Delay 30-60 mins"] == 2
    assert figures["Delay >60 mins"] == 1
    assert (figures["Adult G&A Beds Open"], figures["Adult G&A beds occ'd"]) == (10, 9)
    assert figures["Paeds G&A Beds Open"] is None
