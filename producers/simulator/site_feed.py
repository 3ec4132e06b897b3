"""What a simulated site sends: contract events, built from what happens in its model.

Events are built with the contract's own models, so a line the simulator writes is valid by
construction. Nothing is sent during the warm-up (the model fills its department and wards
first); a silenced stream sends nothing while its silence lasts.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import get_args

from events.contract import (
    EVENT_TYPES,
    AeArrival,
    AeDecisionToAdmit,
    AeDeparture,
    AmbulanceArrival,
    AmbulanceHandover,
    Event,
    EventBase,
    WardState,
)
from producers.simulator.london_hours import stamp
from producers.simulator.scenarios import SiteScenario
from producers.simulator.wards import Ward
from streams.core.intake import STREAM_OF

_EVENT_TYPE: dict[type[EventBase], str] = {
    model: get_args(model.model_fields["event_type"].annotation)[0] for model in EVENT_TYPES
}


@dataclass(slots=True)
class SiteFeed:
    site: str
    scenario: SiteScenario
    sending: bool = False  # False during the warm-up
    sent: deque[Event] = field(default_factory=deque)

    def arrival(
        self, at: float, attendance: str, department_type: int, mode: str, mental_health: bool
    ) -> None:
        fields = {
            "attendance_id": attendance,
            "department_type": department_type,
            "arrival_mode": mode,
            "mental_health": mental_health,
        }
        self._send(AeArrival, f"{attendance}-arrival", at, fields)

    def decision_to_admit(self, at: float, attendance: str) -> None:
        self._send(AeDecisionToAdmit, f"{attendance}-dta", at, {"attendance_id": attendance})

    def departure(self, at: float, attendance: str, outcome: str) -> None:
        fields = {"attendance_id": attendance, "outcome": outcome}
        self._send(AeDeparture, f"{attendance}-departure", at, fields)

    def ambulance_arrival(self, at: float, handover: str) -> None:
        self._send(AmbulanceArrival, f"{handover}-arrival", at, {"handover_id": handover})

    def handover(self, at: float, handover: str) -> None:
        self._send(AmbulanceHandover, f"{handover}-handover", at, {"handover_id": handover})

    def ward_state(self, at: float, ward: Ward) -> None:
        fields = {
            "ward": ward.name,
            "ward_type": ward.ward_type,
            "beds_open_core": ward.core,
            "beds_open_escalation": ward.open_beds - ward.core,
            "beds_occupied": ward.occupied,
            "nctr": ward.nctr,
        }
        self._send(WardState, f"{ward.token}-{int(at)}", at, fields)

    def _send(
        self, model: type[Event], event_id: str, at: float, fields: Mapping[str, object]
    ) -> None:
        if not self.sending or self.scenario.silenced(STREAM_OF[model].value, at):
            return
        self.sent.append(
            model.model_validate(
                {
                    "event_id": event_id,
                    "event_type": _EVENT_TYPE[model],
                    "occurred_at": stamp(at),
                    "site": self.site,
                    **fields,
                }
            )
        )
