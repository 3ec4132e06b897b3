"""FHIR R4 (UK Core) Encounters as contract events: which element means what.

Pure: a parsed JSON document and the trust's settings in, one outcome out. Only the Encounter's
class, status, identifier, period, location, hospitalization.dischargeDisposition, the
mode-of-arrival extension and the trust's decision-to-admit extension are read: never subject,
participant, contained resources or anything else about the patient, so no identifier can reach
an event or a reason. The first identifier (the visit number, PV1-19 in the trust's HL7 feed) is
read only to be hashed, with the same functions as the HL7 mapping, so both feeds give an
attendance the same ids.

| Encounter (class EMER) | becomes |
|---|---|
| arrived, triaged, in-progress, onleave | `ae.arrival` at period.start (arrival mode from the |
| | mode-of-arrival extension); `ae.decision_to_admit` |
| | at the trust's extension's valueDateTime, if the Encounter has it |
| finished | the same, and `ae.departure` at period.end, outcome from the disposition |
| cancelled, entered-in-error | the same, and `ae.departure` at period.end, `other` |
| planned (or another class) | nothing |

Posting an Encounter again, or its later versions, gives the same events the same ids: the
worker drops the copies, and only what is new counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from fhir.resources.R4B.encounter import Encounter
from pydantic import ValidationError

from events.contract import rfc3339
from producers.epr.pseudonym import NoKeyInForce, attendance_id, event_id
from producers.epr.settings import AdapterSettings

ACT_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
EMERGENCY_CLASS = "EMER"
ODS_SITE_SYSTEM = "https://fhir.nhs.uk/Id/ods-site-code"
MODE_OF_ARRIVAL = "http://hl7.org/fhir/StructureDefinition/encounter-modeOfArrival"
OPEN_STATUSES = frozenset({"arrived", "triaged", "in-progress", "onleave"})
CANCELLED_STATUSES = frozenset({"cancelled", "entered-in-error"})

# OperationOutcome issue types (http://hl7.org/fhir/issue-type) of an unmappable Encounter.
IssueType = Literal["required", "value", "code-invalid", "not-supported"]


@dataclass(frozen=True, slots=True)
class Mapped:
    """The Encounter is these events (JSON-ready objects of the contract): arrival, decision
    to admit, departure, as far as the Encounter goes."""

    events: tuple[dict[str, object], ...]


@dataclass(frozen=True, slots=True)
class Ignored:
    """A valid Encounter that says nothing uecflow counts: accepted, nothing sent."""

    reason: str


@dataclass(frozen=True, slots=True)
class Invalid:
    """Not a FHIR R4 Encounter at all. `reason` names elements, never their values."""

    reason: str


@dataclass(frozen=True, slots=True)
class Unmappable:
    """A valid Encounter uecflow cannot map: something is missing or unknown. `reason` quotes
    no patient data (codes and location values only)."""

    code: IssueType
    reason: str


Outcome = Mapped | Ignored | Invalid | Unmappable


class _Refuse(Exception):
    def __init__(self, code: IssueType, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def map_encounter(document: object, settings: AdapterSettings) -> Outcome:
    if not isinstance(document, dict) or document.get("resourceType") != "Encounter":
        return Invalid("the body is not a FHIR Encounter resource (resourceType 'Encounter')")
    try:
        encounter = Encounter.model_validate(document)
    except ValidationError as error:
        return Invalid(f"not a valid FHIR R4 Encounter: {_first_problem(error)}")
    except RecursionError:
        return Invalid("not a valid FHIR R4 Encounter: nested too deeply")
    except (TypeError, KeyError, AttributeError):
        # The library's own slips on a hostile resource (a contained resource whose
        # resourceType is null or empty); their text may quote the sender's, so it is not kept.
        return Invalid("not a valid FHIR R4 Encounter: a resource or element of no FHIR R4 type")
    if encounter.class_fhir is None:  # the library lets an explicit null through
        return Invalid("not a valid FHIR R4 Encounter: class: is required")
    try:
        return _map(encounter, settings)
    except _Refuse as refused:
        return Unmappable(refused.code, refused.reason)


def _map(encounter: Encounter, settings: AdapterSettings) -> Outcome:
    kind = encounter.class_fhir
    if kind.code != EMERGENCY_CLASS or kind.system not in (None, ACT_CODE_SYSTEM):
        return Ignored(f"class '{_quoted(kind.code or '')}': not an emergency encounter")
    status = encounter.status
    if status == "planned":
        return Ignored("status planned: the patient has not arrived yet")
    if status not in OPEN_STATUSES | CANCELLED_STATUSES | {"finished"}:
        raise _Refuse("not-supported", f"status: '{_quoted(status or '')}' is not one uecflow maps")
    start = _instant(encounter.period.start if encounter.period else None, "period.start")
    site, location = _site(encounter, settings)
    try:
        attendance = attendance_id(settings, _visit_number(encounter), start)
    except NoKeyInForce as error:
        raise _Refuse("value", f"period.start: {error}") from None
    arrival = _event("ae.arrival", site, start, attendance)
    arrival["department_type"] = settings.file.department_types.get(location, 1)
    mode = _arrival_mode(encounter)
    if mode:
        arrival["arrival_mode"] = settings.file.arrival_modes.get(mode, "other")
    events = [arrival, *_decision(encounter, settings, site, attendance)]
    if status == "finished" or status in CANCELLED_STATUSES:
        events.append(_departure(encounter, settings, site, attendance))
    return Mapped(tuple(events))


def _visit_number(encounter: Encounter) -> str:
    for identifier in encounter.identifier or ():
        if identifier.value and identifier.value.strip():
            return identifier.value.strip()
    raise _Refuse("required", "identifier: the Encounter has no identifier (its visit number)")


def _site(encounter: Encounter, settings: AdapterSettings) -> tuple[str, str]:
    """The site and the location value it came from: the first location identified by an ODS
    site code (taken as it is: the gateway refuses another trust's) or by a value in the
    trust's `locations`."""
    seen = ""
    for entry in encounter.location or ():
        identifier = entry.location.identifier if entry.location else None
        value = (identifier.value or "").strip() if identifier else ""
        if not value:
            continue
        if identifier is not None and identifier.system == ODS_SITE_SYSTEM:
            return value, value
        site = settings.site_of(value)
        if site is not None:
            return site, value
        seen = seen or value
    if not seen:
        raise _Refuse("required", "location: no location has an identifier: no site")
    raise _Refuse("code-invalid", f"location: '{_quoted(seen)}' is not in the trust's locations")


def _arrival_mode(encounter: Encounter) -> str:
    """The code of FHIR's own mode-of-arrival extension: HL7 v2 table 0430, PV2-38's codes, read
    through the same `arrival_modes` ('' if the Encounter has none)."""
    for extension in encounter.extension or ():
        if extension.url == MODE_OF_ARRIVAL and extension.valueCoding is not None:
            return (extension.valueCoding.code or "").strip()
    return ""


def _decision(
    encounter: Encounter, settings: AdapterSettings, site: str, attendance: str
) -> list[dict[str, object]]:
    url = settings.file.fhir_decision_to_admit_extension
    for extension in encounter.extension or ():
        if extension.url == url:
            at = _instant(extension.valueDateTime, "extension (decision to admit).valueDateTime")
            return [_event("ae.decision_to_admit", site, at, attendance)]
    return []


def _departure(
    encounter: Encounter, settings: AdapterSettings, site: str, attendance: str
) -> dict[str, object]:
    assert encounter.period is not None  # period.start was read already
    end = _instant(encounter.period.end, "period.end")
    event = _event("ae.departure", site, end, attendance)
    # Contract v1 cannot withdraw an arrival: a cancelled registration ends at once (as HL7 A11).
    cancelled = encounter.status in CANCELLED_STATUSES
    event["outcome"] = "other" if cancelled else _outcome(encounter, settings)
    return event


def _outcome(encounter: Encounter, settings: AdapterSettings) -> str:
    hospitalization = encounter.hospitalization
    disposition = hospitalization.dischargeDisposition if hospitalization else None
    codes = [c.code for c in (disposition.coding or ()) if c.code] if disposition else []
    if not codes:
        return settings.file.missing_disposition
    for code in codes:
        if code in settings.file.fhir_dispositions:
            return settings.file.fhir_dispositions[code]
    raise _Refuse(
        "code-invalid",
        f"hospitalization.dischargeDisposition: code '{_quoted(codes[0])}' is not in the "
        "trust's fhir_dispositions",
    )


def _instant(value: object, where: str) -> datetime:
    if value is None:
        raise _Refuse("required", f"{where}: missing")
    # A date alone, or a partial date, says nothing about when in the day.
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise _Refuse("value", f"{where}: must be a date and time with a UTC offset")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise _Refuse("value", f"{where}: out of range") from None


def _event(event_type: str, site: str, at: datetime, attendance: str) -> dict[str, object]:
    occurred = rfc3339(at)
    return {
        "event_id": event_id(attendance, event_type.removeprefix("ae."), occurred),
        "event_type": event_type,
        "occurred_at": occurred,
        "site": site,
        "attendance_id": attendance,
    }


def _first_problem(error: ValidationError) -> str:
    """Where the first problem is and what kind it is: never the value, which may be about the
    patient (a malformed birth date in a contained Patient)."""
    first = error.errors()[0]
    where = [str(part) for part in first["loc"]]
    if first["type"] == "extra_forbidden":
        # The element's name is the sender's text: name the element it is in instead.
        return f"{'.'.join(where[:-1]) or 'Encounter'}: has an element FHIR R4 does not define"
    if first["type"].endswith("missing"):
        return f"{'.'.join(where)}: is required"
    return f"{'.'.join(where) or 'Encounter'}: is not valid ({first['type']})"


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_LONGEST_QUOTE = 64


def _quoted(text: str) -> str:
    """A code or location value made safe for a one-line reason (and for the logs)."""
    if len(text) > _LONGEST_QUOTE:
        text = text[:_LONGEST_QUOTE] + "..."
    return _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode(), text)
