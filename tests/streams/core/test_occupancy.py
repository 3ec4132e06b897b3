"""Adult G&A bed metrics from each ward's latest snapshot."""

from __future__ import annotations

from datetime import timedelta

import pytest

from streams.core.flow import FlowState, Outcome
from tests.events_builder import REGISTRY, at, site_metrics, state_of, ward

T0 = at("2025-01-15T08:00:00Z")
US = timedelta(microseconds=1)
BED_METRICS = ("ga_beds_open", "ga_beds_occupied", "ga_occupancy", "nctr_patients", "mffd_rate")


def beds(m: dict[str, int | float | None]) -> tuple[object, ...]:
    return tuple(m[name] for name in BED_METRICS)


def test_no_wards_gives_zero_counts_and_none_ratios() -> None:
    assert beds(site_metrics([], T0)) == (0, 0, None, 0, None)


def test_one_ward() -> None:
    events = [ward("W1", T0, beds_open_core=20, beds_occupied=18, nctr=3)]
    m = site_metrics(events, T0)
    assert m["ga_beds_open"] == 20
    assert m["ga_beds_occupied"] == 18
    assert m["ga_occupancy"] == pytest.approx(0.9)
    assert m["nctr_patients"] == 3
    assert m["mffd_rate"] == pytest.approx(3 / 18)


def test_beds_open_is_core_plus_escalation() -> None:
    events = [ward("W1", T0, beds_open_core=20, beds_open_escalation=4, beds_occupied=18, nctr=0)]
    m = site_metrics(events, T0)
    assert m["ga_beds_open"] == 24
    assert m["ga_occupancy"] == pytest.approx(18 / 24)


def test_wards_of_a_site_are_summed() -> None:
    events = [
        ward("W1", T0, beds_open_core=20, beds_occupied=20, nctr=5),
        ward("W2", T0, beds_open_core=10, beds_open_escalation=2, beds_occupied=6, nctr=1),
    ]
    m = site_metrics(events, T0)
    assert beds(m) == (32, 26, pytest.approx(26 / 32), 6, pytest.approx(6 / 26))


def test_occupancy_above_one_is_allowed() -> None:
    events = [ward("W1", T0, beds_open_core=10, beds_occupied=12)]
    m = site_metrics(events, T0)
    assert m["ga_occupancy"] == pytest.approx(1.2)


def test_occupancy_is_none_with_no_beds_open() -> None:
    events = [ward("W1", T0, beds_open_core=0, beds_occupied=3, nctr=1)]
    m = site_metrics(events, T0)
    assert m["ga_beds_open"] == 0
    assert m["ga_beds_occupied"] == 3
    assert m["ga_occupancy"] is None
    assert m["mffd_rate"] == pytest.approx(1 / 3)


def test_mffd_rate_is_none_with_no_beds_occupied() -> None:
    events = [ward("W1", T0, beds_open_core=10, beds_occupied=0)]
    m = site_metrics(events, T0)
    assert m["ga_occupancy"] == 0.0
    assert m["nctr_patients"] == 0
    assert m["mffd_rate"] is None


def test_later_snapshot_replaces_earlier() -> None:
    events = [
        ward("W1", T0, beds_open_core=20, beds_occupied=18, nctr=3),
        ward("W1", T0 + timedelta(hours=1), beds_open_core=22, beds_occupied=21, nctr=4),
    ]
    as_of = T0 + timedelta(hours=2)
    assert beds(site_metrics(events, as_of))[:2] == (22, 21)
    # Whatever the order of delivery.
    assert beds(site_metrics(list(reversed(events)), as_of))[:2] == (22, 21)


def test_snapshot_later_by_one_microsecond_wins() -> None:
    events = [
        ward("W1", T0 + US, event_id="a", beds_open_core=5, beds_occupied=5),
        ward("W1", T0, event_id="z", beds_open_core=9, beds_occupied=9),
    ]
    for order in (events, list(reversed(events))):
        assert site_metrics(order, T0 + US)["ga_beds_open"] == 5


