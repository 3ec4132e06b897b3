"""The calibration report: a normal and a winter-surge month, each over three seeds, measured by
the metric core that `uecflow replay` and the worker use, against the published figures the
model is calibrated to (DOMAIN.md), and the checks a real winter passes (issue #13).

`measure` runs one month of one scenario and seed and keeps only numbers, so that months can run
in separate processes; `report` judges and renders them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from events.contract import Event
from producers.simulator import scenarios
from producers.simulator.london_hours import LONDON
from producers.simulator.system_model import simulate
from streams.core.attendance import DepartureCounts
from streams.core.flow import FlowState
from streams.core.instants import HOUR, to_instant
from streams.core.metrics import FlowParts
from streams.core.occupancy import BedCounts
from uecflow.config import Registry

SEEDS = (7, 11, 23)
SCENARIOS = ("normal", "winter-surge")
TOLERANCE = 0.20  # every seed's figure within 20% of the published value
# December: winter, and it holds the week before Christmas (Barts Health's published week).
MONTH_START = datetime(2025, 12, 1, tzinfo=LONDON)
MONTH_DAYS = 31
WEEK_BEFORE_CHRISTMAS = datetime(2025, 12, 18, tzinfo=LONDON)
LONGEST_AMBULANCE_WAIT_HOURS = 12.0  # a surge saturates: delays large but bounded
MFFD_DRIFT_POINTS = 3.0  # the medically fit share through the day, from its 08:00 value
SITREP_HOUR = 8
QUEENS, WHIPPS = "RF4QH", "R1HKH"
BHRUT, BARTS, HOMERTON = ("RF4QH", "RF4DG"), ("R1H12", "R1HKH", "R1HNH"), ("RQXM1",)


@dataclass(frozen=True, slots=True)
class Published:
    name: str
    value: float
    source: str
    percent: bool  # a share, shown as a percentage; else a count


PUBLISHED = (
    Published("Queen's attendances a day", 650, "NEL: built for 325, sees over 650", False),
    Published("Queen's ambulances a day", 100, "NEL: about 100 a day", False),
    Published("BHRUT type 1 four-hour", 0.50, "about 50% (2023)", True),
    Published("Homerton type 1 four-hour", 0.86, "about 86% (2022)", True),
    Published("Whipps Cross G&A occupancy 08:00", 0.98, "above 98%, winter 2022", True),
    Published("Whipps Cross handovers over 60 min", 0.15, "about 15%, winter 2022", True),
    Published("NEL G&A beds medically fit 08:00", 0.1079, "NEL joint forward plan", True),
    Published("NEL mental-health over 12 h", 0.368, "NEL joint forward plan", True),
    Published("Barts Health week before Christmas", 10_000, "about 10,000 (2022)", False),
)


@dataclass(frozen=True, slots=True)
class MonthFigures:
    """What one simulated month showed: the calibrated figures and what the checks need."""

    scenario: str
    seed: int
    figures: dict[str, float]
    mffd_by_hour: tuple[float, ...]  # NEL's share at each London hour, over the month's days
    over_4h_after_dta: dict[str, int]  # admissions more than 4 h after the decision, by site
    trolley_waits: dict[str, int]  # admissions more than 12 h after the decision, by site
    longest_ambulance_wait_hours: float


def measure(scenario: str, seed: int, registry: Registry) -> MonthFigures:
    """A month of `scenario` (begun with the month) at every site with `seed`."""
    start, end = MONTH_START, MONTH_START + timedelta(days=MONTH_DAYS)
    chosen = scenarios.normal()
    if scenario == "winter-surge":
        chosen = scenarios.winter_surge(start.timestamp())
    events = simulate(registry.sites, chosen, seed=seed, start=start, end=end)
    ae, beds, ambulance = _states(events, registry)
    days = [start + timedelta(days=day) for day in range(MONTH_DAYS)]
    month = ae.snapshot(end - timedelta(seconds=1))
    departed = {code: month.sites[code].departed_month for code in registry.sites}
    by_hour = [_beds_at(beds, days, hour) for hour in range(24)]
    return MonthFigures(
        scenario,
        seed,
        _figures(ae, ambulance, days, departed, by_hour[SITREP_HOUR]),
        tuple(_medically_fit(_sum(sites.values())) for sites in by_hour),
        {code: d.dta_4_to_12h + d.trolley_waits for code, d in departed.items()},
        {code: d.trolley_waits for code, d in departed.items()},
        _longest_ambulance_wait(ambulance, end) / HOUR,
    )


def _figures(
    ae: FlowState,
    ambulance: FlowState,
    days: Sequence[datetime],
    departed: dict[str, DepartureCounts],
    sitrep: dict[str, BedCounts],
) -> dict[str, float]:
    """Each published figure's simulated value, named as in `PUBLISHED`."""
    evenings = [ambulance.snapshot(_end_of(day)) for day in days]
    whipps_handovers = FlowParts.total(s.parts_of((WHIPPS,)) for s in evenings).handed_over_today
    queens_ambulances = sum(s.sites[QUEENS].arrived.ambulance_today for s in evenings)
    week = [WEEK_BEFORE_CHRISTMAS + timedelta(days=day) for day in range(7)]
    barts = FlowParts.total(ae.snapshot(_end_of(day)).parts_of(BARTS) for day in week)
    nel, whipps = _sum(sitrep.values()), sitrep[WHIPPS]
    return {
        "Queen's attendances a day": departed[QUEENS].departures / len(days),
        "Queen's ambulances a day": queens_ambulances / len(days),
        "BHRUT type 1 four-hour": _four_hour(departed, BHRUT),
        "Homerton type 1 four-hour": _four_hour(departed, HOMERTON),
        "Whipps Cross G&A occupancy 08:00": whipps.occupied / whipps.open,
        "Whipps Cross handovers over 60 min": whipps_handovers.over_60 / whipps_handovers.handovers,
        "NEL G&A beds medically fit 08:00": _medically_fit(nel),
        "NEL mental-health over 12 h": _mental_health_over_12h(departed.values()),
        "Barts Health week before Christmas": barts.arrived.ae_today,
    }


