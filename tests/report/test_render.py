"""The page as people read it: figures round the way their verdict went, breaches carry a mark
as well as a colour, and the breach and within-target fills stay apart in black and white."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import BytesIO

import pytest
from matplotlib.colors import to_hex
from PIL import Image

from report.render import BREACH, MET, NO_VALUE, _cell, figure
from report.situation import HISTORY, Cell, Measure, Target, build
from tests.report.answers import AT, REGISTRY, fresh_feeds, sample, site_labels

OCCUPANCY = Measure(
    "occupancy", "f", "t", "s", "G&A occupancy", "ratio", "beds", Target("max", 0.92)
)
FOUR_HOUR = Measure("four_hour", "f", "t", "s", "A&E 4 h", "ratio", "ae", Target("min", 0.78))
WAIT = Measure(
    "longest_wait", "f", "t", "s", "Longest wait", "seconds", "ambulance", Target("max", 2700)
)


@pytest.mark.parametrize(
    ("measure", "value", "text"),
    [
        (OCCUPANCY, 0.92, "✓ 92.0%"),  # exactly at the target: within, and reads so
        (OCCUPANCY, 0.9204, "✗ 92.1%"),  # over: never "92.0%" in red
        (OCCUPANCY, 0.91996, "✓ 91.9%"),  # within: never "92.0%", which reads as exactly at it
        (FOUR_HOUR, 0.78, "✓ 78.0%"),
        (FOUR_HOUR, 0.7796, "✗ 77.9%"),
        (FOUR_HOUR, 0.78004, "✓ 78.1%"),
        (WAIT, 2700, "✓ 45 min"),
        (WAIT, 2720, "✗ 46 min"),
        (WAIT, 2690, "✓ 44 min"),
        (WAIT, 2 * 3600 + 5 * 60, "✗ 2 h 05 min"),  # the one duration format of the page
        (OCCUPANCY, None, NO_VALUE),
    ],
)
def test_a_figure_rounds_toward_its_verdict(
    measure: Measure, value: float | None, text: str
) -> None:
    assert measure.target is not None
    cell = Cell(value, measure.target.breached(value), stale=False)
    assert _cell(measure, cell, AT)[0] == text


def _luminance(grey: float) -> float:
    """WCAG relative luminance of a grey level 0-255."""
    level = grey / 255
    return level / 12.92 if level <= 0.04045 else ((level + 0.055) / 1.055) ** 2.4


def test_breach_and_within_target_fills_differ_by_3_to_1_in_a_greyscale_render() -> None:
    # Royal London over the occupancy target, Whipps Cross within it.
    over, within = site_labels("R1H12"), site_labels("R1HKH")
    samples = [
        sample("uecflow_as_of_timestamp_seconds", AT.timestamp()),
        *fresh_feeds(),
        sample("uecflow_ga_occupancy_ratio", 0.97, **over),
        sample("uecflow_ga_occupancy_ratio", 0.85, **within),
    ]
    fig = figure(build(REGISTRY, AT, samples, [], "http://prometheus:9090"))
    png = BytesIO()
    fig.savefig(png, format="png", dpi=fig.dpi)  # as the report saves it
    grey = Image.open(png).convert("L")  # what a black-and-white printer or photocopier keeps
    table = next(child for ax in fig.axes for child in ax.tables)
    fills: dict[str, float] = {}
    for cell in table.get_celld().values():
        colour = to_hex(cell.get_facecolor())
        if colour in (BREACH, MET):
            box = cell.get_window_extent()
            # Just inside the cell's lower left corner: fill, not text or border.
            x, y = int(box.x0) + 3, grey.height - int(box.y0) - 3
            level = grey.getpixel((x, y))
            assert isinstance(level, int)
            fills[colour] = level
    assert set(fills) == {BREACH, MET}
    dark, light = sorted(_luminance(fills[colour]) for colour in (BREACH, MET))
    assert (light + 0.05) / (dark + 0.05) >= 3


def test_each_trust_follows_its_sites_and_the_system_comes_last() -> None:
    samples = [sample("uecflow_as_of_timestamp_seconds", AT.timestamp()), *fresh_feeds()]
    rows = build(REGISTRY, AT, samples, [], "http://prometheus:9090").rows()
    assert [row.name for row in rows] == [
        "Royal London", "Whipps Cross", "Newham", "Barts Health",
        "Queen's", "King George", "BHRUT",
        "Homerton", "Homerton Healthcare",
        "NEL system",
    ]  # fmt: skip
    assert [row.total for row in rows].count(True) == 4


@pytest.mark.parametrize(
    ("since", "known", "line"),
    [
        (AT - timedelta(minutes=325), True, "since 06:35"),  # London is on UTC in January
        (AT - timedelta(hours=13, minutes=50), True, "since Wed 22:10"),
        (AT - timedelta(minutes=325), False, "since ≤06:35"),  # no data before: maybe older
        (AT - HISTORY, False, "for 7+ days"),
    ],
)
def test_a_breach_says_since_when_in_london_time(since: datetime, known: bool, line: str) -> None:
    cell = Cell(0.95, breach=True, stale=False, since=since, since_known=known)
    assert _cell(OCCUPANCY, cell, AT)[0] == f"✗ 95.0%\n{line}"
