"""Delivering simulated events: as fast as possible, or paced against the wall clock."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Protocol

from events.contract import Event


class Sink(Protocol):
    """Where events go: a file, Kafka or the gateway."""

    def send(self, event: Event) -> None: ...

    def flush(self) -> None:
        """Deliver whatever is buffered: the pacer is about to wait."""

    def close(self) -> None: ...


class Pacer:
    """Holds each event back until its simulated time has come on the wall clock, at `speed`
    simulated seconds per wall second from `origin` (the simulated instant the run starts at).
    Events from before `origin` (patients already in the department) go at once."""

    def __init__(
        self,
        speed: float,
        origin: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._speed, self._origin = speed, origin
        self._clock, self._sleep = clock, sleep
        self._started = clock()

    def wait_for(self, simulated: float, before_waiting: Callable[[], None]) -> None:
        due = self._started + (simulated - self._origin) / self._speed
        delay = due - self._clock()
        if delay > 0:
            before_waiting()
            self._sleep(delay)


def deliver(events: Iterable[Event], sink: Sink, pacer: Pacer | None) -> int:
    """Send every event in order, paced if a pacer is given; return how many were sent."""
    sent = 0
    try:
        for event in events:
            if pacer is not None:
                pacer.wait_for(event.occurred_at.timestamp(), sink.flush)
            sink.send(event)
            sent += 1
    finally:
        sink.close()
    return sent
