"""The event contract (v1) that trusts integrate against, and the NEL reference data."""

from events.contract import (
    CONTRACT_VERSION,
    AeArrival,
    AeDecisionToAdmit,
    AeDeparture,
    AmbulanceArrival,
    AmbulanceHandover,
    Event,
    WardState,
    rfc3339,
)
from events.parse import EventParser, InvalidEvent
from events.registry import ConfigError, Registry, Site, Targets, Trust, load_registry

__all__ = [
    "CONTRACT_VERSION",
    "AeArrival",
    "AeDecisionToAdmit",
    "AeDeparture",
    "AmbulanceArrival",
    "AmbulanceHandover",
    "ConfigError",
    "Event",
    "EventParser",
    "InvalidEvent",
    "Registry",
    "Site",
    "Targets",
    "Trust",
    "WardState",
    "load_registry",
    "rfc3339",
]
