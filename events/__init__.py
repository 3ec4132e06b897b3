"""The event contract (v1) that trusts integrate against: the events, parsing them, the schema.

The NEL reference data the contract checks sites against is deployment configuration, in
`uecflow.config`.
"""

from events.contract import (
    CONTRACT_VERSION,
    AeArrival,
    AeDecisionToAdmit,
    AeDeparture,
    AmbulanceArrival,
    AmbulanceHandover,
    Event,
    OpelDeclared,
    WardState,
    rfc3339,
)
from events.parse import EventParser, InvalidEvent

__all__ = [
    "CONTRACT_VERSION",
    "AeArrival",
    "AeDecisionToAdmit",
    "AeDeparture",
    "AmbulanceArrival",
    "AmbulanceHandover",
    "Event",
    "EventParser",
    "InvalidEvent",
    "OpelDeclared",
    "WardState",
    "rfc3339",
]
