"""Simulated time: float seconds since the Unix epoch, read on the Europe/London calendar.

London's offset from UTC changes only on whole UTC hours, so every UTC hour lies within one
London local hour: the models look the hour up once per hour, not once per event.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0


@dataclass(frozen=True, slots=True)
class LocalHour:
    day: date  # the London calendar day
    hour: int  # 0-23, London local time
    weekday: int  # Monday 0
    starts: float  # the hour's first instant (epoch seconds)
    ends: float


def local_hour(at: float) -> LocalHour:
    return _local_hour(math.floor(at / HOUR))


@lru_cache(maxsize=1 << 14)
def _local_hour(utc_hour: int) -> LocalHour:
    local = datetime.fromtimestamp(utc_hour * HOUR, LONDON)
    return LocalHour(
        day=local.date(),
        hour=local.hour,
        weekday=local.weekday(),
        starts=utc_hour * HOUR,
        ends=(utc_hour + 1) * HOUR,
    )


def at_local(day: date, hours: float) -> float:
    """The instant `hours` after the London midnight that starts `day` (wall-clock hours)."""
    whole = min(23, int(hours))
    start = datetime(day.year, day.month, day.day, whole, tzinfo=LONDON).timestamp()
    return start + (hours - whole) * HOUR


def next_day(day: date) -> date:
    return day + timedelta(days=1)


def stamp(at: float) -> str:
    """RFC 3339 in UTC with `Z`, to the second: what the contract asks for."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(at)))
