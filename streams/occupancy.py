"""Adult G&A bed occupancy and medically fit patients, from each ward's latest snapshot."""

from __future__ import annotations

from dataclasses import dataclass

from events.contract import WardState
from streams.instants import Instant


@dataclass(slots=True)
class WardSnapshot:
    occurred_at: Instant
    event_id: str
    ward_type: str
    beds_open: int
    beds_occupied: int
    nctr: int

    @classmethod
    def of(cls, event: WardState, at: Instant) -> WardSnapshot:
        return cls(
            occurred_at=at,
            event_id=event.event_id,
            ward_type=event.ward_type,
            beds_open=event.beds_open_core + event.beds_open_escalation,
            beds_occupied=event.beds_occupied,
            nctr=event.nctr,
        )

    def supersedes(self, other: WardSnapshot | None) -> bool:
        """The latest occurred_at wins; a tie goes to the greater event_id."""
        return other is None or (self.occurred_at, self.event_id) > (
            other.occurred_at,
            other.event_id,
        )


@dataclass(slots=True)
class BedCounts:
    """Adult G&A beds only: critical care, maternity, mental health and paediatrics are excluded."""

    open: int = 0
    occupied: int = 0
    nctr: int = 0

    def count(self, ward: WardSnapshot) -> None:
        if ward.ward_type == "adult_ga":
            self.open += ward.beds_open
            self.occupied += ward.beds_occupied
            self.nctr += ward.nctr

    def add(self, other: BedCounts) -> None:
        self.open += other.open
        self.occupied += other.occupied
        self.nctr += other.nctr
