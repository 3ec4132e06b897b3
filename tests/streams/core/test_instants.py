"""Instants and the London calendar at their far edges, and how durations are shown."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from streams.core.instants import london_day, to_instant
from streams.table import _duration


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        # Before GMT (1847) London kept local mean time, 1 min 15 s behind UTC.
        (datetime(1800, 1, 1, 0, 0, 30, tzinfo=UTC), date(1799, 12, 31)),
        (datetime(1800, 1, 1, 0, 30, tzinfo=UTC), date(1800, 1, 1)),
        (datetime(1, 1, 1, 0, 2, tzinfo=UTC), date(1, 1, 1)),
        # British Standard Time, 1968-71: UTC+1 all year round.
        (datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), date(1970, 1, 1)),
        (datetime(2025, 10, 25, 23, 30, tzinfo=UTC), date(2025, 10, 26)),  # 00:30 BST
        (datetime(2025, 10, 26, 23, 30, tzinfo=UTC), date(2025, 10, 26)),  # 23:30 GMT
    ],
)
def test_the_london_day_of_an_instant(moment: datetime, day: date) -> None:
    assert london_day(to_instant(moment)) == day


def test_an_instant_is_exact_to_the_microsecond_whatever_the_offset() -> None:
    moment = datetime(
        2025, 6, 1, 12, 0, 0, 999999, tzinfo=timezone(timedelta(hours=-9, minutes=-30))
    )
    expected = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    assert to_instant(moment) == expected


@pytest.mark.parametrize(
    ("minutes", "shown"),
    [
        (None, "\N{EN DASH}"),
        (0.4, "0 m"),
        (59.6, "1 h 00 m"),
        (125, "2 h 05 m"),
        (-90, "-1 h 30 m"),
    ],
)
def test_durations_are_shown_in_hours_and_minutes_with_their_sign(
    minutes: float | None, shown: str
) -> None:
    assert _duration(minutes) == shown
