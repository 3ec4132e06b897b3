"""Build contract events the way trusts send them: as JSON, parsed by the real EventParser."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from events import Event, EventParser
from streams.core.flow import FlowState, Outcome
from uecflow.config import load_registry

REGISTRY = load_registry()
PARSER = EventParser(REGISTRY)

_ids = itertools.count(1)


def at(text: str) -> datetime:
    """An aware datetime from an RFC 3339 string."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def ts(moment: datetime | str) -> str:
    """Render an instant as RFC 3339 UTC with microseconds, e.g. 2025-01-01T10:00:00.000001Z."""
    if isinstance(moment, str):
        return moment
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def next_id() -> str:
    return f"evt-{next(_ids):08d}"


def parse(fields: dict[str, Any]) -> Event:
    return PARSER.parse(json.dumps(fields))


def _event(
    event_type: str, when: datetime | str, site: str, event_id: str | None, **fields: Any
) -> Event:
    raw = {
        "event_id": event_id if event_id is not None else next_id(),
        "event_type": event_type,
        "occurred_at": ts(when),
        "site": site,
        **fields,
    }
    return parse(raw)


def arrival(
    attendance: str,
    when: datetime | str,
    site: str = "R1H12",
    event_id: str | None = None,
    **fields: Any,
) -> Event:
    return _event("ae.arrival", when, site, event_id, attendance_id=attendance, **fields)


def dta(
    attendance: str, when: datetime | str, site: str = "R1H12", event_id: str | None = None
) -> Event:
    return _event("ae.decision_to_admit", when, site, event_id, attendance_id=attendance)


def departure(
    attendance: str,
    when: datetime | str,
    site: str = "R1H12",
    outcome: str = "discharged",
    event_id: str | None = None,
) -> Event:
    return _event("ae.departure", when, site, event_id, attendance_id=attendance, outcome=outcome)


def ward(
    name: str,
    when: datetime | str,
    site: str = "R1H12",
    ward_type: str = "adult_ga",
    event_id: str | None = None,
    **counts: int,
) -> Event:
    return _event("beds.ward_state", when, site, event_id, ward=name, ward_type=ward_type, **counts)


def ambulance_arrival(
    handover: str, when: datetime | str, site: str = "R1H12", event_id: str | None = None
) -> Event:
    return _event("ambulance.arrival", when, site, event_id, handover_id=handover)


def ambulance_handover(
    handover: str, when: datetime | str, site: str = "R1H12", event_id: str | None = None
) -> Event:
    return _event("ambulance.handover", when, site, event_id, handover_id=handover)


def opel(
    level: int,
    when: datetime | str,
    site: str = "R1H12",
    scope: str = "site",
    event_id: str | None = None,
) -> Event:
    return _event("opel.declared", when, site, event_id, level=level, scope=scope)


def state_of(
    events: Iterable[Event], horizon: timedelta | None = None, until: datetime | None = None
) -> FlowState:
    state = FlowState(REGISTRY, horizon=horizon, until=until)
    for event in events:
        assert state.apply(event) is Outcome.APPLIED
    return state


def site_metrics(
    events: Iterable[Event], as_of: datetime, site: str = "R1H12"
) -> dict[str, int | float | None]:
    return state_of(events).snapshot(as_of).site(site)
