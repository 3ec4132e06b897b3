"""An index of keys by the hour of their last event, to find what the lateness horizon passed."""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from typing import Generic, TypeVar

from streams.instants import HOUR, Instant

K = TypeVar("K", bound=Hashable)


class ExpiryIndex(Generic[K]):
    """Keys bucketed by hour. A key may sit in several buckets; callers re-check on expiry."""

    def __init__(self) -> None:
        self._buckets: dict[int, list[K]] = {}
        self._oldest_hour: int | None = None

    def add(self, key: K, at: Instant) -> None:
        hour = at // HOUR
        bucket = self._buckets.get(hour)
        if bucket is None:
            self._buckets[hour] = bucket = []
            if self._oldest_hour is None or hour < self._oldest_hour:
                self._oldest_hour = hour
        bucket.append(key)

    def expired(self, cutoff: Instant) -> Iterator[K]:
        """Pop every key whose whole hour lies before `cutoff`."""
        if self._oldest_hour is None or (self._oldest_hour + 1) * HOUR > cutoff:
            return
        for hour in sorted(h for h in self._buckets if (h + 1) * HOUR <= cutoff):
            yield from self._buckets.pop(hour)
        self._oldest_hour = min(self._buckets, default=None)

    def __len__(self) -> int:
        return sum(len(bucket) for bucket in self._buckets.values())
