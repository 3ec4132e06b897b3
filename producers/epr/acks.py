"""HL7 acknowledgements: `AA` once Kafka holds the event, `AE`/`AR` with the reason.

Original-mode ACKs (MSH, then MSA with the code, the message's control id and the reason in
MSA-3), in the sender's version when its MSH could be read, else in 2.5.1 with no control id.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import hl7

AckCode = Literal["AA", "AE", "AR"]
APPLICATION, FACILITY = "UECFLOW", "NEL"
_PLAIN = hl7.parse("MSH|^~\\&|UECFLOW|NEL\r")  # for escaping, with the default separators


def acknowledgement(
    message: hl7.Message | None, code: AckCode, reason: str, ack_id: str, now: datetime
) -> bytes:
    """The ACK of `message` (None: it could not be parsed), as bytes to put in an MLLP block."""
    head = _own_ack(message, code, ack_id)
    if head is None:
        stamp = now.astimezone(UTC).strftime("%Y%m%d%H%M%S+0000")
        head = f"MSH|^~\\&|{APPLICATION}|{FACILITY}|||{stamp}||ACK|{ack_id}|P|2.5.1\rMSA|{code}|"
        escaper = _PLAIN
    else:
        escaper = message
    text = str(escaper.escape(reason)) if reason else ""
    return f"{head}|{text}\r".encode()


def _own_ack(message: hl7.Message | None, code: AckCode, ack_id: str) -> str | None:
    if message is None:
        return None
    try:
        ack = message.create_ack(
            code, message_id=ack_id, application=APPLICATION, facility=FACILITY
        )
        head = str(ack).rstrip("\r")
    except (IndexError, KeyError, ValueError, AttributeError):
        return None  # an MSH too broken to answer in kind
    # create_ack fills MSA-2 with MSH-10 when there is one; MSA must have its three fields.
    return head if head.count("\rMSA|") == 1 else None
