"""Ambulance handovers: from the ambulance arriving at hospital to clinical handover complete."""

from __future__ import annotations

from dataclasses import dataclass, fields

from streams.core.instants import MINUTE, NEVER, Instant, max_or_none

STANDARD = 15 * MINUTE


@dataclass(slots=True)
class Handover:
    # Conflicting events of one kind: the latest occurred_at wins (no other field depends on it).
    arrived_at: Instant | None = None
    handed_over_at: Instant | None = None
    last_event_at: Instant = NEVER

    @property
    def may_expire(self) -> bool:
        """Finished, or unmatched (no arrival): the lateness horizon may fold or drop it. A
        patient or ambulance still waiting never expires, however long the wait."""
        return self.arrived_at is None or self.handed_over_at is not None

    def arrive(self, at: Instant) -> None:
        if self.arrived_at is None or at > self.arrived_at:
            self.arrived_at = at
        if at > self.last_event_at:
            self.last_event_at = at

    def hand_over(self, at: Instant) -> None:
        if self.handed_over_at is None or at > self.handed_over_at:
            self.handed_over_at = at
        if at > self.last_event_at:
            self.last_event_at = at


@dataclass(slots=True)
class HandoverCounts:
    """Counts over handovers completed in a period; summable across periods and sites."""

    handovers: int = 0
    total: Instant = 0
    over_30: int = 0
    over_45: int = 0
    over_60: int = 0
    lost: Instant = 0
    # New fields go last: the changelog holds these counts by position.
    within_15: int = 0
    within_30: int = 0
    lost_over_60: Instant = 0  # each handover's time beyond 60 minutes, summed

    def count(self, arrived: Instant, handed_over: Instant) -> None:
        took = handed_over - arrived
        self.handovers += 1
        self.total += took
        self.over_30 += took > 30 * MINUTE
        self.over_45 += took > 45 * MINUTE
        self.over_60 += took > 60 * MINUTE
        self.lost += max(0, took - STANDARD)
        self.within_15 += took <= STANDARD
        self.within_30 += took <= 30 * MINUTE
        self.lost_over_60 += max(0, took - 60 * MINUTE)

    def add(self, other: HandoverCounts) -> None:
        for count in fields(self):
            setattr(self, count.name, getattr(self, count.name) + getattr(other, count.name))


@dataclass(slots=True)
class AmbulanceCensus:
    """Ambulances at the hospital whose patient has not been handed over yet."""

    waiting: int = 0
    longest_wait: Instant | None = None

    def count(self, arrived: Instant, as_of: Instant) -> None:
        self.waiting += 1
        self.longest_wait = max_or_none(self.longest_wait, as_of - arrived)

    def add(self, other: AmbulanceCensus) -> None:
        self.waiting += other.waiting
        self.longest_wait = max_or_none(self.longest_wait, other.longest_wait)
