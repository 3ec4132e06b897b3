"""Hypothesis strategies and generators of contract events, written from the spec alone.

Events are built as JSON lines (what trusts send) so that every test goes through the real
parser; times are rendered with assorted UTC offsets, since an instant is an instant.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from events import Event, EventParser
from streams.core.flow import FlowState, Outcome
from streams.core.replay import ReplayResult, document, replay
from uecflow.config import load_registry

REGISTRY = load_registry()
PARSER = EventParser(REGISTRY)
SITES: tuple[str, ...] = tuple(REGISTRY.sites)
TRUSTS: tuple[str, ...] = tuple(REGISTRY.trusts)

OUTCOMES = ("admitted", "discharged", "transferred", "left_before_treatment", "other")
WARD_TYPES = (
    "adult_ga",
    "paediatric_ga",
    "adult_critical_care",
    "maternity",
    "mental_health",
    "other",
)
OFFSETS = (
    timedelta(0),
    timedelta(hours=1),
    timedelta(hours=-5),
    timedelta(hours=5, minutes=30),
    timedelta(hours=-9, minutes=-30),
)

COUNT_METRICS = (
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
)
RATIO_METRICS = (
    "ga_occupancy",
    "mffd_rate",
    "ae_4h_performance_today",
    "ae_type1_4h_performance_today",
    "ae_4h_performance_month",
)
MAXIMUM_METRICS = ("ae_longest_wait_minutes", "ambulance_longest_wait_minutes")
OTHER_METRICS = ("handover_mean_minutes_today", "handover_hours_lost_today")
ALL_METRICS = COUNT_METRICS + RATIO_METRICS + MAXIMUM_METRICS + OTHER_METRICS

# Around the spring DST change (Sunday 30 March 2025, 01:00 UTC) and a month end.
SPRING = datetime(2025, 3, 28, 22, 0, tzinfo=UTC)
# Around the autumn DST change (Sunday 26 October 2025, 01:00 UTC) and a month end.
AUTUMN = datetime(2025, 10, 24, 12, 0, tzinfo=UTC)


def rfc3339_in(moment: datetime, offset: timedelta) -> str:
    """The instant rendered in a given UTC offset, `Z` for UTC."""
    text = moment.astimezone(timezone(offset)).isoformat()
    return text.replace("+00:00", "Z")


def line_of(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode()


def occurred_at(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(event["occurred_at"]).replace("Z", "+00:00"))


def parse(lines: Iterable[bytes]) -> list[Event]:
    return [PARSER.parse(line) for line in lines]


def replay_document(lines: Sequence[bytes], as_of: datetime | None) -> dict[str, Any]:
    result = replay_result(lines, as_of)
    return document(result)


def replay_result(lines: Sequence[bytes], as_of: datetime | None) -> ReplayResult:
    def never_empty() -> datetime:
        raise AssertionError("the replay had no valid event")

    return replay(lines, REGISTRY, as_of=as_of, when_empty=never_empty)


def apply_all(state: FlowState, events: Iterable[Event]) -> list[Outcome]:
    return [state.apply(event) for event in events]


# ---------------------------------------------------------------------------------------------
# Any mix of valid events, including conflicting and odd ones (for order independence).
# ---------------------------------------------------------------------------------------------


@st.composite
def event_times(draw: st.DrawFn, start: datetime, span: timedelta) -> datetime:
    minutes = draw(st.integers(0, span // timedelta(minutes=1)))
    seconds = draw(st.sampled_from((0, 0, 0, 30, 59)))
    return start + timedelta(minutes=minutes, seconds=seconds)


@st.composite
def any_event(draw: st.DrawFn, start: datetime, span: timedelta, sites: Sequence[str]) -> Any:
    """One valid event of any type, with small pools of ids so that events collide."""
    moment = draw(event_times(start, span))
    event: dict[str, Any] = {
        "event_id": "",  # filled in by any_events, so that ids are unique
        "occurred_at": rfc3339_in(moment, draw(st.sampled_from(OFFSETS))),
        "site": draw(st.sampled_from(sites)),
    }
    kind = draw(
        st.sampled_from(
            (
                "ae.arrival",
                "ae.decision_to_admit",
                "ae.departure",
                "beds.ward_state",
                "ambulance.arrival",
                "ambulance.handover",
                "opel.declared",
            )
        )
    )
    event["event_type"] = kind
    if kind.startswith("ae."):
        event["attendance_id"] = draw(st.sampled_from(("a1", "a2", "a3", "a4", "a5", "a6")))
    if kind == "ae.arrival":
        if draw(st.booleans()):
            event["department_type"] = draw(st.integers(1, 3))
        if draw(st.booleans()):
            event["arrival_mode"] = draw(st.sampled_from(("ambulance", "walk_in", "other")))
        if draw(st.booleans()):
            event["mental_health"] = draw(st.booleans())
    elif kind == "ae.departure":
        event["outcome"] = draw(st.sampled_from(OUTCOMES))
    elif kind == "beds.ward_state":
        event["ward"] = draw(st.sampled_from(("w1", "w2", "w3")))
        event["ward_type"] = draw(st.sampled_from(("adult_ga", "adult_ga", *WARD_TYPES)))
        event["beds_open_core"] = draw(st.integers(0, 30))
        if draw(st.booleans()):
            event["beds_open_escalation"] = draw(st.integers(0, 6))
        occupied = draw(st.integers(0, 40))
        event["beds_occupied"] = occupied
        if draw(st.booleans()):
            event["nctr"] = draw(st.integers(0, occupied))
    elif kind.startswith("ambulance."):
        event["handover_id"] = draw(st.sampled_from(("h1", "h2", "h3", "h4")))
    elif kind == "opel.declared":
        event["level"] = draw(st.integers(1, 4))
        if draw(st.booleans()):
            event["scope"] = draw(st.sampled_from(("site", "trust")))
    return event


@st.composite
def any_events(
    draw: st.DrawFn,
    start: datetime = SPRING,
    span: timedelta = timedelta(days=3),
    min_size: int = 8,
    max_size: int = 40,
) -> list[dict[str, Any]]:
    """A set of valid events with unique ids; some events share a time, a ward or an id."""
    sites = draw(st.lists(st.sampled_from(SITES), min_size=1, max_size=3, unique=True))
    events: list[dict[str, Any]] = draw(
        st.lists(any_event(start, span, sites), min_size=min_size, max_size=max_size)
    )
    shared = draw(st.sampled_from(("", "x", "y")))
    for number, event in enumerate(events):
        # Ids sort in no particular relation to generation order, to exercise tie-breaks.
        prefix = draw(st.sampled_from(("a", "b", "c", "zz")))
        event["event_id"] = f"{prefix}{shared}-{number}"
    # Some events share an occurred_at with another one (ties must be broken by event_id).
    if len(events) > 1 and draw(st.booleans()):
        for event in draw(st.lists(st.sampled_from(events), max_size=4)):
            event["occurred_at"] = events[0]["occurred_at"]
    return events


# ---------------------------------------------------------------------------------------------
# Well-formed flow (arrival <= DTA <= departure; arrival <= handover), for exact expectations.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Visit:
    site: str
    attendance_id: str
    arrived: datetime
    dta: datetime | None
    departed: datetime | None
    outcome: str
    department_type: int
    mental_health: bool


@dataclass(frozen=True, slots=True)
class Ambulance:
    site: str
    handover_id: str
    arrived: datetime
    handed_over: datetime | None


@dataclass(frozen=True, slots=True)
class WardSnapshot:
    site: str
    ward: str
    event_id: str
    at: datetime
    ward_type: str
    core: int
    escalation: int
    occupied: int
    nctr: int


@dataclass(frozen=True, slots=True)
class Flow:
    visits: tuple[Visit, ...]
    ambulances: tuple[Ambulance, ...]
    wards: tuple[WardSnapshot, ...]

    def events(self) -> list[dict[str, Any]]:
        """Every event of the flow, with unique ids, in no particular order."""
        events: list[dict[str, Any]] = []
        for number, visit in enumerate(self.visits):
            common = {"site": visit.site, "attendance_id": visit.attendance_id}
            events.append(
                {
                    **common,
                    "event_id": f"arr-{number}",
                    "event_type": "ae.arrival",
                    "occurred_at": rfc3339_in(visit.arrived, OFFSETS[number % len(OFFSETS)]),
                    "department_type": visit.department_type,
                    "mental_health": visit.mental_health,
                }
            )
            if visit.dta is not None:
                events.append(
                    {
                        **common,
                        "event_id": f"dta-{number}",
                        "event_type": "ae.decision_to_admit",
                        "occurred_at": rfc3339_in(visit.dta, timedelta(0)),
                    }
                )
            if visit.departed is not None:
                events.append(
                    {
                        **common,
                        "event_id": f"dep-{number}",
                        "event_type": "ae.departure",
                        "occurred_at": rfc3339_in(visit.departed, timedelta(hours=1)),
                        "outcome": visit.outcome,
                    }
                )
        for number, ambulance in enumerate(self.ambulances):
            common = {"site": ambulance.site, "handover_id": ambulance.handover_id}
            events.append(
                {
                    **common,
                    "event_id": f"amb-{number}",
                    "event_type": "ambulance.arrival",
                    "occurred_at": rfc3339_in(ambulance.arrived, timedelta(0)),
                }
            )
            if ambulance.handed_over is not None:
                events.append(
                    {
                        **common,
                        "event_id": f"hnd-{number}",
                        "event_type": "ambulance.handover",
                        "occurred_at": rfc3339_in(ambulance.handed_over, timedelta(0)),
                    }
                )
        for ward in self.wards:
            events.append(
                {
                    "event_id": ward.event_id,
                    "event_type": "beds.ward_state",
                    "occurred_at": rfc3339_in(ward.at, timedelta(0)),
                    "site": ward.site,
                    "ward": ward.ward,
                    "ward_type": ward.ward_type,
                    "beds_open_core": ward.core,
                    "beds_open_escalation": ward.escalation,
                    "beds_occupied": ward.occupied,
                    "nctr": ward.nctr,
                }
            )
        return events

    def times(self) -> list[datetime]:
        return [occurred_at(event) for event in self.events()]


# Durations on and around the boundaries the metrics are defined by.
_EDGE_MINUTES = (0, 15, 30, 45, 60, 240, 720)


def _minutes_near_edges() -> st.SearchStrategy[timedelta]:
    edge = st.sampled_from(_EDGE_MINUTES).flatmap(
        lambda minutes: st.sampled_from(
            (
                timedelta(minutes=minutes),
                timedelta(minutes=minutes, microseconds=1),
                timedelta(minutes=minutes) - timedelta(microseconds=1),
                timedelta(minutes=minutes, seconds=1),
            )
        )
    )
    edge = edge.filter(lambda duration: duration >= timedelta(0))
    anything = st.integers(0, 30 * 60).map(lambda minutes: timedelta(minutes=minutes))
    return st.one_of(edge, anything)


@st.composite
def flows(
    draw: st.DrawFn,
    start: datetime,
    span: timedelta,
    min_size: int = 2,
    max_size: int = 12,
) -> Flow:
    """A small well-formed flow of attendances, handovers and ward snapshots."""
    sites = draw(st.lists(st.sampled_from(SITES), min_size=1, max_size=3, unique=True))
    visits = []
    for number in range(draw(st.integers(min_size, max_size))):
        arrived = draw(event_times(start, span))
        dta = None
        if draw(st.booleans()):
            dta = arrived + draw(_minutes_near_edges())
        departed = None
        if draw(st.integers(0, 3)):
            departed = (dta or arrived) + draw(_minutes_near_edges())
        visits.append(
            Visit(
                site=draw(st.sampled_from(sites)),
                attendance_id=f"att-{number}",
                arrived=arrived,
                dta=dta,
                departed=departed,
                outcome=draw(st.sampled_from(OUTCOMES)),
                department_type=draw(st.integers(1, 3)),
                mental_health=draw(st.booleans()),
            )
        )
    ambulances = []
    for number in range(draw(st.integers(min_size, max_size))):
        arrived = draw(event_times(start, span))
        handed_over = None
        if draw(st.integers(0, 3)):
            handed_over = arrived + draw(_minutes_near_edges())
        ambulances.append(
            Ambulance(
                site=draw(st.sampled_from(sites)),
                handover_id=f"hov-{number}",
                arrived=arrived,
                handed_over=handed_over,
            )
        )
    wards = []
    for number in range(draw(st.integers(min_size, max_size))):
        occupied = draw(st.integers(0, 40))
        wards.append(
            WardSnapshot(
                site=draw(st.sampled_from(sites)),
                ward=draw(st.sampled_from(("w1", "w2"))),
                event_id=f"{draw(st.sampled_from(('p', 'q', 'r')))}-ward-{number}",
                at=draw(event_times(start, span)),
                ward_type=draw(st.sampled_from(("adult_ga", "adult_ga", *WARD_TYPES))),
                core=draw(st.integers(0, 30)),
                escalation=draw(st.integers(0, 5)),
                occupied=occupied,
                nctr=draw(st.integers(0, occupied)),
            )
        )
    if len(wards) > 1 and draw(st.booleans()):
        # Two snapshots of one ward at one instant: the greater event_id must win.
        first, second = wards[0], wards[1]
        wards[1] = WardSnapshot(
            site=first.site,
            ward=first.ward,
            event_id=second.event_id,
            at=first.at,
            ward_type=second.ward_type,
            core=second.core,
            escalation=second.escalation,
            occupied=second.occupied,
            nctr=second.nctr,
        )
    return Flow(tuple(visits), tuple(ambulances), tuple(wards))


def realistic_flow(rng: random.Random, start: datetime, days: int, per_day: int) -> Flow:
    """Ten days or so of plausible A&E, ambulance and ward traffic, seeded."""
    span = timedelta(days=days).total_seconds()
    visits = []
    for number in range(days * per_day):
        arrived = start + timedelta(seconds=rng.uniform(0, span))
        stay = timedelta(minutes=rng.choice((rng.uniform(20, 300), rng.uniform(60, 1800), 240)))
        departed = arrived + stay
        dta = None
        if rng.random() < 0.35:
            dta = arrived + stay * rng.random()
            if rng.random() < 0.3:
                departed = dta + timedelta(hours=rng.uniform(11, 14))
        visits.append(
            Visit(
                site=rng.choice(SITES),
                attendance_id=f"att-{number}",
                arrived=arrived,
                dta=dta,
                departed=departed,
                outcome="admitted" if dta is not None else rng.choice(OUTCOMES),
                department_type=rng.choice((1, 1, 1, 2, 3)),
                mental_health=rng.random() < 0.1,
            )
        )
    ambulances = []
    for number in range(days * per_day // 3):
        arrived = start + timedelta(seconds=rng.uniform(0, span))
        took = timedelta(minutes=rng.choice((rng.uniform(5, 120), 15, 30, 45, 60)))
        ambulances.append(Ambulance(rng.choice(SITES), f"hov-{number}", arrived, arrived + took))
    wards = []
    for number in range(days * 12):
        occupied = rng.randint(0, 35)
        wards.append(
            WardSnapshot(
                site=rng.choice(SITES),
                ward=rng.choice(("w1", "w2", "w3")),
                event_id=f"ward-{number}",
                at=start + timedelta(seconds=rng.uniform(0, span)),
                ward_type=rng.choice(("adult_ga", "adult_ga", "maternity")),
                core=rng.randint(10, 30),
                escalation=rng.randint(0, 4),
                occupied=occupied,
                nctr=rng.randint(0, occupied),
            )
        )
    return Flow(tuple(visits), tuple(ambulances), tuple(wards))
