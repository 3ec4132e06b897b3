"""A deliberately naive reading of the metric definitions in the spec, for well-formed flows.

It shares no code with `streams`: datetimes and zoneinfo throughout, recomputed from scratch
for every instant, so that it can serve as an independent oracle.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.streams.core.flow_events import REGISTRY, Flow, WardSnapshot

LONDON = ZoneInfo("Europe/London")
FOUR_HOURS = timedelta(hours=4)
TWELVE_HOURS = timedelta(hours=12)
MINUTE = timedelta(minutes=1)

Value = int | float | None


@dataclass
class Parts:
    open: int = 0
    occupied: int = 0
    nctr: int = 0
    escalation: int = 0
    cc_open: int = 0
    cc_occupied: int = 0
    arrivals_today: int = 0
    arrivals_last_hour: int = 0
    ambulance_arrivals_today: int = 0
    in_department: int = 0
    over_4h: int = 0
    over_12h: int = 0
    mh_over_12h: int = 0
    longest_wait: timedelta | None = None
    after_dta: int = 0
    over_12h_after_dta: int = 0
    departures: int = 0
    within_4h: int = 0
    type1: int = 0
    type1_within_4h: int = 0
    over_12h_today: int = 0
    mh_departures: int = 0
    mh_over_12h_today: int = 0
    trolley: int = 0
    dta_4_to_12h: int = 0
    month_departures: int = 0
    month_within_4h: int = 0
    ambulances_waiting: int = 0
    ambulance_longest: timedelta | None = None
    handover_durations: list[timedelta] = field(default_factory=list)


def _later(a: timedelta | None, b: timedelta | None) -> timedelta | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _ratio(numerator: int, denominator: int) -> float | None:
    return None if denominator == 0 else numerator / denominator


def _minutes(duration: timedelta | None) -> float | None:
    return None if duration is None else duration / MINUTE


def _latest_wards(wards: Iterable[WardSnapshot], t: datetime) -> list[WardSnapshot]:
    latest: dict[tuple[str, str], WardSnapshot] = {}
    for ward in wards:
        if ward.at > t:
            continue
        key = (ward.site, ward.ward)
        current = latest.get(key)
        if current is None or (ward.at, ward.event_id) > (current.at, current.event_id):
            latest[key] = ward
    return list(latest.values())


def site_parts(flow: Flow, t: datetime) -> dict[str, Parts]:
    today = t.astimezone(LONDON).date()
    parts = {site: Parts() for site in REGISTRY.sites}
    for ward in _latest_wards(flow.wards, t):
        part = parts[ward.site]
        if ward.ward_type == "adult_ga":
            part.open += ward.core + ward.escalation
            part.occupied += ward.occupied
            part.nctr += ward.nctr
            part.escalation += ward.escalation
        elif ward.ward_type == "adult_critical_care":
            part.cc_open += ward.core + ward.escalation
            part.cc_occupied += ward.occupied
    for visit in flow.visits:
        part = parts[visit.site]
        if visit.arrived > t:
            continue
        part.arrivals_today += visit.arrived.astimezone(LONDON).date() == today
        part.arrivals_last_hour += t - timedelta(hours=1) < visit.arrived
        dta = visit.dta if visit.dta is not None and visit.dta <= t else None
        if visit.departed is None or visit.departed > t:
            wait = t - visit.arrived
            part.in_department += 1
            part.over_4h += wait > FOUR_HOURS
            part.over_12h += wait > TWELVE_HOURS
            part.mh_over_12h += visit.mental_health and wait > TWELVE_HOURS
            part.longest_wait = _later(part.longest_wait, wait)
            if dta is not None:
                part.after_dta += 1
                part.over_12h_after_dta += t - dta > TWELVE_HOURS
            continue
        day = visit.departed.astimezone(LONDON).date()
        stay = visit.departed - visit.arrived
        if (day.year, day.month) == (today.year, today.month):
            part.month_departures += 1
            part.month_within_4h += stay <= FOUR_HOURS
        if day != today:
            continue
        part.departures += 1
        part.within_4h += stay <= FOUR_HOURS
        if visit.department_type == 1:
            part.type1 += 1
            part.type1_within_4h += stay <= FOUR_HOURS
        part.over_12h_today += stay > TWELVE_HOURS
        if visit.mental_health:
            part.mh_departures += 1
            part.mh_over_12h_today += stay > TWELVE_HOURS
        if visit.outcome == "admitted" and dta is not None:
            part.trolley += visit.departed - dta > TWELVE_HOURS
            part.dta_4_to_12h += FOUR_HOURS < visit.departed - dta <= TWELVE_HOURS
    for ambulance in flow.ambulances:
        part = parts[ambulance.site]
        if ambulance.arrived > t:
            continue
        part.ambulance_arrivals_today += ambulance.arrived.astimezone(LONDON).date() == today
        if ambulance.handed_over is None or ambulance.handed_over > t:
            part.ambulances_waiting += 1
            part.ambulance_longest = _later(part.ambulance_longest, t - ambulance.arrived)
        elif ambulance.handed_over.astimezone(LONDON).date() == today:
            part.handover_durations.append(ambulance.handed_over - ambulance.arrived)
    return parts


def total(parts: Iterable[Parts]) -> Parts:
    summed = Parts()
    for part in parts:
        for name in Parts.__dataclass_fields__:
            mine, theirs = getattr(summed, name), getattr(part, name)
            if name in ("longest_wait", "ambulance_longest"):
                setattr(summed, name, _later(mine, theirs))
            else:
                setattr(summed, name, mine + theirs)
    return summed


def metrics(part: Parts) -> dict[str, Value]:
    durations = part.handover_durations
    return {
        "ga_beds_open": part.open,
        "ga_beds_occupied": part.occupied,
        "ga_occupancy": _ratio(part.occupied, part.open),
        "ga_escalation_beds_open": part.escalation,
        "nctr_patients": part.nctr,
        "mffd_rate": _ratio(part.nctr, part.occupied),
        "cc_beds_open": part.cc_open,
        "cc_beds_occupied": part.cc_occupied,
        "cc_occupancy": _ratio(part.cc_occupied, part.cc_open),
        # Flows declare no OPEL level (tests/streams/core/test_opel.py has its own oracle).
        "opel_site_level": None,
        "opel_trust_level": None,
        "ae_arrivals_today": part.arrivals_today,
        "ae_arrivals_last_hour": part.arrivals_last_hour,
        "ae_in_department": part.in_department,
        "ae_over_4h_in_department": part.over_4h,
        "ae_over_4h_in_department_rate": _ratio(part.over_4h, part.in_department),
        "ae_over_12h_in_department": part.over_12h,
        "ae_over_12h_in_department_rate": _ratio(part.over_12h, part.in_department),
        "ae_mh_over_12h_in_department": part.mh_over_12h,
        "ae_longest_wait_minutes": _minutes(part.longest_wait),
        "ae_waiting_after_dta": part.after_dta,
        "ae_over_12h_after_dta": part.over_12h_after_dta,
        "ae_departures_today": part.departures,
        "ae_4h_performance_today": _ratio(part.within_4h, part.departures),
        "ae_type1_4h_performance_today": _ratio(part.type1_within_4h, part.type1),
        "ae_over_12h_today": part.over_12h_today,
        "ae_over_12h_today_rate": _ratio(part.over_12h_today, part.departures),
        "ae_mh_departures_today": part.mh_departures,
        "ae_mh_over_12h_today": part.mh_over_12h_today,
        "ae_12h_trolley_waits_today": part.trolley,
        "ae_dta_4_to_12h_today": part.dta_4_to_12h,
        "ae_4h_performance_month": _ratio(part.month_within_4h, part.month_departures),
        "ambulances_waiting": part.ambulances_waiting,
        "ambulance_arrivals_today": part.ambulance_arrivals_today,
        "ambulance_longest_wait_minutes": _minutes(part.ambulance_longest),
        "handovers_today": len(durations),
        "handovers_within_15_today": sum(d <= 15 * MINUTE for d in durations),
        "handovers_within_30_today": sum(d <= 30 * MINUTE for d in durations),
        "handover_mean_minutes_today": (
            None if not durations else sum(d / MINUTE for d in durations) / len(durations)
        ),
        "handovers_over_30_today": sum(d > 30 * MINUTE for d in durations),
        "handovers_over_45_today": sum(d > 45 * MINUTE for d in durations),
        "handovers_over_60_today": sum(d > 60 * MINUTE for d in durations),
        "handover_hours_lost_today": sum(
            (max(timedelta(0), d - 15 * MINUTE) for d in durations), timedelta(0)
        )
        / timedelta(hours=1),
        "handover_hours_lost_over_60_today": sum(
            (max(timedelta(0), d - 60 * MINUTE) for d in durations), timedelta(0)
        )
        / timedelta(hours=1),
    }


def expected_document(flow: Flow, t: datetime) -> dict[str, dict[str, dict[str, Value]]]:
    """{"system": {"": metrics}, "trusts": {code: metrics}, "sites": {code: metrics}}."""
    parts = site_parts(flow, t)
    return {
        "system": {"": metrics(total(parts.values()))},
        "trusts": {
            trust: metrics(total(parts[site] for site in REGISTRY.sites_of_trust(trust)))
            for trust in REGISTRY.trusts
        },
        "sites": {site: metrics(part) for site, part in parts.items()},
    }
