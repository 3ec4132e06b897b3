"""The readable view of a snapshot: the SCC's morning view, at a glance, against the targets."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table
from rich.text import Text

from streams.core.instants import LONDON
from streams.core.metrics import METRICS, Limit, Value, opel_in_force
from streams.core.snapshot import FlowSnapshot


@dataclass(frozen=True, slots=True)
class Column:
    metric: str
    header: str
    show: Callable[[Value], str]


_NONE = "\N{EN DASH}"  # no value: a zero denominator, or nothing waiting


def _count(value: Value) -> str:
    return _NONE if value is None else f"{value:,}"


def _percent(value: Value) -> str:
    return _NONE if value is None else f"{value:.1%}"


def _duration(value: Value) -> str:
    if value is None:
        return _NONE
    sign = "-" if value < 0 else ""  # a handover logged before its arrival: shown, not hidden
    hours, minutes = divmod(round(abs(value)), 60)
    return f"{sign}{hours} h {minutes:02d} m" if hours else f"{sign}{minutes} m"


def _hours(value: Value) -> str:
    return _NONE if value is None else f"{value:.1f}"


def _percent_limit(limit: Limit | None) -> str:
    if limit is None:
        return ""
    return f"{'≤' if limit.bound == 'max' else '≥'}{limit.value:.0%}"


def _tables(limits: Mapping[str, Limit | None]) -> dict[str, list[Column]]:
    """The columns; a cell is red when its metric's target (`streams.core.metrics`) is missed."""
    occupancy, four_hour = limits["ga_occupancy"], _percent_limit(limits["ae_4h_performance_today"])
    return {
        "Adult G&A beds": [
            Column("ga_beds_open", "Open", _count),
            Column("ga_beds_occupied", "Occupied", _count),
            Column("ga_occupancy", f"Occupancy ({_percent_limit(occupancy)})", _percent),
            Column("nctr_patients", "Medically fit", _count),
            Column("mffd_rate", "MFFD share", _percent),
            Column("ga_escalation_beds_open", "Escalation open", _count),
        ],
        "Adult critical care": [
            Column("cc_beds_open", "Open", _count),
            Column("cc_beds_occupied", "Occupied", _count),
            Column("cc_occupancy", "Occupancy", _percent),
        ],
        "Arrivals": [
            Column("ae_arrivals_today", "A&E today", _count),
            Column("ae_arrivals_last_hour", "A&E last hour", _count),
            Column("ambulance_arrivals_today", "Ambulances today", _count),
        ],
        "A&E now": [
            Column("ae_in_department", "In dept", _count),
            Column("ae_over_4h_in_department", ">4 h", _count),
            Column("ae_over_4h_in_department_rate", ">4 h share", _percent),
            Column("ae_over_12h_in_department", ">12 h", _count),
            Column("ae_over_12h_in_department_rate", ">12 h share", _percent),
            Column("ae_mh_over_12h_in_department", "MH >12 h", _count),
            Column("ae_longest_wait_minutes", "Longest wait", _duration),
            Column("ae_waiting_after_dta", "After DTA", _count),
            Column("ae_over_12h_after_dta", ">12 h after DTA", _count),
        ],
        "A&E today": [
            Column("ae_departures_today", "Departures", _count),
            Column("ae_4h_performance_today", f"4 h {four_hour}", _percent),
            Column("ae_type1_4h_performance_today", "Type 1 4 h", _percent),
            Column("ae_over_12h_today", ">12 h", _count),
            Column("ae_over_12h_today_rate", ">12 h share", _percent),
            Column("ae_4h_performance_month", "4 h month", _percent),
        ],
        # Apart from the rest of today: in one table they no longer fit 120 columns.
        "A&E today: mental health and admissions": [
            Column("ae_mh_departures_today", "MH depart.", _count),
            Column("ae_mh_over_12h_today", "MH >12 h", _count),
            Column("ae_dta_4_to_12h_today", "4-12 h after DTA", _count),
            Column("ae_12h_trolley_waits_today", "12 h trolley", _count),
        ],
        "Ambulance handovers": [
            Column("ambulances_waiting", "Waiting", _count),
            Column("ambulance_longest_wait_minutes", "Longest wait", _duration),
            Column("handovers_today", "Today", _count),
            Column("handovers_within_15_today", "≤15 m", _count),
            Column("handovers_within_30_today", "≤30 m", _count),
            Column("handover_mean_minutes_today", "Mean", _duration),
            Column("handovers_over_30_today", ">30 m", _count),
            Column("handovers_over_45_today", ">45 m", _count),
            Column("handovers_over_60_today", ">60 m", _count),
            Column("handover_hours_lost_today", "Hours lost", _hours),
            Column("handover_hours_lost_over_60_today", "Hours lost >60 m", _hours),
        ],
        "OPEL (declared; not scored)": [
            Column("opel_site_level", "Sites' highest", _count),
            Column("opel_trust_level", "Trust's own", _count),
            Column(IN_FORCE, "In force", _count),
        ],
    }


# A row's OPEL level in force: a site's own, a trust's (`opel_in_force`), the highest trust's.
IN_FORCE = "opel_in_force"


def _rows(snapshot: FlowSnapshot) -> Iterator[tuple[str, dict[str, Value], bool]]:
    registry = snapshot.registry
    levels: list[int | float] = []
    for trust in registry.trusts.values():
        for code in registry.sites_of_trust(trust.code):
            site = snapshot.site(code)
            site[IN_FORCE] = site["opel_site_level"]
            yield f"  {registry.sites[code].short_name}", site, False
        values = snapshot.trust(trust.code)
        values[IN_FORCE] = level = opel_in_force(values)
        levels += [] if level is None else [level]
        yield trust.short_name, values, True
    system = snapshot.system()
    system[IN_FORCE] = max(levels, default=None)
    yield "NEL system", system, True


def render(snapshot: FlowSnapshot, console: Console, footer: str = "") -> None:
    local = snapshot.as_of.astimezone(LONDON)
    targets = snapshot.registry.targets
    limits = {metric.name: metric.limit(targets, local.date()) for metric in METRICS}
    limits[IN_FORCE] = limits["opel_site_level"]
    console.print(
        Text(
            f"NEL urgent and emergency care flow as of {local:%a %d %b %Y %H:%M} (London)",
            style="bold",
        )
    )
    rows = list(_rows(snapshot))
    for title, columns in _tables(limits).items():
        table = Table(title=title, title_justify="left", title_style="bold")
        table.add_column("", no_wrap=True)
        for column in columns:
            table.add_column(column.header, justify="right")
        for name, values, total in rows:
            cells = [_cell(column, values[column.metric], limits) for column in columns]
            table.add_row(Text(name, style="bold" if total else ""), *cells, end_section=total)
        console.print(table)
    if footer:
        console.print(footer)


def _cell(column: Column, value: Value, limits: Mapping[str, Limit | None]) -> Text:
    limit = limits[column.metric]
    breached = limit is not None and limit.breached(value)
    return Text(column.show(value), style="bold red" if breached else "")
