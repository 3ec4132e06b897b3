"""Instants as integer microseconds since the Unix epoch, and the Europe/London calendar.

Integers keep "exactly four hours" exact; floats would not.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
_MICROSECOND = timedelta(microseconds=1)
MINUTE = 60_000_000
HOUR = 60 * MINUTE
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = _EPOCH.toordinal()
NEVER = -(1 << 62)  # before any instant
_GMT_ADOPTED = (datetime(1848, 1, 1, tzinfo=UTC) - _EPOCH) // _MICROSECOND

Instant = int


def to_instant(moment: datetime) -> Instant:
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError("an instant needs a UTC offset")
    # Plain integer arithmetic: exact, and about twice as fast as timestamp() or timedelta
    # division on pydantic's tzinfo, which matters at 200,000 events/s.
    seconds = (
        (moment.toordinal() - _EPOCH_ORDINAL) * 86_400
        + moment.hour * 3_600
        + moment.minute * 60
        + moment.second
        - offset.days * 86_400
        - offset.seconds
    )
    return seconds * 1_000_000 + moment.microsecond


def to_duration(delta: timedelta) -> Instant:
    return delta // _MICROSECOND


def london_day(instant: Instant) -> date:
    """The London calendar day containing the instant (DST-correct)."""
    if instant < _GMT_ADOPTED:
        return (_EPOCH + timedelta(microseconds=instant)).astimezone(LONDON).date()
    return _london_day_of_hour(instant // HOUR)


@lru_cache(maxsize=1 << 16)
def _london_day_of_hour(utc_hour: int) -> date:
    # Since London adopted GMT (1847) its offset changes only on whole UTC hours, so a UTC
    # hour lies within one London day; before that, local mean time was 1 min 15 s behind.
    return datetime.fromtimestamp(utc_hour * 3600, LONDON).date()


def same_month(a: date, b: date) -> bool:
    return a.year == b.year and a.month == b.month


def max_or_none(a: Instant | None, b: Instant | None) -> Instant | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)
