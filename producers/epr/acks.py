"""HL7 acknowledgements: `AA` once Kafka holds the event, `AE`/`AR` with the reason.

Original-mode ACKs: MSH (the sender's application and facility as receiver, its version when it
is one uecflow reads, else 2.5.1), then MSA with the code, the message's control id (MSH-10)
and the reason (MSA-3). Written with the standard separators whatever the sender used, and built
from the few MSH fields read safely, so that a message too broken to parse still gets one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

import hl7

AckCode = Literal["AA", "AE", "AR"]
APPLICATION, FACILITY = "UECFLOW", "NEL"
ACK_VERSIONS = ("2.3", "2.3.1", "2.4", "2.5", "2.5.1")
_PLAIN = hl7.parse("MSH|^~\\&|UECFLOW|NEL\r")  # escapes with the standard separators


def acknowledgement(
    message: hl7.Message | None, code: AckCode, reason: str, ack_id: str, now: datetime
) -> bytes:
    """The ACK of `message` (None: it could not be parsed), as bytes to put in an MLLP block."""
    field = _reader(message)
    version = field("MSH.F12")
    trigger = field("MSH.F9.R1.C2")
    stamp = now.astimezone(UTC).strftime("%Y%m%d%H%M%S+0000")
    msh = [
        APPLICATION, FACILITY, _escaped(field("MSH.F3")), _escaped(field("MSH.F4")), stamp, "",
        f"ACK^{_escaped(trigger)}^ACK" if trigger else "ACK", ack_id, "P",
        version if version in ACK_VERSIONS else "2.5.1",
    ]  # fmt: skip
    msa = ["MSA", code, _escaped(field("MSH.F10")), _escaped(reason)]
    return f"MSH|^~\\&|{'|'.join(msh)}\r{'|'.join(msa)}\r".encode()


def _reader(message: hl7.Message | None) -> Callable[[str], str]:
    def field(path: str) -> str:
        if message is None:
            return ""
        try:
            return str(message.unescape(str(message[path])))
        except Exception:  # the library fails in many ways on a half-read MSH; "" is the answer
            return ""

    return field


def _escaped(text: str) -> str:
    return str(_PLAIN.escape(text))
