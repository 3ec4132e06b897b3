"""The MLLP listener: HL7 v2 messages in, events to Kafka, an ACK back for each.

A connection carries one message at a time (MLLP's original mode): the sender waits for the ACK
before the next. The ACK is `AA` only once Kafka acknowledged the event (acks=all, idempotent
producer: `producers.kafka.sender`, the gateway's), or for a message that says nothing uecflow
counts; `AE`/`AR` with the reason for one that cannot be mapped, whose dead letter (patient
segments removed) is on Kafka first; `AE` "send it again" when Kafka did not acknowledge, with
no dead letter, since nothing is wrong with the message.

A connection is closed, without an ACK, when its framing cannot be trusted (no start block, a
block over the size limit), when it sends nothing for `idle_timeout` seconds, or when it does not
read its ACK within that time. Nothing a client sends reaches a log: only counts, codes and
the trigger event.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import hl7
from hl7.mllp import InvalidBlockError, start_hl7_server
from prometheus_client import CollectorRegistry, Counter

from events.parse import EventParser, InvalidEvent
from producers.epr.acks import AckCode, acknowledgement
from producers.epr.hl7_mapping import (
    Ignored,
    Mapped,
    Unmappable,
    map_message,
    readable,
    trigger_of,
)
from producers.epr.redact import redact
from producers.epr.settings import AdapterSettings
from producers.kafka.sender import Message, Sender, SendFailed
from streams.topics import Topics

log = logging.getLogger("uecflow.hl7")
# The hl7 library logs the text of a field it cannot unescape: that could be a visit number.
logging.getLogger("hl7").disabled = True

DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024
DEFAULT_IDLE_TIMEOUT = 60.0
NOT_STORED = "not stored: Kafka did not acknowledge; send it again"
_TRIGGER = re.compile(r"A[0-9]{2}")


@dataclass(frozen=True, slots=True)
class Answer:
    """What a message got: the ACK code, its text, and the outcome counted."""

    code: AckCode
    reason: str
    result: str  # sent, ignored, refused, not_stored


class Hl7Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.messages = Counter(
            "uecflow_hl7_messages",
            "HL7 messages answered, by trust, trigger event, ACK code and result (sent to Kafka,"
            " ignored: nothing uecflow counts, refused: dead-lettered, not_stored: Kafka down).",
            ["trust", "trigger", "ack", "result"],
            registry=registry,
        )
        self.closed = Counter(
            "uecflow_hl7_connections_closed",
            "MLLP connections closed, by why: peer (the sender), idle (timeout), framing"
            " (no start block, or a block over the size limit).",
            ["trust", "reason"],
            registry=registry,
        )


class Listener:
    """Answers the messages of one trust's engine; the adapter's whole behaviour but the
    socket, which `serve` opens."""

    def __init__(
        self,
        settings: AdapterSettings,
        parser: EventParser,
        sender: Sender,
        topics: Topics,
        metrics: Hl7Metrics,
        *,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._settings = settings
        self._parser = parser
        self._sender = sender
        self._topics = topics
        self._metrics = metrics
        self.idle_timeout = idle_timeout
        self.max_message_bytes = max_message_bytes
        self._clock = clock
        self._ack_ids = itertools.count(1)

    async def serve(self, host: str, port: int) -> asyncio.Server:
        limit = self.max_message_bytes
        server: asyncio.Server = await start_hl7_server(self._connection, host, port, limit=limit)
        return server

    async def answer(self, block: bytes) -> bytes:
        """The ACK of one MLLP block's content (what a connection sends back)."""
        text = _text(block)
        message = _parsed(readable(text, self._settings))
        trigger = _bounded(trigger_of(message)) if message is not None else "none"
        answer = await self._answer(message, text)
        self._metrics.messages.labels(
            self._settings.trust, trigger, answer.code, answer.result
        ).inc()
        if answer.result != "sent":
            log.info(
                "message answered",
                extra={"trigger": trigger, "ack": answer.code, "result": answer.result},
            )
        ack_id = f"UECFLOW{next(self._ack_ids)}"
        return acknowledgement(message, answer.code, answer.reason, ack_id, self._clock())

    async def _answer(self, message: hl7.Message | None, text: str) -> Answer:
        if message is None:
            why = _unreadable(text) or "the HL7 parser cannot read it"
            return await self._refuse("AR", f"not an HL7 v2 message that can be read: {why}", text)
        try:
            outcome = map_message(message, self._settings)
        except Exception:  # the library's own errors on a message it half-read
            return await self._refuse("AR", "the message cannot be read as HL7 v2", text)
        if isinstance(outcome, Ignored):
            return Answer("AA", outcome.reason, "ignored")
        if isinstance(outcome, Unmappable):
            return await self._refuse(outcome.code, outcome.reason, text)
        return await self._send(outcome, text)

    async def _send(self, mapped: Mapped, text: str) -> Answer:
        value = _json(mapped.event)
        try:
            event = self._parser.parse(value)
        except InvalidEvent as invalid:
            return await self._refuse("AE", f"the mapped event is refused: {invalid.reason}", text)
        message = Message(self._topics.for_event(event), event.site.encode(), value)
        try:
            await self._sender.send_all([message])
        except SendFailed:
            return Answer(
                "AE", "not stored: Kafka did not acknowledge; send it again", "not_stored"
            )
        return Answer("AA", "", "sent")

    async def _refuse(self, code: AckCode, reason: str, text: str) -> Answer:
        headers = {
            "uecflow-reason": reason.encode(),
            "uecflow-source": f"hl7/{self._settings.trust}".encode(),
            "uecflow-ack": code.encode(),
        }
        letter = Message(
            self._topics.dead_letter,
            self._settings.trust.encode(),
            redact(text).encode(),
            tuple(headers.items()),
        )
        try:
            await self._sender.send_all([letter])
        except SendFailed:
            return Answer(
                "AE", "not stored: Kafka did not acknowledge; send it again", "not_stored"
            )
        return Answer(code, reason, "refused")

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        why = "peer"
        try:
            while True:
                try:
                    block = await asyncio.wait_for(reader.readblock(), self.idle_timeout)  # type: ignore[attr-defined]
                except TimeoutError:
                    why = "idle"
                    break
                except (InvalidBlockError, ValueError):
                    why = "framing"
                    break
                except (asyncio.IncompleteReadError, ConnectionError):
                    break
                try:
                    ack = await self.answer(block)
                except Exception as error:  # a bug, not the sender's fault: no ACK, logged
                    log.error("message not answered", extra={"error_type": type(error).__name__})
                    why = "error"
                    break
                writer.writeblock(ack)  # type: ignore[attr-defined]
                await asyncio.wait_for(writer.drain(), self.idle_timeout)
        except TimeoutError:
            why = "idle"
        except ConnectionError:
            pass
        finally:
            self._metrics.closed.labels(self._settings.trust, why).inc()
            writer.close()


