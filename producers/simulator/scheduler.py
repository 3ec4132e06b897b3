"""A discrete-event clock: actions run in simulated-time order, ties in the order scheduled."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any

Action = Callable[[Any], None]


class Scheduler:
    def __init__(self, now: float) -> None:
        self.now = now
        self._queue: list[tuple[float, int, Action, Any]] = []
        self._scheduled = 0

    def at(self, when: float, action: Action, subject: Any = None) -> None:
        # Never in the past: a model that computes an earlier instant means "at once".
        self._scheduled += 1
        heapq.heappush(self._queue, (max(when, self.now), self._scheduled, action, subject))

    def after(self, delay: float, action: Action, subject: Any = None) -> None:
        self.at(self.now + delay, action, subject)

    @property
    def next_time(self) -> float:
        return self._queue[0][0] if self._queue else float("inf")

    def step(self) -> None:
        """Run the next action."""
        when, _, action, subject = heapq.heappop(self._queue)
        self.now = when
        action(subject)
