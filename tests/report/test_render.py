"""The figures on the page round the way their colour went: a breach never reads as the target."""

from __future__ import annotations

import pytest

from report.render import NO_VALUE, _cell
from report.situation import Cell, Measure, Target

OCCUPANCY = Measure("occupancy", "f", "s", "G&A occupancy", "ratio", "beds", Target("max", 0.92))
FOUR_HOUR = Measure("four_hour", "f", "s", "A&E 4 h", "ratio", "ae", Target("min", 0.78))
WAIT = Measure(
    "longest_wait", "f", "s", "Longest wait", "seconds", "ambulance", Target("max", 2700)
)


@pytest.mark.parametrize(
    ("measure", "value", "text"),
    [
        (OCCUPANCY, 0.92, "92.0%"),  # exactly at the target: within, and reads so
        (OCCUPANCY, 0.9204, "92.1%"),  # over: never "92.0%" in red
        (OCCUPANCY, 0.91996, "91.9%"),  # within: never "92.0%", which would read as exactly at it
        (FOUR_HOUR, 0.78, "78.0%"),
        (FOUR_HOUR, 0.7796, "77.9%"),
        (FOUR_HOUR, 0.78004, "78.1%"),
        (WAIT, 2700, "45 min"),
        (WAIT, 2720, "46 min"),
        (WAIT, 2690, "44 min"),
        (OCCUPANCY, None, NO_VALUE),
    ],
)
def test_a_figure_rounds_toward_its_verdict(
    measure: Measure, value: float | None, text: str
) -> None:
    assert measure.target is not None
    cell = Cell(value, measure.target.breached(value), stale=False)
    assert _cell(measure, cell)[0] == text