def test_tie_on_occurred_at_goes_to_greater_event_id() -> None:
    events = [
        ward("W1", T0, event_id="evt-b", beds_open_core=20, beds_occupied=10),
        ward("W1", T0, event_id="evt-a", beds_open_core=30, beds_occupied=15),
        ward("W1", T0, event_id="evt-c", beds_open_core=40, beds_occupied=20),
    ]
    for order in (events, list(reversed(events)), [events[2], events[0], events[1]]):
        m = site_metrics(order, T0)
        assert m["ga_beds_open"] == 40
        assert m["ga_beds_occupied"] == 20


def test_tie_on_instant_written_with_different_offsets() -> None:
    # 09:00+01:00 is the same instant as 08:00Z: the tie goes to the greater event_id.
    events = [
        ward(
            "W1", "2025-01-15T09:00:00+01:00", event_id="evt-b", beds_open_core=7, beds_occupied=7
        ),
        ward("W1", "2025-01-15T08:00:00Z", event_id="evt-a", beds_open_core=3, beds_occupied=3),
    ]
    for order in (events, list(reversed(events))):
        assert site_metrics(order, T0)["ga_beds_open"] == 7


@pytest.mark.parametrize(
    "ward_type",
    ["paediatric_ga", "adult_critical_care", "maternity", "mental_health", "other"],
)
def test_non_adult_ga_wards_are_excluded_from_all_bed_metrics(ward_type: str) -> None:
    events = [
        ward("GA", T0, beds_open_core=10, beds_occupied=8, nctr=2),
        ward("X", T0, ward_type=ward_type, beds_open_core=50, beds_occupied=49, nctr=20),
    ]
    m = site_metrics(events, T0)
    assert beds(m) == (10, 8, pytest.approx(0.8), 2, pytest.approx(0.25))


@pytest.mark.parametrize(
    "ward_type",
    ["paediatric_ga", "adult_critical_care", "maternity", "mental_health", "other"],
)
def test_only_non_adult_ga_wards_gives_zero_and_none(ward_type: str) -> None:
    events = [ward("X", T0, ward_type=ward_type, beds_open_core=5, beds_occupied=4, nctr=1)]
    assert beds(site_metrics(events, T0)) == (0, 0, None, 0, None)


def test_ward_changed_away_from_adult_ga_no_longer_counts() -> None:
    events = [
        ward("W1", T0, beds_open_core=20, beds_occupied=18, nctr=3),
        ward(
            "W1",
            T0 + timedelta(hours=1),
            ward_type="other",
            beds_open_core=20,
            beds_occupied=18,
            nctr=3,
        ),
    ]
    as_of = T0 + timedelta(hours=2)
    assert beds(site_metrics(events, as_of)) == (0, 0, None, 0, None)
    assert beds(site_metrics(list(reversed(events)), as_of)) == (0, 0, None, 0, None)


def test_ward_changed_to_adult_ga_starts_counting() -> None:
    events = [
        ward("W1", T0, ward_type="maternity", beds_open_core=20, beds_occupied=18),
        ward("W1", T0 + timedelta(hours=1), beds_open_core=20, beds_occupied=18),
    ]
    assert site_metrics(events, T0 + timedelta(hours=1))["ga_beds_open"] == 20


def test_snapshot_after_t_does_not_count() -> None:
    events = [ward("W1", T0 + US, beds_open_core=20, beds_occupied=18, nctr=3)]
    assert beds(site_metrics(events, T0)) == (0, 0, None, 0, None)
    assert site_metrics(events, T0 + US)["ga_beds_open"] == 20


