"""The uecflow event contract, version 1: what trusts send, exactly as they must send it.

Every event is one JSON object. Unknown fields are rejected so that no patient identifier can
slip in; integers and booleans are strict (`true` is not 1, `"5"` is not 5); timestamps must be
RFC 3339 with an explicit offset. Site membership in the registry is checked by `EventParser`,
since the registry is deployment data and the models are not.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    GetPydanticSchema,
    ValidationInfo,
    field_validator,
)
from pydantic_core import core_schema

CONTRACT_VERSION = 1
_LONDON = ZoneInfo("Europe/London")

RFC3339_PATTERN = r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"

# The pattern first, then the datetime parser, both inside pydantic-core: pydantic alone would
# also take "1700000000", "+0100" offsets or minutes-only times, and a Python validator would
# cost a third of the parse time.
Rfc3339Instant = Annotated[
    AwareDatetime,
    GetPydanticSchema(
        lambda _source, _handler: core_schema.chain_schema(
            [
                core_schema.str_schema(pattern=RFC3339_PATTERN, strict=True),
                core_schema.datetime_schema(tz_constraint="aware", strict=False),
            ]
        )
    ),
]

# No ward has a million beds; the cap keeps every ratio a finite float (10**400 would not be).
BedCount = Annotated[int, Field(ge=0, le=1_000_000, strict=True)]
PseudonymisedId = Annotated[
    str,
    Field(
        min_length=1,
        description="A pseudonymised identifier: never an NHS number, MRN or name.",
    ),
]


class EventBase(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    event_id: Annotated[
        str,
        Field(
            min_length=1,
            max_length=128,
            description="Unique per event; an id already seen is a duplicate and is ignored.",
        ),
    ]
    occurred_at: Annotated[
        Rfc3339Instant,
        Field(
            description="When it happened: RFC 3339 with an explicit UTC offset or Z.",
            json_schema_extra={"format": "date-time"},
        ),
    ]
    site: Annotated[str, Field(description="ODS site code from the site registry.")]


class AeArrival(EventBase):
    """A patient arrived at the emergency department."""

    event_type: Literal["ae.arrival"]
    attendance_id: PseudonymisedId
    department_type: Annotated[int, Field(ge=1, le=3, strict=True)] = 1
    arrival_mode: Literal["ambulance", "walk_in", "other"] = "walk_in"
    mental_health: Annotated[bool, Field(strict=True)] = False


class AeDecisionToAdmit(EventBase):
    """A decision to admit the patient was made."""

    event_type: Literal["ae.decision_to_admit"]
    attendance_id: PseudonymisedId


class AeDeparture(EventBase):
    """The patient left the department: admitted, discharged, transferred or otherwise."""

    event_type: Literal["ae.departure"]
    attendance_id: PseudonymisedId
    outcome: Literal["admitted", "discharged", "transferred", "left_before_treatment", "other"]


class WardState(EventBase):
    """A ward's bed state; it replaces the ward's previous snapshot."""

    event_type: Literal["beds.ward_state"]
    ward: Annotated[str, Field(min_length=1)]
    ward_type: Literal[
        "adult_ga", "paediatric_ga", "adult_critical_care", "maternity", "mental_health", "other"
    ]
    beds_open_core: BedCount
    beds_open_escalation: BedCount = 0
    beds_occupied: BedCount = Field(
        description="May exceed beds open: occupied unfunded beds count."
    )
    nctr: BedCount = Field(
        default=0,
        description="Patients who no longer meet the criteria to reside (medically fit).",
    )

    @field_validator("nctr")
    @classmethod
    def _nctr_within_occupied(cls, value: int, info: ValidationInfo) -> int:
        occupied = info.data.get("beds_occupied")
        if occupied is not None and value > occupied:
            raise ValueError("must not exceed beds_occupied")
        return value


class AmbulanceArrival(EventBase):
    """An ambulance arrived at the hospital with a patient."""

    event_type: Literal["ambulance.arrival"]
    handover_id: PseudonymisedId


class AmbulanceHandover(EventBase):
    """Clinical handover of the patient from the ambulance crew is complete."""

    event_type: Literal["ambulance.handover"]
    handover_id: PseudonymisedId


class OpelDeclared(EventBase):
    """A hospital declared its OPEL level; it replaces that hospital's previous declaration.

    Added to version 1 (a new event type: events already sent are unchanged). `scope` "trust"
    declares the level of the site's whole trust, which then holds whatever its sites declare.
    """

    event_type: Literal["opel.declared"]
    level: Annotated[
        int,
        Field(
            ge=1,
            le=4,
            strict=True,
            description="OPEL level: 1 meeting demand, 2 signs of pressure, 3 major pressures"
            " compromising flow, 4 unable to deliver comprehensive care.",
        ),
    ]
    scope: Literal["site", "trust"] = Field(
        default="site",
        description="'site': the level of the hospital in `site`; 'trust': of its whole trust.",
    )


AttendanceEvent = AeArrival | AeDecisionToAdmit | AeDeparture
AmbulanceEvent = AmbulanceArrival | AmbulanceHandover
Event = (
    AeArrival
    | AeDecisionToAdmit
    | AeDeparture
    | WardState
    | AmbulanceArrival
    | AmbulanceHandover
    | OpelDeclared
)
EVENT_TYPES: tuple[type[EventBase], ...] = (
    AeArrival,
    AeDecisionToAdmit,
    AeDeparture,
    WardState,
    AmbulanceArrival,
    AmbulanceHandover,
    OpelDeclared,
)
DiscriminatedEvent = Annotated[Event, Field(discriminator="event_type")]


def on_the_calendar(moment: datetime) -> bool:
    """Whether an instant can be placed on the UTC and the London calendar (RFC 3339 allows,
    say, year 9999 at -01:00, which is year 10000 in UTC): the flow core needs both."""
    if 1 < moment.year < 9999:
        return True
    try:
        moment.astimezone(UTC)
        moment.astimezone(_LONDON)
    except (OverflowError, ValueError):
        return False
    return True


def rfc3339(moment: datetime) -> str:
    """Render an aware instant the way the contract wants it: UTC with `Z`."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
