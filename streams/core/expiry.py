"""What the lateness horizon lets go: per site, its event time and the keys that may expire."""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from streams.core.instants import HOUR, NEVER, Instant

K = TypeVar("K", bound=Hashable)


class ExpiryIndex(Generic[K]):
    """Keys bucketed by hour. A key may sit in several buckets; callers re-check on expiry."""

    def __init__(self) -> None:
        self._buckets: dict[int, list[K]] = {}
        # Events come mostly in time order, so most keys go to the bucket used last.
        self._last_hour: int | None = None
        self._last_bucket: list[K] = []

    def add(self, key: K, at: Instant) -> None:
        hour = at // HOUR
        if hour != self._last_hour:
            bucket = self._buckets.get(hour)
            if bucket is None:
                bucket = self._buckets[hour] = []
            self._last_hour, self._last_bucket = hour, bucket
        self._last_bucket.append(key)

    def expired(self, cutoff: Instant) -> Iterator[K]:
        """Pop every key whose whole hour lies before `cutoff`."""
        self._last_hour = None
        for hour in sorted(h for h in self._buckets if (h + 1) * HOUR <= cutoff):
            yield from self._buckets.pop(hour)

    def __bool__(self) -> bool:
        return bool(self._buckets)


@dataclass(slots=True)
class SiteClock:
    """One site's event time. Each site (one Kafka partition key) has its own watermark, so a
    trust replaying a backlog after an outage is not refused as late because others moved on.
    """

    watermark: Instant = NEVER
    next_sweep: Instant = NEVER
    attendances: ExpiryIndex[tuple[str, str]] = field(default_factory=ExpiryIndex)
    handovers: ExpiryIndex[tuple[str, str]] = field(default_factory=ExpiryIndex)
    event_ids: ExpiryIndex[str] = field(default_factory=ExpiryIndex)
