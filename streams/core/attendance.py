"""A&E attendances: the record kept per attendance and the counts taken from it.

An attendance is counted only once its arrival is known ("held" until then). Among conflicting
events of one kind for one attendance (same attendance, different event ids), the latest
`occurred_at` wins and a tie goes to the greater `event_id`, as for ward snapshots, so that the
order of delivery never matters.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from events.contract import AeArrival, AeDecisionToAdmit, AeDeparture
from streams.core.instants import HOUR, NEVER, Instant, max_or_none

FOUR_HOURS = 4 * HOUR
TWELVE_HOURS = 12 * HOUR


@dataclass(slots=True)
class Attendance:
    arrived_at: Instant | None = None
    arrival_event: str = ""
    department_type: int = 1
    mental_health: bool = False
    dta_at: Instant | None = None
    dta_event: str = ""
    departed_at: Instant | None = None
    departure_event: str = ""
    outcome: str = ""
    last_event_at: Instant = NEVER

    @property
    def may_expire(self) -> bool:
        """Finished, or unmatched (no arrival): the lateness horizon may fold or drop it. A
        patient or ambulance still waiting never expires, however long the wait."""
        return self.arrived_at is None or self.departed_at is not None

    def arrive(self, event: AeArrival, at: Instant) -> None:
        if _supersedes(at, event.event_id, self.arrived_at, self.arrival_event):
            self.arrived_at, self.arrival_event = at, event.event_id
            self.department_type = event.department_type
            self.mental_health = event.mental_health
        if at > self.last_event_at:
            self.last_event_at = at

    def decide_to_admit(self, event: AeDecisionToAdmit, at: Instant) -> None:
        if _supersedes(at, event.event_id, self.dta_at, self.dta_event):
            self.dta_at, self.dta_event = at, event.event_id
        if at > self.last_event_at:
            self.last_event_at = at

    def depart(self, event: AeDeparture, at: Instant) -> None:
        if _supersedes(at, event.event_id, self.departed_at, self.departure_event):
            self.departed_at, self.departure_event = at, event.event_id
            self.outcome = event.outcome
        if at > self.last_event_at:
            self.last_event_at = at


def _supersedes(at: Instant, event_id: str, current_at: Instant | None, current_id: str) -> bool:
    return current_at is None or (at, event_id) > (current_at, current_id)


@dataclass(slots=True)
class DepartureCounts:
    """Counts over attendances that departed in a period; summable across periods and sites."""

    departures: int = 0
    within_4h: int = 0
    type1_departures: int = 0
    type1_within_4h: int = 0
    over_12h: int = 0
    mh_departures: int = 0
    mh_over_12h: int = 0
    trolley_waits: int = 0
    # New fields go last: the changelog holds these counts by position.
    dta_4_to_12h: int = 0  # admitted more than 4 h and at most 12 h after the decision to admit

    def count(
        self, visit: Attendance, arrived: Instant, dta: Instant | None, departed: Instant
    ) -> None:
        in_department = departed - arrived
        within_4h = in_department <= FOUR_HOURS
        over_12h = in_department > TWELVE_HOURS
        self.departures += 1
        self.within_4h += within_4h
        self.over_12h += over_12h
        if visit.department_type == 1:
            self.type1_departures += 1
            self.type1_within_4h += within_4h
        if visit.mental_health:
            self.mh_departures += 1
            self.mh_over_12h += over_12h
        if visit.outcome == "admitted" and dta is not None:
            after_dta = departed - dta
            self.trolley_waits += after_dta > TWELVE_HOURS
            self.dta_4_to_12h += FOUR_HOURS < after_dta <= TWELVE_HOURS

    def add(self, other: DepartureCounts) -> None:
        for count in fields(self):
            setattr(self, count.name, getattr(self, count.name) + getattr(other, count.name))


@dataclass(slots=True)
class Arrivals:
    """Arrivals as of an instant: at A&E (attendances), and of ambulances at the hospital."""

    ae_today: int = 0
    ae_last_hour: int = 0
    ambulance_today: int = 0

    def add(self, other: Arrivals) -> None:
        for count in fields(self):
            setattr(self, count.name, getattr(self, count.name) + getattr(other, count.name))


@dataclass(slots=True)
class DepartmentCensus:
    """Who is in the department at an instant; summable across sites (longest wait is a max)."""

    in_department: int = 0
    over_4h: int = 0
    over_12h: int = 0
    mh_over_12h: int = 0
    longest_wait: Instant | None = None
    waiting_after_dta: int = 0
    over_12h_after_dta: int = 0

    def count(
        self, visit: Attendance, arrived: Instant, dta: Instant | None, as_of: Instant
    ) -> None:
        wait = as_of - arrived
        self.in_department += 1
        self.over_4h += wait > FOUR_HOURS
        if wait > TWELVE_HOURS:
            self.over_12h += 1
            self.mh_over_12h += visit.mental_health
        if self.longest_wait is None or wait > self.longest_wait:
            self.longest_wait = wait
        if dta is not None:
            self.waiting_after_dta += 1
            self.over_12h_after_dta += as_of - dta > TWELVE_HOURS

    def add(self, other: DepartmentCensus) -> None:
        self.in_department += other.in_department
        self.over_4h += other.over_4h
        self.over_12h += other.over_12h
        self.mh_over_12h += other.mh_over_12h
        self.longest_wait = max_or_none(self.longest_wait, other.longest_wait)
        self.waiting_after_dta += other.waiting_after_dta
        self.over_12h_after_dta += other.over_12h_after_dta