def test_as_of_t_uses_latest_snapshot_at_or_before_t() -> None:
    events = [
        ward("W1", T0, beds_open_core=20, beds_occupied=18, nctr=3),
        ward("W1", T0 + timedelta(hours=4), beds_open_core=25, beds_occupied=25, nctr=9),
    ]
    m = site_metrics(events, T0 + timedelta(hours=2))
    assert beds(m) == (20, 18, pytest.approx(0.9), 3, pytest.approx(3 / 18))


def test_same_ward_name_at_two_sites_are_two_wards() -> None:
    events = [
        ward("W1", T0, site="R1H12", beds_open_core=20, beds_occupied=18),
        ward("W1", T0 + timedelta(hours=1), site="R1HKH", beds_open_core=5, beds_occupied=4),
    ]
    snap = state_of(events).snapshot(T0 + timedelta(hours=1))
    assert snap.site("R1H12")["ga_beds_open"] == 20
    assert snap.site("R1HKH")["ga_beds_open"] == 5


def test_duplicate_ward_snapshot_is_ignored() -> None:
    state = FlowState(REGISTRY, horizon=None)
    first = ward("W1", T0, event_id="w-1", beds_open_core=20, beds_occupied=18)
    assert state.apply(first) is Outcome.APPLIED
    again = ward("W1", T0 + timedelta(hours=1), event_id="w-1", beds_open_core=1, beds_occupied=1)
    assert state.apply(again) is Outcome.DUPLICATE
    assert state.snapshot(T0 + timedelta(hours=2)).site("R1H12")["ga_beds_open"] == 20


def test_ward_snapshot_after_until_is_ignored() -> None:
    state = FlowState(REGISTRY, horizon=None, until=T0)
    assert state.apply(ward("W1", T0, beds_open_core=20, beds_occupied=18)) is Outcome.APPLIED
    later = ward("W1", T0 + US, beds_open_core=1, beds_occupied=1)
    assert state.apply(later) is Outcome.AFTER_AS_OF
    assert state.snapshot(T0 + timedelta(hours=1)).site("R1H12")["ga_beds_open"] == 20


def test_ward_snapshots_carry_over_days() -> None:
    # A ward's snapshot is its state until replaced, not a count for one day.
    events = [ward("W1", T0, beds_open_core=20, beds_occupied=18)]
    assert site_metrics(events, T0 + timedelta(days=3))["ga_beds_open"] == 20


def test_critical_care_is_counted_like_g_and_a_and_apart_from_it() -> None:
    events = [
        ward("GA", T0, beds_open_core=20, beds_open_escalation=2, beds_occupied=21, nctr=4),
        ward(
            "ICU",
            T0,
            ward_type="adult_critical_care",
            beds_open_core=8,
            beds_open_escalation=2,
            beds_occupied=9,
            nctr=0,
        ),
        ward("PICU", T0, ward_type="paediatric_ga", beds_open_core=6, beds_occupied=6, nctr=0),
    ]
    m = site_metrics(events, T0)
    assert (m["ga_beds_open"], m["ga_beds_occupied"], m["ga_escalation_beds_open"]) == (22, 21, 2)
    assert (m["cc_beds_open"], m["cc_beds_occupied"]) == (10, 9)
    assert m["cc_occupancy"] == pytest.approx(0.9)


def test_critical_care_occupancy_without_critical_care_beds_is_none() -> None:
    m = site_metrics([ward("GA", T0, beds_open_core=20, beds_occupied=18, nctr=0)], T0)
    assert (m["cc_beds_open"], m["cc_occupancy"]) == (0, None)


def test_a_critical_care_ward_takes_the_state_of_its_latest_snapshot() -> None:
    icu = "adult_critical_care"
    events = [
        ward("ICU", T0, ward_type=icu, beds_open_core=8, beds_occupied=8, nctr=0),
        ward("ICU", T0 + US, ward_type=icu, beds_open_core=10, beds_occupied=7, nctr=0),
    ]
    assert site_metrics(events, T0)["cc_beds_occupied"] == 8
    assert site_metrics(events, T0 + US)["cc_occupancy"] == pytest.approx(0.7)
