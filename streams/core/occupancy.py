"""Adult G&A bed occupancy and medically fit patients, from each ward's snapshot in force."""

from __future__ import annotations

from dataclasses import dataclass, fields

from events.contract import WardState
from streams.core.history import History
from streams.core.instants import Instant


@dataclass(slots=True)
class WardSnapshot:
    occurred_at: Instant
    event_id: str
    ward_type: str
    beds_open: int
    beds_occupied: int
    nctr: int
    beds_escalation: int = 0  # of beds_open; last, as the changelog holds snapshots by position

    @classmethod
    def of(cls, event: WardState, at: Instant) -> WardSnapshot:
        return cls(
            occurred_at=at,
            event_id=event.event_id,
            ward_type=event.ward_type,
            beds_open=event.beds_open_core + event.beds_open_escalation,
            beds_occupied=event.beds_occupied,
            nctr=event.nctr,
            beds_escalation=event.beds_open_escalation,
        )

    @property
    def order(self) -> tuple[Instant, str]:
        """The latest occurred_at wins; a tie goes to the greater event_id."""
        return (self.occurred_at, self.event_id)


class WardHistory(History[WardSnapshot]):
    """A ward's snapshots."""

    __slots__ = ()


@dataclass(slots=True)
class BedCounts:
    """Adult G&A beds (critical care, maternity, mental health and paediatrics excluded), and
    adult critical care beds counted alike, apart."""

    open: int = 0
    occupied: int = 0
    nctr: int = 0
    escalation_open: int = 0
    cc_open: int = 0
    cc_occupied: int = 0

    def count(self, ward: WardSnapshot) -> None:
        if ward.ward_type == "adult_ga":
            self.open += ward.beds_open
            self.occupied += ward.beds_occupied
            self.nctr += ward.nctr
            self.escalation_open += ward.beds_escalation
        elif ward.ward_type == "adult_critical_care":
            self.cc_open += ward.beds_open
            self.cc_occupied += ward.beds_occupied

    def add(self, other: BedCounts) -> None:
        for count in fields(self):
            setattr(self, count.name, getattr(self, count.name) + getattr(other, count.name))