def _text(block: bytes) -> str:
    """The block as text, segments ending in CR whatever line ends the sender used."""
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError:
        text = block.decode("latin-1")  # 8859-1, as many UK EPRs send: every byte decodes
    return text.replace("\r\n", "\r").replace("\n", "\r")


def _parsed(text: str) -> hl7.Message | None:
    if _unreadable(text):
        return None
    try:
        return hl7.parse(text)
    except Exception:  # the library raises many kinds; any means "cannot read"
        return None


def _unreadable(text: str) -> str:
    """Why the message cannot be parsed safely, or "" if it may be: HL7 needs MSH-1 and the four
    encoding characters of MSH-2 all different, or fields are read from the wrong places."""
    if not text.startswith("MSH"):
        return "it does not begin with MSH"
    delimiters = text[3:9]
    if len(delimiters) < 6 or delimiters[5] != delimiters[0]:
        return "MSH-2 is not four encoding characters"
    if len(set(delimiters[:5])) != 5 or any(c.isalnum() or c in "\r\n " for c in delimiters[:5]):
        return "MSH-1 and MSH-2 are not five different separator characters"
    return ""


def _bounded(trigger: str) -> str:
    # A label from input: only real trigger events, so a fuzzer cannot grow the series.
    return trigger if _TRIGGER.fullmatch(trigger) else "other"


def _json(event: dict[str, object]) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode()
