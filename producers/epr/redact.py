"""What of an HL7 message may be kept in a dead letter: the segments about the visit, never
those about the patient.

Kept: MSH, EVN, PV1 and PV2, with the visit numbers (PV1-19, PV1-50) replaced; everything else
(PID, PD1, NK1, MRG, GT1, IN1, AL1, DG1, OBX, NTE, Z-segments...) is dropped, whatever it holds,
so a new segment can never leak. Works on text that may not parse: segments are told apart by
their first three characters and the field separator MSH-1 declares. Where segments may have
run together (a missing terminator, so a kept segment holds more fields than the standard
gives it, or another segment's name), nothing of the message is kept.
"""

from __future__ import annotations

import re

# The most fields each kept segment has in versions 2.3 to 2.5.1 (MSH counts MSH-1 and MSH-2 as
# one split part).
KEPT_SEGMENTS = {"MSH": 20, "EVN": 7, "PV1": 52, "PV2": 49}
VISIT_FIELDS = (19, 50)
REMOVED = "REMOVED"
_SEGMENT_END = re.compile(r"\r\n|\n|\r")


def redact(text: str) -> str:
    """The message without its patient segments ("" if they cannot be told apart), each kept
    segment ending in a carriage return."""
    separator = text[3] if text.startswith("MSH") and len(text) > 3 else "|"
    kept = []
    for segment in _SEGMENT_END.split(text.lstrip("\x0b")):
        name = segment[:3]
        if name not in KEPT_SEGMENTS or segment[3:4] not in (separator, ""):
            continue
        fields = segment.split(separator)
        if len(fields) - 1 > KEPT_SEGMENTS[name] or _runs_into_another(segment, separator):
            return ""
        if name == "PV1":
            fields = _without_visit_numbers(fields)
        kept.append(separator.join(fields))
    return "".join(segment + "\r" for segment in kept)


def _runs_into_another(segment: str, separator: str) -> bool:
    # "2.5.1PID|..." : what a lost segment terminator leaves. A field that merely looks like it
    # costs only the dead letter's copy of the message, never a leak.
    return any(name + separator in segment[3:] for name in _PATIENT_SEGMENTS)


_PATIENT_SEGMENTS = ("PID", "PD1", "NK1", "MRG", "GT1", "IN1", "IN2", "IN3", "ROL")


def _without_visit_numbers(fields: list[str]) -> list[str]:
    return [
        REMOVED if number in VISIT_FIELDS and value else value
        for number, value in enumerate(fields)
    ]