def _states(events: Iterable[Event], registry: Registry) -> tuple[FlowState, ...]:
    """A state per feed (A&E, beds, ambulance): a snapshot walks every record its state holds,
    and a month's hourly bed census then need not walk a month of attendances each time."""
    ae, beds, ambulance = (FlowState(registry, horizon=None) for _ in range(3))
    for event in events:
        kind = event.event_type
        state = beds if kind.startswith("beds.") else ambulance if kind.startswith("amb") else ae
        state.apply(event)
    return ae, beds, ambulance


def _end_of(day: datetime) -> datetime:
    return day + timedelta(hours=23, minutes=59, seconds=59)


def _beds_at(beds: FlowState, days: Sequence[datetime], hour: int) -> dict[str, BedCounts]:
    """Each site's adult G&A beds at this London hour of every day, summed (bed-days)."""
    snapshots = [beds.snapshot(day + timedelta(hours=hour)) for day in days]
    return {
        code: FlowParts.total(snapshot.parts_of((code,)) for snapshot in snapshots).beds
        for code in snapshots[0].sites
    }


def _sum(counts: Iterable[BedCounts]) -> BedCounts:
    total = BedCounts()
    for count in counts:
        total.add(count)
    return total


def _medically_fit(beds: BedCounts) -> float:
    return beds.nctr / beds.occupied


def _four_hour(departed: dict[str, DepartureCounts], sites: tuple[str, ...]) -> float:
    within = sum(departed[code].type1_within_4h for code in sites)
    return within / sum(departed[code].type1_departures for code in sites)


def _mental_health_over_12h(departed: Iterable[DepartureCounts]) -> float:
    counts = list(departed)
    return sum(d.mh_over_12h for d in counts) / sum(d.mh_departures for d in counts)


