"""The situation report as one A4-landscape page (PNG and PDF), drawn with matplotlib's Agg.

A breach is dark red with a cross, a figure within its target light green with a tick: the
symbols and a luminance contrast of about 7:1 between the two fills keep them apart on a
black-and-white printout and for readers who cannot tell red from green. A figure from a stale
feed is grey, hatched and labelled "stale" instead, whatever its value, so it cannot pass for
current.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from textwrap import fill

import matplotlib.dates as mdates
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MultipleLocator, PercentFormatter
from matplotlib.transforms import Bbox

from report.situation import HISTORY, STREAMS, Cell, Feed, Measure, Situation, Target
from streams.core.instants import LONDON
from streams.core.intake import FEED_NAMES, Stream

TITLE = "NEL urgent and emergency care — situation report"
A4_LANDSCAPE = (297 / 25.4, 210 / 25.4)  # inches
DPI = 150
PNG_SIZE = (int(A4_LANDSCAPE[0] * DPI), int(A4_LANDSCAPE[1] * DPI))  # as matplotlib rounds
BREACH, MET, GREY, WHITE = "#a50f15", "#e5f5e0", "#cfcfcf", "#ffffff"
BREACH_MARK, MET_MARK = "\u2717", "\u2713"  # ✗ and ✓
HEADER = "#1f3b63"
FEED_HEADINGS = {
    Stream.AE.value: "A&E feed",
    Stream.BEDS.value: "Beds feed",
    Stream.AMBULANCE.value: "Ambulance\nfeed",
}
NO_VALUE = "\u2013"  # an en dash: a figure that is not defined (no departures yet)
SITE_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#17becf")


def figure(situation: Situation) -> Figure:
    fig = Figure(figsize=A4_LANDSCAPE, dpi=DPI)
    # Agg, never pyplot: pyplot would pick a GUI backend where a display exists.
    FigureCanvasAgg(fig)
    _heading(fig, situation)
    _table(fig.add_axes((0.025, 0.47, 0.95, 0.37)), situation)
    _trends(fig, situation)
    _footnote(fig, situation)
    return fig


def save(situation: Situation, png: Path | None, pdf: Path | None) -> None:
    fig = figure(situation)
    if png is not None:
        fig.savefig(png, format="png", dpi=DPI, metadata={"Software": None},
                    pil_kwargs={"optimize": True})  # fmt: skip
    if pdf is not None:
        # No creation date: the same data makes the same file.
        fig.savefig(pdf, format="pdf", metadata={"CreationDate": None, "Creator": TITLE})


def _london(situation: Situation) -> str:
    return situation.at.astimezone(LONDON).strftime("%a %d %b %Y %H:%M")


def _heading(fig: Figure, situation: Situation) -> None:
    fig.text(0.025, 0.955, TITLE, fontsize=17, fontweight="bold", color=HEADER)
    fig.text(0.025, 0.918, f"as of {_london(situation)} (London time)", fontsize=11)
    stale = situation.stale_feeds()
    if stale:
        names = "; ".join(
            f"{row.name} {FEED_NAMES[feed.stream]} ({_age(feed, situation)})" for row, feed in stale
        )
        fig.text(
            0.025, 0.872,
            f"STALE FEEDS, figures greyed, NOT current: {names}",
            fontsize=9.5, fontweight="bold", color="white", wrap=True,
            bbox={"facecolor": "#b00020", "edgecolor": "none", "pad": 4},
        )  # fmt: skip


def _age(feed: Feed, situation: Situation) -> str:
    age = feed.age(situation.at)
    if age is None:
        return "no event ever"
    return f"last event {_duration(age.total_seconds())} ago"


def _duration(seconds: float, rounding: Rounding = math.floor) -> str:
    """The one way the report writes a duration: "45 min", "2 h 05 min"."""
    minutes = max(0, int(rounding(round(seconds / 60, 6))))
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def _target_text(measure: Measure) -> str:
    target = measure.target
    if target is None:
        return "no target"
    if target.bound == "max" and target.value == 0:
        return "none allowed"
    sign = "≤" if target.bound == "max" else "≥"
    if measure.unit == "ratio":
        return f"{sign} {target.value * 100:.4g}%"
    return f"{sign} {_format(measure, target.value)}"


Rounding = Callable[[float], float]


def _format(measure: Measure, value: float | None, rounding: Rounding = round) -> str:
    if value is None:
        return NO_VALUE
    if measure.unit == "ratio":
        # round(…, 6) first: 0.78 * 1000 is 780.0000000000001, which ceil would make 78.1%.
        return f"{rounding(round(value * 1000, 6)) / 10:.1f}%"
    if measure.unit == "seconds":
        return _duration(value, rounding)
    return f"{value:,.0f}"


def _toward_verdict(measure: Measure, cell: Cell) -> Rounding:
    """Round a figure the way its colour went, so that a red 92.04% never reads "92.0%" under
    "≤ 92%" (nor a green 91.96% "92.0%" above it: that one is within)."""
    if measure.target is None or cell.breach is None:
        return round
    upward = (measure.target.bound == "max") == cell.breach
    return math.ceil if upward else math.floor


def _cell(measure: Measure, cell: Cell, at: datetime) -> tuple[str, str]:
    text = _format(measure, cell.value, _toward_verdict(measure, cell))
    if cell.stale:
        return f"{text}\nstale", GREY
    if cell.breach is None:
        return text, WHITE
    if not cell.breach:
        return f"{MET_MARK} {text}", MET
    since = "" if cell.since is None else f"\n{_since(cell.since, cell.since_known, at)}"
    return f"{BREACH_MARK} {text}{since}", BREACH


def _since(since: datetime, known: bool, at: datetime) -> str:
    """When a breach began, as the SCC says it: "since 06:35", "since Thu 22:10"; "since
    ≤06:35" when the history has nothing before it, so it may have begun earlier."""
    if since <= at - HISTORY:
        return f"for {HISTORY.days}+ days"
    local, today = since.astimezone(LONDON), at.astimezone(LONDON).date()
    when = f"{local:%H:%M}" if local.date() == today else f"{local:%a %H:%M}"
    return f"since {'' if known else '≤'}{when}"


