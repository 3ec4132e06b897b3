"""An alert drill: for each target, the few events that breach it at a site *now*, and the events
that end the breach. The end-to-end test plays them in turn through Kafka, the worker,
Prometheus and Alertmanager to show that each alert reaches the right trust and clears.

Pure: `now` is a parameter. The events are synthetic (pseudonymous ids prefixed `drill-`); play
them only into a test or training environment, never into a live feed. Ids are fixed per site and
target (a recovery must name the breach's attendance or ambulance), so drilling the same target at
the same site twice sends duplicates, which count nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

Events = list[str]


@dataclass(frozen=True)
class Step:
    """One target's drill: the alert it should raise, and how to raise and clear it."""

    alert: str
    breach: Callable[[str, datetime], Events]
    recover: Callable[[str, datetime], Events]


def _line(site: str, event_id: str, kind: str, at: datetime, **fields: Any) -> str:
    moment = at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    event = {"event_id": f"drill-{site}-{event_id}", "event_type": kind, "occurred_at": moment}
    return json.dumps(event | {"site": site} | fields)


def _ward(site: str, tag: str, at: datetime, occupied: int, nctr: int) -> str:
    return _line(
        site, f"ward-{tag}", "beds.ward_state", at, ward="drill ward", ward_type="adult_ga",
        beds_open_core=30, beds_open_escalation=0, beds_occupied=occupied, nctr=nctr,
    )  # fmt: skip


def _arrival(site: str, patient: str, at: datetime) -> str:
    return _line(site, f"{patient}-arr", "ae.arrival", at, attendance_id=f"drill-{patient}")


def _departure(site: str, patient: str, at: datetime) -> str:
    return _line(
        site, f"{patient}-dep", "ae.departure", at, attendance_id=f"drill-{patient}",
        outcome="discharged",
    )  # fmt: skip


def _attendances(site: str, tag: str, count: int, arrived: datetime, left: datetime) -> Events:
    patients = [f"{tag}{n}" for n in range(count)]
    return [_arrival(site, p, arrived) for p in patients] + [
        _departure(site, p, left) for p in patients
    ]


def occupancy_breach(site: str, now: datetime) -> Events:
    return [_ward(site, "occ-breach", now, occupied=29, nctr=0)]  # 96.7% of 30


def occupancy_recover(site: str, now: datetime) -> Events:
    return [_ward(site, "occ-recover", now, occupied=20, nctr=0)]


def mffd_breach(site: str, now: datetime) -> Events:
    return [_ward(site, "mffd-breach", now, occupied=24, nctr=8)]  # 33% medically fit, 80% full


def mffd_recover(site: str, now: datetime) -> Events:
    return [_ward(site, "mffd-recover", now, occupied=24, nctr=1)]


def four_hour_breach(site: str, now: datetime) -> Events:
    # 20 departures today, every one after six hours: performance 0% on enough departures.
    return _attendances(site, "slow", 20, now - timedelta(hours=6), now)


def four_hour_recover(site: str, now: datetime) -> Events:
    # 200 more within two hours: 200 of 220, 91%.
    return _attendances(site, "quick", 200, now - timedelta(hours=2), now)


def over_12h_breach(site: str, now: datetime) -> Events:
    # Two patients arrived 13 h ago and are still there; a third arriving now keeps the feed fresh.
    return [
        _arrival(site, "long0", now - timedelta(hours=13)),
        _arrival(site, "long1", now - timedelta(hours=13)),
        _arrival(site, "fresh-12h", now),
    ]


def over_12h_recover(site: str, now: datetime) -> Events:
    return [_departure(site, "long0", now), _departure(site, "long1", now)]


def after_dta_breach(site: str, now: datetime) -> Events:
    return [
        _arrival(site, "trolley", now - timedelta(hours=14)),
        _line(site, "trolley-dta", "ae.decision_to_admit", now - timedelta(hours=13),
              attendance_id="drill-trolley"),
        _arrival(site, "fresh-dta", now),
    ]  # fmt: skip


def after_dta_recover(site: str, now: datetime) -> Events:
    return [
        _line(site, "trolley-dep", "ae.departure", now, attendance_id="drill-trolley",
              outcome="admitted"),
    ]  # fmt: skip


def handover_breach(site: str, now: datetime) -> Events:
    return [
        _line(site, "amb-arr", "ambulance.arrival", now - timedelta(minutes=50),
              handover_id="drill-amb"),
        # Another crew arriving now keeps the ambulance feed fresh.
        _line(site, "amb-fresh", "ambulance.arrival", now, handover_id="drill-amb-fresh"),
    ]  # fmt: skip


def handover_recover(site: str, now: datetime) -> Events:
    return [
        _line(site, f"amb-{tag}-ho", "ambulance.handover", now, handover_id=f"drill-amb{tag}")
        for tag in ("", "-fresh")
    ]


STEPS = {
    "occupancy": Step("UecflowOccupancyAboveTarget", occupancy_breach, occupancy_recover),
    "mffd": Step("UecflowMedicallyFitAboveThreshold", mffd_breach, mffd_recover),
    "four_hour": Step("UecflowFourHourBelowTarget", four_hour_breach, four_hour_recover),
    "over_12h": Step("UecflowTwelveHoursInDepartment", over_12h_breach, over_12h_recover),
    "after_dta": Step(
        "UecflowTwelveHoursAfterDecisionToAdmit", after_dta_breach, after_dta_recover
    ),
    "handover": Step("UecflowAmbulanceHandoverOver45Minutes", handover_breach, handover_recover),
}
