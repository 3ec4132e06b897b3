"""Noticing a changelog recovery that has stopped: no message read for a long while.

A worker that never finishes recovering serves no numbers, and every board goes stale until
someone restarts it by hand. Faust's recovery has stalled so (faust-streaming issue 596, fixed
here at its cause; a rarer one, about one takeover in twenty, was seen once after a worker was
killed and not found again in 60 runs). Whatever the cause, a worker whose recovery reads
nothing for `patience` seconds is better restarted: the restart reads the changelog afresh.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Far longer than any recovery pauses: a changelog of 176,000 messages is read in 28 s.
PATIENCE_SECONDS = 180.0


@dataclass(slots=True)
class RecoveryWatch:
    """Fed, every few seconds, the changelog messages still to read (None: not recovering)."""

    patience: float = PATIENCE_SECONDS
    _remaining: int | None = field(default=None, init=False)
    _unchanged_since: float = field(default=0.0, init=False)

    def stalled(self, remaining: int | None, now: float) -> bool:
        """Whether the recovery has read nothing for `patience` seconds up to `now` (monotonic
        seconds). Any change of what remains counts as reading: a new recovery restarts it."""
        if not remaining:
            self._remaining = None
            return False
        if remaining != self._remaining:
            self._remaining, self._unchanged_since = remaining, now
            return False
        return now - self._unchanged_since >= self.patience