def _longest_ambulance_wait(ambulance: FlowState, end: datetime) -> int:
    """The longest arrival-to-handover of the month, or to its end for a crew still waiting."""
    until = to_instant(end)
    return max(
        (handover.handed_over_at or until) - handover.arrived_at
        for handover in ambulance.stores.handovers.values()
        if handover.arrived_at is not None
    )


# ---- judging and rendering -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    shown: str
    passed: bool


def checks(months: Sequence[MonthFigures]) -> list[Check]:
    """What a real winter shows, each seed apart: bounded surge delays, a steady medically fit
    share through a normal day, waits for a bed at every site and 12-hour trolley waits."""
    found = []
    for month in months:
        label = f"{month.scenario}, seed {month.seed}"
        surge = month.scenario == "winter-surge"
        found += _surge_checks(month, label) if surge else _normal_checks(month, label)
    return found


def _surge_checks(month: MonthFigures, label: str) -> list[Check]:
    hours, limit = month.longest_ambulance_wait_hours, LONGEST_AMBULANCE_WAIT_HOURS
    return [Check(f"longest ambulance wait ({label})", f"{hours:.1f} h < {limit:g}", hours < limit)]


def _normal_checks(month: MonthFigures, label: str) -> list[Check]:
    at_sitrep = month.mffd_by_hour[SITREP_HOUR]
    drift = 100 * max(abs(share - at_sitrep) for share in month.mffd_by_hour)
    waits = month.over_4h_after_dta
    fewest = min(waits, key=lambda code: waits[code])
    trolleys = sum(1 for count in month.trolley_waits.values() if count)
    return [
        Check(
            f"medically fit share, any hour vs 08:00 ({label})",
            f"{drift:.1f} points <= {MFFD_DRIFT_POINTS:g}",
            drift <= MFFD_DRIFT_POINTS,
        ),
        Check(
            f"admitted > 4 h after DTA, fewest at a site ({label})",
            f"{waits[fewest]} at {fewest} > 0",
            waits[fewest] > 0,
        ),
        Check(f"sites with 12-hour trolley waits ({label})", f"{trolleys} >= 1", trolleys >= 1),
    ]


def report(months: Sequence[MonthFigures]) -> tuple[str, bool]:
    """The report's text, and whether every figure and check passed."""
    lines = [
        f"Calibration: {MONTH_START:%B %Y} ({MONTH_DAYS} days), each scenario from the 1st; "
        f"tolerance ±{TOLERANCE:.0%} for every seed",
    ]
    passed = True
    for scenario in SCENARIOS:
        runs = [month for month in months if month.scenario == scenario]
        seeds = "".join(f"{'seed ' + str(month.seed):>10}" for month in runs)
        lines += ["", scenario, f"{'figure':36}{'published':>10}  {'source':34}{seeds}  worst"]
        for published in PUBLISHED:
            line, ok = _figure_line(published, [month.figures[published.name] for month in runs])
            lines.append(line)
            passed &= ok
    lines += ["", "checks"]
    for check in checks(months):
        passed &= check.passed
        lines.append(f"{check.name:60}{check.shown:>20}  {'ok' if check.passed else 'FAIL'}")
    return "\n".join(lines), passed


def _figure_line(published: Published, values: list[float]) -> tuple[str, bool]:
    """A figure's line: published value, source, each seed's value and the worst deviation."""
    worst = max((value - published.value for value in values), key=abs) / published.value
    ok = abs(worst) <= TOLERANCE
    shown = "".join(f"{_shown(value, published.percent):>10}" for value in values)
    line = (
        f"{published.name:36}{_shown(published.value, published.percent):>10}  "
        f"{published.source:34}{shown}  {worst:+.0%} {'ok' if ok else 'FAIL'}"
    )
    return line, ok


def _shown(value: float, percent: bool) -> str:
    return f"{100 * value:.1f}%" if percent else f"{value:,.0f}"