def _feed_cell(feed: Feed, situation: Situation) -> tuple[str, str]:
    age = feed.age(situation.at)
    text = "none" if age is None else _duration(age.total_seconds())
    if feed.stale(situation.at):
        return f"{text}\nSTALE", GREY
    return text, WHITE


def _rows(situation: Situation) -> tuple[list[list[str]], list[list[str]]]:
    texts, colours = [], []
    for row in situation.rows():
        cells = [_cell(m, row.cells[m.key], situation.at) for m in situation.measures]
        feeds = [_feed_cell(row.feeds[s], situation) if row.feeds else ("", WHITE) for s in STREAMS]
        name = row.name if row.total else f"  {row.name}"  # sites indented under their trust
        texts.append([name] + [text for text, _ in cells + feeds])
        colours.append([WHITE] + [colour for _, colour in cells + feeds])
    return texts, colours


def _table(ax: Axes, situation: Situation) -> None:
    ax.axis("off")
    rows = situation.rows()
    texts, colours = _rows(situation)
    header = ["Site / trust"]
    header += [f"{fill(m.label, 11)}\n{_target_text(m)}" for m in situation.measures]
    header += [f"{FEED_HEADINGS[s]}\nlast event" for s in STREAMS]
    measures = len(situation.measures)
    table = ax.table(
        cellText=texts, cellColours=colours, colLabels=header, loc="upper center",
        cellLoc="center", bbox=Bbox.from_bounds(0.0, 0.0, 1.0, 1.0),
        colWidths=[0.13] + [0.69 / measures] * measures + [0.18 / len(STREAMS)] * len(STREAMS),
    )  # fmt: skip
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    for (line, column), cell in table.get_celld().items():
        cell.set_edgecolor("#9a9a9a")
        if line == 0:
            cell.set_height(cell.get_height() * 2.2)  # up to four lines of heading
            cell.set_facecolor(HEADER)
            cell.get_text().set_color("white")
            cell.get_text().set_fontweight("bold")
            cell.get_text().set_fontsize(7)
        elif cell.get_facecolor()[:3] == to_rgb(GREY):
            cell.set_hatch("////")
            cell.get_text().set_color("#303030")
            cell.get_text().set_fontstyle("italic")
        elif cell.get_facecolor()[:3] == to_rgb(BREACH):
            cell.get_text().set_color("white")
            if "\n" in cell.get_text().get_text():
                cell.get_text().set_fontsize(6.5)  # "since Fri 19:00" must fit the column
            else:
                cell.get_text().set_fontweight("bold")
        if column == 0:
            cell.get_text().set_horizontalalignment("left")
            cell.PAD = 0.04
        if line and rows[line - 1].total:  # a trust's or the system's total
            cell.get_text().set_fontweight("bold")


