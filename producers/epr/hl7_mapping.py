"""HL7 v2 ADT messages as contract events: which message means what, read from which field.

Pure: a parsed message and the trust's settings in, one outcome out. Only MSH, EVN, PV1 and PV2
are read: never PID, PD1, NK1, MRG or any other segment about the patient, so no identifier can
reach an event, a reason or a log. The visit number (PV1-19) is read only to be hashed.

| message | becomes | time (first non-empty) |
|---|---|---|
| A04, patient class emergency | `ae.arrival` | PV1-44, EVN-6, EVN-2 |
| A14 (or A08 with the configured field) | `ae.decision_to_admit` | EVN-6, EVN-2 (the field) |
| A03, patient class emergency | `ae.departure`, outcome from PV1-36 | PV1-45, EVN-6, EVN-2 |
| A06, A01, an emergency admission (PV1-4) | `ae.departure`, `admitted` | EVN-6, EVN-2 |
| A11, patient class emergency | `ae.departure`, `other` (see docs) | EVN-6, EVN-2 |
| anything else (A13, A40, A08, A02...) | nothing: acknowledged | |
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import hl7

from events.contract import rfc3339
from producers.epr.pseudonym import NoKeyInForce, attendance_id, event_id
from producers.epr.settings import AdapterSettings

SUPPORTED_VERSIONS = ("2.3", "2.3.1", "2.4", "2.5", "2.5.1")
ARRIVAL_TIMES = ("PV1-44", "EVN-6", "EVN-2")
DEPARTURE_TIMES = ("PV1-45", "EVN-6", "EVN-2")
EVENT_TIMES = ("EVN-6", "EVN-2")
# HL7's TS to at least the minute (a date alone would put every event at midnight).
_TIME = re.compile(r"[0-9]{12}([0-9]{2}(\.[0-9]{1,4})?)?([+-][0-9]{4})?")


@dataclass(frozen=True, slots=True)
class Mapped:
    """The message is this event (a JSON-ready object of the contract)."""

    event: dict[str, object]


@dataclass(frozen=True, slots=True)
class Ignored:
    """A valid message that says nothing uecflow counts: acknowledged, nothing sent."""

    reason: str


@dataclass(frozen=True, slots=True)
class Unmappable:
    """The message cannot be mapped: `AR` if it is not one uecflow reads at all, `AE` if it is
    but something in it is missing or unknown. `reason` quotes no patient data."""

    code: Literal["AE", "AR"]
    reason: str


Outcome = Mapped | Ignored | Unmappable


class _Refuse(Exception):
    def __init__(self, code: Literal["AE", "AR"], reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def readable(text: str, settings: AdapterSettings) -> str:
    """Only the segments the mapping reads (segments ending in CR): what the parser is given, so
    it never holds the patient's segments, and parses a fifth of the text."""
    wanted = {"MSH", "EVN", "PV1", "PV2", settings.file.decision_to_admit.field[:3]}
    return "".join(segment + "\r" for segment in text.split("\r") if segment[:3] in wanted)


def map_message(message: hl7.Message, settings: AdapterSettings) -> Outcome:
    try:
        return _map(_Reader(message), settings)
    except _Refuse as refused:
        return Unmappable(refused.code, refused.reason)


def trigger_of(message: hl7.Message) -> str:
    """MSH-9.2, or EVN-1 where (as in some 2.3 senders) MSH-9 has no trigger."""
    return _Reader(message).trigger()


def _map(message: _Reader, settings: AdapterSettings) -> Outcome:
    version = message.text("MSH-12")
    if version not in SUPPORTED_VERSIONS:
        raise _Refuse("AR", f"MSH-12: version '{version}' is not read (2.3 to 2.5.1 are)")
    kind = message.text("MSH-9.1")
    if kind != "ADT":
        raise _Refuse("AR", f"MSH-9: message type '{kind}' is not ADT")
    trigger = message.trigger()
    handler = _HANDLERS.get(trigger)
    if handler is None:
        return Ignored(f"{trigger or 'no trigger event'}: nothing uecflow counts")
    return handler(message, settings, trigger)


def _arrival(message: _Reader, settings: AdapterSettings, trigger: str) -> Outcome:
    if not message.emergency(settings):
        return Ignored(f"{trigger}: patient class is not emergency")
    site, location = message.site(settings, ("PV1-3",))
    at = message.time(ARRIVAL_TIMES, settings)
    event = message.event("ae.arrival", site, at, settings)
    event["department_type"] = settings.file.department_types.get(location, 1)
    mode = message.text("PV2-38")
    if mode:
        event["arrival_mode"] = settings.file.arrival_modes.get(mode, "other")
    return Mapped(event)


def _decision(message: _Reader, settings: AdapterSettings, trigger: str) -> Outcome:
    signal = settings.file.decision_to_admit
    if trigger != signal.trigger:
        return Ignored(f"{trigger}: this trust signals decisions to admit with {signal.trigger}")
    if trigger == "A08":
        if not message.text(signal.field):
            return Ignored(f"A08 without {signal.field}: an update uecflow does not count")
        times: tuple[str, ...] = (signal.field,)
    else:
        times = EVENT_TIMES
    if not message.emergency(settings):
        return Ignored(f"{trigger}: patient class is not emergency")
    site, _ = message.site(settings, ("PV1-3",))
    at = message.time(times, settings)
    return Mapped(message.event("ae.decision_to_admit", site, at, settings))


