"""What holds for every run, whatever the seed, site, date, length and scenario."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.contract import (
    AeArrival,
    AeDecisionToAdmit,
    AeDeparture,
    AmbulanceArrival,
    AmbulanceHandover,
    Event,
    WardState,
)
from events.parse import EventParser
from producers.simulator import scenarios
from producers.simulator.scenarios import Pressure, Scenario, Window
from tests.producers.simulator.runs import REGISTRY, SITES, run

# Each example simulates a site for three days of warm-up and some hours: about 0.3 s.
FEW = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PARSER = EventParser(REGISTRY)
BACKFILLED = (AeArrival, AeDecisionToAdmit, AmbulanceArrival)


@dataclass(frozen=True)
class Case:
    seed: int
    site: str
    start: datetime
    hours: float
    scenario: Scenario

    def events(self) -> list[Event]:
        return run(
            self.scenario, sites=(self.site,), start=self.start, hours=self.hours, seed=self.seed
        )


@st.composite
def cases(draw: st.DrawFn) -> Case:
    site = draw(st.sampled_from(SITES))
    start = draw(
        st.datetimes(datetime(2024, 1, 1), datetime(2027, 12, 31), timezones=st.just(UTC))
    ).replace(microsecond=0)
    hours = draw(st.integers(1, 8))
    at = start.timestamp() + draw(st.integers(0, hours * 3600))
    scenario = draw(
        st.sampled_from(
            [
                scenarios.normal(),
                scenarios.winter_surge(start.timestamp()),
                scenarios.major_incident(site, at, casualties=draw(st.integers(1, 80))),
            ]
        )
    )
    return Case(draw(st.integers(0, 2**32)), site, start, hours, scenario)


@FEW
@given(cases())
def test_every_line_is_a_valid_event_in_occurred_at_order(case: Case) -> None:
    events = case.events()
    assert events
    lines = [event.model_dump_json() for event in events]
    assert [PARSER.parse(line) for line in lines] == events
    times = [event.occurred_at for event in events]
    assert times == sorted(times)
    assert len({event.event_id for event in events}) == len(events)
    end = case.start + timedelta(hours=case.hours)
    assert all(event.site == case.site and event.occurred_at < end for event in events)
    # Before the start: only those already there, sent first with the times they arrived.
    early = [event for event in events if event.occurred_at < case.start]
    assert all(isinstance(event, BACKFILLED) for event in early)


@FEW
@given(cases())
def test_every_attendance_and_conveyance_happens_in_order(case: Case) -> None:
    attendances: dict[str, dict[type, datetime]] = defaultdict(dict)
    conveyances: dict[str, dict[type, datetime]] = defaultdict(dict)
    for event in case.events():
        if isinstance(event, AeArrival | AeDecisionToAdmit | AeDeparture):
            assert type(event) not in attendances[event.attendance_id]
            attendances[event.attendance_id][type(event)] = event.occurred_at
        elif isinstance(event, AmbulanceArrival | AmbulanceHandover):
            assert type(event) not in conveyances[event.handover_id]
            conveyances[event.handover_id][type(event)] = event.occurred_at
    for steps in attendances.values():
        arrived = steps[AeArrival]  # a decision or departure always follows a sent arrival
        decided = steps.get(AeDecisionToAdmit, arrived)
        assert arrived <= decided <= steps.get(AeDeparture, decided)
    for steps in conveyances.values():
        assert steps[AmbulanceArrival] <= steps.get(AmbulanceHandover, steps[AmbulanceArrival])


@FEW
@given(cases())
def test_no_ward_holds_more_than_its_open_beds(case: Case) -> None:
    states = [event for event in case.events() if isinstance(event, WardState)]
    assert states
    for state in states:
        assert state.nctr <= state.beds_occupied
        assert state.beds_occupied <= state.beds_open_core + state.beds_open_escalation


@FEW
@given(cases())
def test_the_same_arguments_give_the_same_events(case: Case) -> None:
    assert case.events() == case.events()


def test_another_seed_gives_another_day() -> None:
    assert run(sites=("RQXM1",), hours=2, seed=1) != run(sites=("RQXM1",), hours=2, seed=2)


@FEW
@given(
    site=st.sampled_from(SITES),
    starts_after=st.integers(0, 6 * 3600),
    factor=st.floats(0.5, 2.0),
)
def test_a_pressure_changes_nothing_before_it_starts(
    site: str, starts_after: int, factor: float
) -> None:
    start = datetime(2026, 1, 15, tzinfo=UTC)
    begins = start.timestamp() + starts_after
    pressure = Pressure(
        sites=frozenset({site}),
        window=Window(begins),
        walk_ins=factor,
        ambulances=factor,
        admissions=factor,
        length_of_stay=factor,
        staffing=factor,
        support_wait=factor,
    )
    pressed = run(Scenario(pressures=(pressure,)), sites=(site,), start=start, hours=6)
    normal = run(sites=(site,), start=start, hours=6)

    def before(events: list[Event]) -> list[Event]:
        return [event for event in events if event.occurred_at.timestamp() < begins]

    assert before(pressed) == before(normal)
