"""Simulated runs for the simulator tests, and the flow core's view of them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from functools import cache

from events.contract import Event
from producers.simulator.london_hours import LONDON
from producers.simulator.scenarios import Scenario, normal
from producers.simulator.system_model import simulate
from streams.core.flow import FlowState
from streams.core.metrics import Value
from uecflow.config import load_registry

REGISTRY = load_registry(None)
SITES = tuple(REGISTRY.sites)
SEED = 7
# A winter Thursday: what the published figures describe (DOMAIN.md).
WINTER_THURSDAY = datetime(2026, 1, 15, tzinfo=LONDON)


def run(
    scenario: Scenario | None = None,
    *,
    sites: Iterable[str] = SITES,
    start: datetime = WINTER_THURSDAY,
    hours: float = 24,
    seed: int = SEED,
) -> list[Event]:
    end = start + timedelta(hours=hours)
    return list(simulate(sites, scenario or normal(), seed=seed, start=start, end=end))


@cache
def normal_winter_day() -> tuple[Event, ...]:
    return tuple(run())


def state_of(events: Iterable[Event]) -> FlowState:
    state = FlowState(REGISTRY, horizon=None)
    for event in events:
        state.apply(event)
    return state


def at(hours: float, day: datetime = WINTER_THURSDAY) -> datetime:
    return day + timedelta(hours=hours)


END_OF_DAY = at(23 + 59 / 60 + 59 / 3600)
SITREP = at(8)  # the 08:00 daily sitrep


def number(metrics: Mapping[str, Value], name: str) -> float:
    """A metric that must have a value here (None would mean no data at all)."""
    value = metrics[name]
    assert value is not None, f"{name} has no value"
    return value
