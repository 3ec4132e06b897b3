"""A thing's snapshots, each replacing the one before: "as of T" finds the one in force at T."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from streams.core.instants import Instant


class Snapshot(Protocol):
    @property
    def occurred_at(self) -> Instant: ...

    @property
    def order(self) -> tuple[Any, ...]:
        """Which of two snapshots is the later: occurred_at first, then a tie-break."""
        ...


S = TypeVar("S", bound=Snapshot)


@dataclass(slots=True)
class History(Generic[S]):
    """Snapshots, oldest first, trimmed to those the lateness horizon may still ask about:
    every snapshot since the cutoff, and the one in force at the cutoff."""

    snapshots: list[S] = field(default_factory=list)

    def add(self, snapshot: S, cutoff: Instant | None) -> None:
        snapshots = self.snapshots
        index = len(snapshots)
        while index and snapshots[index - 1].order > snapshot.order:
            index -= 1
        # Idempotent: a worker re-applies an event after a crash cut its writes short.
        if not index or snapshots[index - 1].order != snapshot.order:
            snapshots.insert(index, snapshot)
        if cutoff is not None:
            while len(snapshots) > 1 and snapshots[1].occurred_at <= cutoff:
                del snapshots[0]

    def as_of(self, t: Instant) -> S | None:
        for snapshot in reversed(self.snapshots):
            if snapshot.occurred_at <= t:
                return snapshot
        return None