def _trends(fig: Figure, situation: Situation) -> None:
    count = len(situation.trends)
    width, gap, left = 0.19, 0.053, 0.05
    for index, trend in enumerate(situation.trends):
        ax = fig.add_axes((left + index * (width + gap), 0.15, width, 0.24))
        _trend(ax, trend.measure, trend.times, trend.lines)
        if index == count - 1:
            handles, labels = ax.get_legend_handles_labels()
            fig.legend(handles, labels, loc="lower center", ncol=len(labels),
                       bbox_to_anchor=(0.5, 0.068), fontsize=8, frameon=False)  # fmt: skip


def _trend(
    ax: Axes,
    measure: Measure,
    times: tuple[datetime, ...],
    lines: dict[str, tuple[float | None, ...]],
) -> None:
    scale = 1 / 60 if measure.unit == "seconds" else 1.0
    xs = mdates.date2num(list(times))  # type: ignore[no-untyped-call]
    for (name, values), colour in zip(lines.items(), SITE_COLOURS, strict=False):
        ys = [math.nan if v is None else v * scale for v in values]
        ax.plot(xs, ys, label=name, color=colour, linewidth=1.1)
    _target_line(ax, measure.target, scale)
    ax.set_title(f"{measure.label} ({_target_text(measure)})", fontsize=9)
    ax.tick_params(labelsize=7)
    ax.grid(True, linewidth=0.3, alpha=0.6)
    # matplotlib.dates has no type hints for these two.
    ax.xaxis.set_major_locator(mdates.HourLocator(interval=6, tz=LONDON))  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=LONDON))  # type: ignore[no-untyped-call]
    if measure.unit == "ratio":
        # Automatic decimals: a tick at 92.5% must not read 92%, next to a 92% target line.
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))
    else:
        # Ticks on whole quarter hours or hours, so that "2 h 00 min" is a tick, not "1 h 40".
        top = ax.get_ylim()[1]
        step = next((m for m in (15, 30, 60, 120, 180, 240, 360) if top / m <= 6), 720)
        ax.yaxis.set_major_locator(MultipleLocator(step))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: _duration(y * 60, round)))


def _target_line(ax: Axes, target: Target | None, scale: float) -> None:
    if target is not None:
        ax.axhline(target.value * scale, color="black", linestyle="--", linewidth=1.0,
                   label="target")  # fmt: skip


def _footnote(fig: Figure, situation: Situation) -> None:
    limits = ", ".join(
        f"{FEED_NAMES[s]} {_duration(feed.limit.total_seconds())}"
        for s, feed in situation.sites[0].feeds.items()
    )
    worker = situation.worker_as_of.astimezone(LONDON).strftime("%H:%M:%S")
    text = (
        f"Source: Prometheus {situation.source} (worker clock at the latest scrape: {worker}"
        f" London). Targets: nel.toml. {BREACH_MARK} dark red: breached; {MET_MARK} light green:"
        " within (exactly at the target is within). Since: start of the unbroken breach (5-min"
        f" steps, up to {HISTORY.days} days back; ≤: no data before it). Yesterday: the figure"
        f" at 23:59:59, against that day's target. '{NO_VALUE}': not defined (no departures yet,"
        " nobody waiting, no beds, no OPEL declared). Grey, hatched, 'stale': the feed sent"
        f" nothing for longer than its limit ({limits}): last known, not current; totals with a"
        " stale site are grey too. Trust and NEL rows: sums of their sites, ratios recomputed;"
        " OPEL: declared, a trust's own else its highest site's, NEL the highest trust's."
        " Trends: last"
        " 24 h, 5-min steps, London time; blank where the feed was stale."
    )
    # Wrapped by hand: matplotlib's wrap=True lets a long line run past the page's edge.
    fig.text(0.025, 0.012, fill(text, 232), fontsize=6.8, color="#303030")
