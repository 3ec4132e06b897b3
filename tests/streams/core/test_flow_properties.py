"""Properties of the flow core that the spec promises for every input, checked with hypothesis."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import Event
from events.contract import AmbulanceArrival, AmbulanceHandover
from streams.core.flow import FlowState, Outcome
from streams.core.instants import HOUR, NEVER, to_instant
from streams.core.snapshot import FlowSnapshot
from tests.streams.core import reference_metrics
from tests.streams.core.flow_events import (
    ALL_METRICS,
    AUTUMN,
    COUNT_METRICS,
    MAXIMUM_METRICS,
    RATIO_METRICS,
    REGISTRY,
    SITES,
    SPRING,
    TRUSTS,
    Flow,
    any_events,
    apply_all,
    flows,
    line_of,
    occurred_at,
    parse,
    realistic_flow,
    replay_document,
    replay_result,
)

Metrics = dict[str, Any]

QUICK = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def levels(snapshot: FlowSnapshot) -> dict[str, Metrics]:
    """Every level of a snapshot, keyed "system", "trust R1H", "site R1H12"..."""
    found = {"system": snapshot.system()}
    found.update({f"trust {code}": snapshot.trust(code) for code in TRUSTS})
    found.update({f"site {code}": snapshot.site(code) for code in SITES})
    return found


def document_levels(document: dict[str, Any]) -> dict[str, Metrics]:
    found = {"system": document["system"]}
    found.update({f"trust {code}": metrics for code, metrics in document["trusts"].items()})
    found.update({f"site {code}": metrics for code, metrics in document["sites"].items()})
    return found


@st.composite
def instants_within(draw: st.DrawFn, times: list[datetime]) -> datetime:
    """An instant at, just before, just after or between the given event times."""
    base = draw(st.sampled_from(times))
    nudge = draw(
        st.sampled_from(
            (
                timedelta(0),
                timedelta(microseconds=-1),
                timedelta(microseconds=1),
                timedelta(hours=4),
                timedelta(hours=12),
                timedelta(hours=12, microseconds=1),
            )
        )
        | st.integers(-36 * 60, 36 * 60).map(lambda minutes: timedelta(minutes=minutes))
    )
    return base + nudge


# ---------------------------------------------------------------------------------------------
# 1. Order independence and duplicate idempotence (no horizon)
# ---------------------------------------------------------------------------------------------


@QUICK
@given(data=st.data(), events=any_events())
def test_any_order_with_any_exact_duplicates_gives_the_same_document(
    data: st.DataObject, events: list[dict[str, Any]]
) -> None:
    lines = [line_of(event) for event in events]
    times = [occurred_at(event) for event in events]
    as_ofs: list[datetime | None] = [None, max(times)]
    as_ofs += data.draw(st.lists(instants_within(times), min_size=2, max_size=3), label="T")

    deliveries: list[tuple[list[bytes], int]] = []
    for label in ("first", "second"):
        copies = data.draw(st.lists(st.sampled_from(lines), max_size=8), label=label)
        order = data.draw(st.permutations(lines + copies), label=f"{label} order")
        deliveries.append((order, len(copies)))

    for as_of in as_ofs:
        expected = replay_document(lines, as_of)
        for order, copies_added in deliveries:
            found = replay_document(order, as_of)
            assert found["duplicate_events"] == copies_added
            assert found["rejected_events"] == 0
            assert found["as_of"] == expected["as_of"]
            assert document_levels(found) == document_levels(expected)


@QUICK
@given(data=st.data(), events=any_events())
def test_flow_state_snapshots_do_not_depend_on_the_order_of_application(
    data: st.DataObject, events: list[dict[str, Any]]
) -> None:
    parsed = parse(line_of(event) for event in events)
    times = [occurred_at(event) for event in events]
    shuffled = data.draw(st.permutations(parsed + data.draw(st.lists(st.sampled_from(parsed)))))
    straight = FlowState(REGISTRY, horizon=None)
    mixed = FlowState(REGISTRY, horizon=None)
    apply_all(straight, parsed)
    outcomes = apply_all(mixed, shuffled)
    assert outcomes.count(Outcome.DUPLICATE) == len(shuffled) - len(parsed)
    for as_of in [max(times), *data.draw(st.lists(instants_within(times), max_size=3))]:
        assert levels(mixed.snapshot(as_of)) == levels(straight.snapshot(as_of))


# ---------------------------------------------------------------------------------------------
# 2. Folding past the lateness horizon changes nothing, and keeps the state bounded
# ---------------------------------------------------------------------------------------------


def delivered_with_bounded_lateness(
    events: list[Event], rng: random.Random, lateness: timedelta
) -> list[Event]:
    """In order of occurred_at plus a delay in [0, lateness): a feed that is never too late."""

    def delivery(event: Event) -> datetime:
        delay = lateness * rng.random() if rng.random() < 0.5 else timedelta(0)
        return event.occurred_at + delay

    return sorted(events, key=delivery)


def realistic_events(
    seed: int, start: datetime, days: int, per_day: int
) -> tuple[Flow, list[Event]]:
    rng = random.Random(seed)
    flow = realistic_flow(rng, start, days, per_day)
    end = start + timedelta(days=days)
    # The feed stops at `end`: what has not happened by then is still in progress.
    lines = [line_of(event) for event in flow.events() if occurred_at(event) <= end]
    delivered = delivered_with_bounded_lateness(parse(lines), rng, timedelta(hours=24))
    return flow, delivered


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    start=st.sampled_from((SPRING - timedelta(days=5), AUTUMN - timedelta(days=5))),
    per_day=st.integers(15, 40),
    backwards=st.lists(st.integers(0, 48 * 60), min_size=1, max_size=3),
)
def test_folding_after_a_48_hour_horizon_gives_the_same_metrics_as_keeping_everything(
    seed: int, start: datetime, per_day: int, backwards: list[int]
) -> None:
    _, delivered = realistic_events(seed, start, days=10, per_day=per_day)
    folding = FlowState(REGISTRY, horizon=timedelta(hours=48))
    keeping = FlowState(REGISTRY, horizon=None)

    outcomes = apply_all(folding, delivered)
    apply_all(keeping, delivered)

    assert Outcome.TOO_LATE not in outcomes
    assert set(outcomes) == {Outcome.APPLIED}
    last = max(event.occurred_at for event in delivered)
    for as_of in [last, *(last - timedelta(minutes=minutes) for minutes in backwards)]:
        assert levels(folding.snapshot(as_of)) == levels(keeping.snapshot(as_of)), as_of


ARRIVALS = ("ae_arrivals_today", "ae_arrivals_last_hour", "ambulance_arrivals_today")


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    start=st.sampled_from((SPRING - timedelta(days=5), AUTUMN - timedelta(days=5))),
    backwards=st.lists(st.integers(0, 47 * 60), min_size=1, max_size=4),
)
def test_arrival_counts_stay_exact_when_folded_and_delivered_out_of_order(
    seed: int, start: datetime, backwards: list[int]
) -> None:
    flow, delivered = realistic_events(seed, start, days=10, per_day=30)
    folding = FlowState(REGISTRY, horizon=timedelta(hours=48))
    assert set(apply_all(folding, delivered)) == {Outcome.APPLIED}
    assert len(folding.stores.attendances) < len(flow.visits)  # some were folded
    last = max(event.occurred_at for event in delivered)
    for as_of in [last, *(last - timedelta(minutes=minutes) for minutes in backwards)]:
        # The feed stopped at `last`: the naive reading of the definitions sees the same events.
        expected = reference_metrics.expected_document(flow, as_of)["sites"]
        found = folding.snapshot(as_of)
        for site in SITES:
            assert {name: found.site(site)[name] for name in ARRIVALS} == {
                name: expected[site][name] for name in ARRIVALS
            }, (site, as_of)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_a_48_hour_horizon_keeps_far_fewer_attendance_records_than_ten_days_of_attendances(
    seed: int,
) -> None:
    flow, delivered = realistic_events(seed, SPRING - timedelta(days=5), days=10, per_day=40)
    folding = FlowState(REGISTRY, horizon=timedelta(hours=48))
    apply_all(folding, delivered)

    attendances = len(flow.visits)
    assert attendances == 400
    # 48 h of 240 h is a fifth; allow for the hour-wide expiry buckets and long stays.
    assert len(folding.stores.attendances) < attendances * 0.35
    assert len(folding.stores.seen) < len(delivered) * 0.35
    # Ambulances are too few (about 130) for a share to be steady: exactly, a finished handover
    # is kept only while its last event is within the horizon and an hour's bucket of the
    # latest ambulance event at its site (each site's clock is its own).
    latest: dict[str, int] = {}
    for event in delivered:
        if isinstance(event, AmbulanceArrival | AmbulanceHandover):
            latest[event.site] = max(latest.get(event.site, NEVER), to_instant(event.occurred_at))
    kept = folding.stores.handovers
    assert 0 < len(kept) < len(flow.ambulances)
    for (site, _), handover in kept.items():
        finished = handover.handed_over_at is not None and handover.arrived_at is not None
        assert not finished or handover.last_event_at >= latest[site] - 49 * HOUR, site


def departure(event_id: str, at: str, outcome: str = "discharged") -> dict[str, Any]:
    return {
        "event_id": event_id,
        "event_type": "ae.departure",
        "occurred_at": at,
        "site": "R1H12",
        "attendance_id": "att-1",
        "outcome": outcome,
    }


CORRECTED_DEPARTURE = [
    {
        "event_id": "e-arr",
        "event_type": "ae.arrival",
        "occurred_at": "2025-01-10T08:00:00Z",
        "site": "R1H12",
        "attendance_id": "att-1",
    },
    departure("e-dep-1", "2025-01-10T09:00:00Z"),
    # Another site's ambulance moves event time on by more than the horizon.
    {
        "event_id": "e-amb",
        "event_type": "ambulance.arrival",
        "occurred_at": "2025-01-12T10:00:00Z",
        "site": "RQXM1",
        "handover_id": "h-1",
    },
    # A second departure of the same attendance, half an hour late: well within the horizon.
    departure("e-dep-2", "2025-01-12T10:30:00Z", outcome="admitted"),
]


def test_a_correction_after_its_attendance_was_folded_is_held_unmatched() -> None:
    # Documented limit of the live horizon: an attendance finished more than 48 h (of its
    # site's A&E event time) ago is folded into its day's counters, so a second departure for
    # it (a correction two days on, not a late event) no longer finds it. It is held, never
    # counted, and expires as unmatched.
    events = parse(line_of(event) for event in CORRECTED_DEPARTURE)
    as_of = occurred_at({"occurred_at": "2025-01-12T11:00:00Z"})
    later_arrival = {**CORRECTED_DEPARTURE[0], "event_id": "e-arr-2", "attendance_id": "att-2"}
    same_site = parse([line_of({**later_arrival, "occurred_at": "2025-01-12T10:00:00Z"})])
    folding = FlowState(REGISTRY, horizon=timedelta(hours=48))
    ordered = [events[0], events[1], same_site[0], events[3]]
    assert set(apply_all(folding, ordered)) == {Outcome.APPLIED}
    metrics = folding.snapshot(as_of).site("R1H12")
    assert metrics["ae_departures_today"] == 0  # the correction is not counted today
    assert metrics["ae_4h_performance_month"] == 1.0  # the folded original still is


def test_another_feeds_event_time_does_not_fold_this_feeds_records() -> None:
    # Each feed of a site is its own topic, read at its own pace: an ambulance event two days on
    # at R1H12 folds nothing of R1H12's A&E, so the correction still finds its attendance.
    events = parse(line_of(event) for event in CORRECTED_DEPARTURE)
    as_of = occurred_at({"occurred_at": "2025-01-12T11:00:00Z"})
    same_site = parse([line_of({**CORRECTED_DEPARTURE[2], "site": "R1H12"})])
    ordered = [events[0], events[1], same_site[0], events[3]]
    folding = FlowState(REGISTRY, horizon=timedelta(hours=48))
    keeping = FlowState(REGISTRY, horizon=None)
    assert set(apply_all(folding, ordered)) == {Outcome.APPLIED}
    apply_all(keeping, ordered)
    assert levels(folding.snapshot(as_of)) == levels(keeping.snapshot(as_of))


def test_a_feed_days_ahead_does_not_make_another_feeds_events_too_late() -> None:
    # A worker catching up on a backlog reads the small beds topic days ahead of A&E.
    ahead = {
        "event_id": "e-ward",
        "event_type": "beds.ward_state",
        "occurred_at": "2025-01-15T08:00:00Z",
        "site": "R1H12",
        "ward": "W1",
        "ward_type": "adult_ga",
        "beds_open_core": 20,
        "beds_open_escalation": 0,
        "beds_occupied": 18,
        "nctr": 2,
    }
    events = parse(line_of(event) for event in [ahead, *CORRECTED_DEPARTURE[:2]])
    folding = FlowState(REGISTRY, horizon=timedelta(hours=48))
    assert set(apply_all(folding, events)) == {Outcome.APPLIED}


def test_another_sites_event_time_does_not_fold_this_sites_records() -> None:
    # Each site has its own watermark: the RQXM1 ambulance two days on folds nothing at R1H12,
    # so the correction finds its attendance, exactly as without a horizon.
    events = parse(line_of(event) for event in CORRECTED_DEPARTURE)
    as_of = occurred_at({"occurred_at": "2025-01-12T11:00:00Z"})
    folding = FlowState(REGISTRY, horizon=timedelta(hours=48))
    keeping = FlowState(REGISTRY, horizon=None)
    assert set(apply_all(folding, events)) == {Outcome.APPLIED}
    apply_all(keeping, events)
    assert levels(folding.snapshot(as_of)) == levels(keeping.snapshot(as_of))


# ---------------------------------------------------------------------------------------------
# 3. Invariants of every snapshot
# ---------------------------------------------------------------------------------------------


def check_one_level(where: str, metrics: Metrics) -> None:
    assert set(metrics) >= set(ALL_METRICS), where
    for name in COUNT_METRICS:
        assert isinstance(metrics[name], int), (where, name)
        assert metrics[name] >= 0, (where, name)
    for name in RATIO_METRICS:
        value = metrics[name]
        assert value is None or value >= 0, (where, name)
        if name != "ga_occupancy":
            assert value is None or value <= 1, (where, name)
    for name in MAXIMUM_METRICS:
        assert metrics[name] is None or metrics[name] >= 0, (where, name)
    assert metrics["handover_hours_lost_today"] >= 0, where

    assert metrics["nctr_patients"] <= metrics["ga_beds_occupied"], where
    assert (metrics["ga_occupancy"] is None) == (metrics["ga_beds_open"] == 0), where
    assert (metrics["mffd_rate"] is None) == (metrics["ga_beds_occupied"] == 0), where

    in_department = metrics["ae_in_department"]
    assert metrics["ae_over_12h_in_department"] <= in_department, where
    assert metrics["ae_mh_over_12h_in_department"] <= metrics["ae_over_12h_in_department"]
    assert metrics["ae_waiting_after_dta"] <= in_department, where
    assert metrics["ae_over_12h_after_dta"] <= metrics["ae_waiting_after_dta"], where
    assert (metrics["ae_longest_wait_minutes"] is None) == (in_department == 0), where
    if metrics["ae_over_12h_in_department"]:
        assert metrics["ae_longest_wait_minutes"] > 12 * 60, where

    departures = metrics["ae_departures_today"]
    assert metrics["ae_over_12h_today"] <= departures, where
    assert metrics["ae_mh_departures_today"] <= departures, where
    assert metrics["ae_mh_over_12h_today"] <= metrics["ae_mh_departures_today"], where
    assert metrics["ae_mh_over_12h_today"] <= metrics["ae_over_12h_today"], where
    assert metrics["ae_12h_trolley_waits_today"] <= departures, where
    assert (metrics["ae_4h_performance_today"] is None) == (departures == 0), where
    if departures == 0:
        assert metrics["ae_type1_4h_performance_today"] is None, where
    if departures:
        # Today's departures are this month's departures too.
        assert metrics["ae_4h_performance_month"] is not None, where

    waiting = metrics["ambulances_waiting"]
    assert (metrics["ambulance_longest_wait_minutes"] is None) == (waiting == 0), where
    handovers = metrics["handovers_today"]
    assert metrics["handovers_over_60_today"] <= metrics["handovers_over_45_today"], where
    assert metrics["handovers_over_45_today"] <= metrics["handovers_over_30_today"], where
    assert metrics["handovers_over_30_today"] <= handovers, where
    assert (metrics["handover_mean_minutes_today"] is None) == (handovers == 0), where
    # Each handover over 30 minutes lost more than 15 of them.
    assert metrics["handover_hours_lost_today"] >= metrics["handovers_over_30_today"] / 4, where


def check_sums(total: Metrics, parts: list[Metrics], where: str) -> None:
    for name in COUNT_METRICS:
        assert total[name] == sum(part[name] for part in parts), (where, name)
    for name in MAXIMUM_METRICS:
        values = [part[name] for part in parts if part[name] is not None]
        assert total[name] == (max(values) if values else None), (where, name)
    assert total["handover_hours_lost_today"] == pytest.approx(
        sum(part["handover_hours_lost_today"] for part in parts)
    ), where
    # Ratios are recomputed from the summed parts, never averaged.
    open_, occupied = total["ga_beds_open"], total["ga_beds_occupied"]
    assert total["ga_occupancy"] == (occupied / open_ if open_ else None), where
    nctr = total["nctr_patients"]
    assert total["mffd_rate"] == (nctr / occupied if occupied else None), where
    departures = total["ae_departures_today"]
    within = sum(
        round(part["ae_4h_performance_today"] * part["ae_departures_today"])
        for part in parts
        if part["ae_departures_today"]
    )
    assert total["ae_4h_performance_today"] == pytest.approx(
        within / departures if departures else None
    ), where
    handovers = total["handovers_today"]
    took = sum(
        part["handover_mean_minutes_today"] * part["handovers_today"]
        for part in parts
        if part["handovers_today"]
    )
    assert total["handover_mean_minutes_today"] == pytest.approx(
        took / handovers if handovers else None
    ), where


def check_snapshot(snapshot: FlowSnapshot) -> None:
    sites = {code: snapshot.site(code) for code in SITES}
    for code, metrics in sites.items():
        check_one_level(f"site {code}", metrics)
    for trust in TRUSTS:
        metrics = snapshot.trust(trust)
        check_one_level(f"trust {trust}", metrics)
        members = [sites[code] for code in REGISTRY.sites_of_trust(trust)]
        check_sums(metrics, members, f"trust {trust}")
    system = snapshot.system()
    check_one_level("system", system)
    check_sums(system, list(sites.values()), "system")
    trusts = [snapshot.trust(trust) for trust in TRUSTS]
    check_sums(system, trusts, "system from trusts")


@QUICK
@given(data=st.data(), events=any_events(max_size=60))
def test_every_snapshot_of_any_events_keeps_the_invariants(
    data: st.DataObject, events: list[dict[str, Any]]
) -> None:
    times = [occurred_at(event) for event in events]
    lines = [line_of(event) for event in events]
    for as_of in [None, *data.draw(st.lists(instants_within(times), min_size=1, max_size=3))]:
        check_snapshot(replay_result(lines, as_of).snapshot)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), start=st.sampled_from((SPRING, AUTUMN)))
def test_every_snapshot_of_a_well_formed_flow_keeps_the_invariants(
    data: st.DataObject, start: datetime
) -> None:
    flow = data.draw(flows(start, timedelta(days=3), max_size=20))
    lines = [line_of(event) for event in flow.events()]
    if not lines:
        return
    for as_of in data.draw(st.lists(instants_within(flow.times()), min_size=1, max_size=4)):
        check_snapshot(replay_result(lines, as_of).snapshot)


# ---------------------------------------------------------------------------------------------
# The metric definitions themselves, against a naive reading of the spec
# ---------------------------------------------------------------------------------------------


def london_midnights_near(start: datetime) -> list[datetime]:
    london = reference_metrics.LONDON
    first = start.astimezone(london).date()
    days = [first + timedelta(days=offset) for offset in range(5)]
    return [datetime(day.year, day.month, day.day, tzinfo=london) for day in days]


def assert_metrics_match(found: Metrics, expected: Metrics, where: str) -> None:
    for name, value in expected.items():
        if isinstance(value, float):
            assert found[name] == pytest.approx(value), (where, name)
        else:
            assert found[name] == value, (where, name)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), start=st.sampled_from((SPRING, AUTUMN)))
def test_replayed_metrics_match_the_definitions_in_the_spec(
    data: st.DataObject, start: datetime
) -> None:
    flow = data.draw(flows(start, timedelta(days=3)))
    lines = [line_of(event) for event in flow.events()]
    if not lines:
        return
    midnights = london_midnights_near(start)
    edges = st.sampled_from(midnights).flatmap(
        lambda midnight: st.sampled_from(
            (midnight, midnight - timedelta(microseconds=1), midnight + timedelta(seconds=1))
        )
    )
    as_of = data.draw(instants_within(flow.times()) | edges, label="T")

    found = replay_document(lines, as_of)
    expected = reference_metrics.expected_document(flow, as_of)
    assert_metrics_match(found["system"], expected["system"][""], "system")
    for trust, metrics in expected["trusts"].items():
        assert_metrics_match(found["trusts"][trust], metrics, f"trust {trust}")
    for site, metrics in expected["sites"].items():
        assert_metrics_match(found["sites"][site], metrics, f"site {site}")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), start=st.sampled_from((SPRING, AUTUMN)))
def test_a_flow_state_snapshot_counts_only_events_that_occurred_by_its_instant(
    data: st.DataObject, start: datetime
) -> None:
    """Only events with occurred_at <= T count, even when later ones have been applied."""
    flow = data.draw(flows(start, timedelta(days=3)))
    events = flow.events()
    if not events:
        return
    as_of = data.draw(instants_within(flow.times()), label="T")
    everything = FlowState(REGISTRY, horizon=None)
    apply_all(everything, parse(line_of(event) for event in events))
    so_far = FlowState(REGISTRY, horizon=None)
    apply_all(so_far, parse(line_of(e) for e in events if occurred_at(e) <= as_of))
    assert levels(everything.snapshot(as_of)) == levels(so_far.snapshot(as_of))


def ward_state(event_id: str, at: str, open_core: int, occupied: int) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "event_type": "beds.ward_state",
        "occurred_at": at,
        "site": "R1H12",
        "ward": "Ward 7",
        "ward_type": "adult_ga",
        "beds_open_core": open_core,
        "beds_occupied": occupied,
    }


def test_a_snapshot_as_of_an_earlier_instant_uses_the_ward_state_in_force_then() -> None:
    state = FlowState(REGISTRY, horizon=None)
    apply_all(
        state,
        parse(
            line_of(event)
            for event in (
                ward_state("w-0800", "2025-01-15T08:00:00Z", open_core=20, occupied=19),
                ward_state("w-1400", "2025-01-15T14:00:00Z", open_core=22, occupied=22),
            )
        ),
    )
    at_noon = state.snapshot(occurred_at({"occurred_at": "2025-01-15T12:00:00Z"})).site("R1H12")
    assert (at_noon["ga_beds_open"], at_noon["ga_beds_occupied"]) == (20, 19)


def test_a_replay_between_two_arrivals_of_one_attendance_counts_the_earlier_one() -> None:
    arrival = {
        "event_type": "ae.arrival",
        "site": "R1H12",
        "attendance_id": "att-1",
    }
    as_of = occurred_at({"occurred_at": "2025-01-15T10:30:00Z"})
    # A replay as of T applies nothing after T (FlowState keeps only the winning arrival).
    state = FlowState(REGISTRY, horizon=None, until=as_of)
    apply_all(
        state,
        parse(
            [
                line_of({**arrival, "event_id": "e1", "occurred_at": "2025-01-15T10:00:00Z"}),
                line_of({**arrival, "event_id": "e2", "occurred_at": "2025-01-15T11:00:00Z"}),
            ]
        ),
    )
    assert state.snapshot(as_of).site("R1H12")["ae_in_department"] == 1