def _departure(message: _Reader, settings: AdapterSettings, trigger: str) -> Outcome:
    if not message.emergency(settings):
        return Ignored(f"{trigger}: patient class is not emergency")
    site, _ = message.site(settings, ("PV1-3",))
    disposition = message.text("PV1-36")
    if not disposition:
        outcome: str = settings.file.missing_disposition
    elif disposition in settings.file.dispositions:
        outcome = settings.file.dispositions[disposition]
    else:
        raise _Refuse(
            "AE", f"PV1-36: discharge disposition '{disposition}' is not in the trust's mapping"
        )
    event = message.event("ae.departure", site, message.time(DEPARTURE_TIMES, settings), settings)
    event["outcome"] = outcome
    return Mapped(event)


def _admitted(message: _Reader, settings: AdapterSettings, trigger: str) -> Outcome:
    # An emergency admission ends the ED attendance; an elective one never had one. The ward is
    # in PV1-3 now, the department it came from in PV1-6.
    if message.text("PV1-4") not in settings.file.emergency_admission_types:
        return Ignored(f"{trigger}: not an emergency admission (PV1-4)")
    site, _ = message.site(settings, ("PV1-6", "PV1-3"))
    event = message.event("ae.departure", site, message.time(EVENT_TIMES, settings), settings)
    event["outcome"] = "admitted"
    return Mapped(event)


def _cancelled(message: _Reader, settings: AdapterSettings, trigger: str) -> Outcome:
    # Contract v1 cannot withdraw an arrival; ending the attendance at once keeps a registration
    # made in error from waiting in the department for ever (docs/epr-adapters.md).
    if not message.emergency(settings):
        return Ignored(f"{trigger}: cancels an inpatient admission; the ED departure stands")
    site, _ = message.site(settings, ("PV1-3",))
    event = message.event("ae.departure", site, message.time(EVENT_TIMES, settings), settings)
    event["outcome"] = "other"
    return Mapped(event)


def _reopened(_message: _Reader, _settings: AdapterSettings, trigger: str) -> Outcome:
    return Ignored(f"{trigger}: contract v1 cannot reopen an attendance; a later A03 corrects it")


_Handler = Callable[["_Reader", AdapterSettings, str], Outcome]
_HANDLERS: dict[str, _Handler] = {
    "A04": _arrival,
    "A14": _decision,
    "A08": _decision,
    "A03": _departure,
    "A06": _admitted,
    "A01": _admitted,
    "A11": _cancelled,
    "A13": _reopened,
}


class _Reader:
    """Fields by their HL7 names (`PV1-3.4`), unescaped, first repetition, '' when absent."""

    def __init__(self, message: hl7.Message) -> None:
        self._message = message

    def trigger(self) -> str:
        return self.text("MSH-9.2") or self.text("EVN-1")

    def text(self, name: str) -> str:
        segment, _, rest = name.partition("-")
        field, _, component = rest.partition(".")
        path = f"{segment}.F{field}.R1.C{component or 1}"
        try:
            return str(self._message.unescape(str(self._message[path]))).strip()
        except Exception:  # the library fails in many ways on a field that is not there
            return ""

    def emergency(self, settings: AdapterSettings) -> bool:
        return self.text("PV1-2") in settings.file.emergency_classes

    def location(self, field: str, settings: AdapterSettings) -> str:
        component = 4 if settings.file.site_component == "facility" else 1
        return self.text(f"{field}.{component}")

    def site(self, settings: AdapterSettings, fields: tuple[str, ...]) -> tuple[str, str]:
        """The ODS site and the location it came from, from the first field that maps."""
        seen = ""
        for field in fields:
            location = self.location(field, settings)
            site = settings.site_of(location)
            if site is not None:
                return site, location
            seen = seen or location
        what = settings.file.site_component.replace("_", " ")
        if not seen:
            raise _Refuse("AE", f"{fields[0]}: the assigned location has no {what}: no site")
        raise _Refuse("AE", f"{fields[0]}: {what} '{seen}' is not in the trust's locations")

    def time(self, fields: tuple[str, ...], settings: AdapterSettings) -> datetime:
        for field in fields:
            text = self.text(field)
            if text:
                return _instant(field, text, settings)
        raise _Refuse("AE", f"no time: {', '.join(fields)} are all empty")

    def event(
        self, event_type: str, site: str, at: datetime, settings: AdapterSettings
    ) -> dict[str, object]:
        visit = self.text("PV1-19")
        if not visit:
            raise _Refuse("AE", "PV1-19: the visit number is empty")
        start_text = self.text("PV1-44")
        start = _instant("PV1-44", start_text, settings) if start_text else at
        try:
            attendance = attendance_id(settings, visit, start)
        except NoKeyInForce as error:
            raise _Refuse("AE", f"PV1-44: {error}") from None
        occurred = rfc3339(at)
        kind = event_type.removeprefix("ae.")
        return {
            "event_id": event_id(attendance, kind, occurred),
            "event_type": event_type,
            "occurred_at": occurred,
            "site": site,
            "attendance_id": attendance,
        }


def _instant(field: str, text: str, settings: AdapterSettings) -> datetime:
    if not _TIME.fullmatch(text):
        # The value is not quoted: a malformed date may still be a date of birth.
        raise _Refuse("AE", f"{field}: not an HL7 date/time to the minute")
    try:
        moment = hl7.parse_datetime(text)
    except (ValueError, TypeError, OverflowError):
        raise _Refuse("AE", f"{field}: not an HL7 date/time to the minute") from None
    if moment.tzinfo is None:
        # Local time, as the EPR's clock shows it; in October's repeated hour, the first.
        moment = moment.replace(tzinfo=settings.zone, fold=0)
    instant: datetime = moment.astimezone(UTC)
    return instant
