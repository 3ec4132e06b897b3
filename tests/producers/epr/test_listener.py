"""The MLLP listener as an engine meets it: an ACK per message, AA only once Kafka has the event,
the dead letter before an AE/AR, and connections closed when framing or time runs out."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import hl7
from prometheus_client import CollectorRegistry, generate_latest

from producers.epr.mllp import Listener
from producers.epr.settings import AdapterSettings
from streams.core.intake import Stream
from tests.producers.epr.conftest import TOPICS, RecordingSender, listener

VT, FS, CR = b"\x0b", b"\x1c", b"\r"
A04 = (
    "MSH|^~\\&|EPR|HOM|UECFLOW|NEL|20261205101600||ADT^A04^ADT_A01|CTRL1|P|2.5.1\r"
    "EVN|A04|20261205101600\r"
    "PID|1||9990001112^^^NHS^NH||Secretname^Hidden||19750203|F\r"
    "PV1|1|E|ED^MAJ^3^HOMERTON" + "|" * 16 + "V100" + "|" * 25 + "20261205101500\r"
)


def block(text: str) -> bytes:
    return VT + text.encode() + FS + CR


def ack_of(data: bytes) -> hl7.Message:
    assert data[:1] + data[-2:] == VT + FS + CR, data
    return hl7.parse(data[1:-2].decode())


def answered(subject: Listener, text: str) -> hl7.Message:
    return hl7.parse(asyncio.run(subject.answer(text.encode())).decode())


def test_a_mapped_message_is_acknowledged_aa_once_kafka_has_its_event(
    settings: AdapterSettings,
) -> None:
    sender = RecordingSender()
    ack = answered(listener(settings, sender, CollectorRegistry()), A04)
    assert (str(ack["MSA.F1"]), str(ack["MSA.F2"])) == ("AA", "CTRL1")
    assert (str(ack["MSH.F9.R1.C1"]), str(ack["MSH.F9.R1.C2"])) == ("ACK", "A04")
    [message] = sender.sent
    event = json.loads(message.value)
    assert (message.topic, message.key) == (TOPICS.of(Stream.AE), b"RQXM1")
    assert event["event_type"] == "ae.arrival"


def test_when_kafka_does_not_acknowledge_the_answer_is_ae_send_it_again_and_no_dead_letter(
    settings: AdapterSettings,
) -> None:
    sender = RecordingSender(failing=True)
    ack = answered(listener(settings, sender, CollectorRegistry()), A04)
    assert str(ack["MSA.F1"]) == "AE"
    assert "send it again" in str(ack["MSA.F3"])
    assert sender.sent == []


def test_an_unmappable_message_is_dead_lettered_without_its_patient_then_answered(
    settings: AdapterSettings,
) -> None:
    sender = RecordingSender()
    text = A04.replace("ED^MAJ^3^HOMERTON", "ED^MAJ^3^ELSEWHERE")
    ack = answered(listener(settings, sender, CollectorRegistry()), text)
    assert str(ack["MSA.F1"]) == "AE"
    assert hl7.parse(str(ack)).unescape(str(ack["MSA.F3"])) == (
        "PV1-3: facility 'ELSEWHERE' is not in the trust's locations"
    )
    [letter] = sender.sent
    assert letter.topic == TOPICS.dead_letter
    headers = dict(letter.headers)
    assert headers["uecflow-reason"].startswith(b"PV1-3: facility")
    assert headers["uecflow-ack"] == b"AE"
    assert letter.value.startswith(b"MSH|")
    assert b"EVN|A04" in letter.value
    for secret in (b"9990001112", b"Secretname", b"19750203", b"V100", b"PID"):
        assert secret not in letter.value


def test_what_is_not_hl7_is_refused_ar_with_a_generic_ack(
    settings: AdapterSettings,
) -> None:
    sender = RecordingSender()
    ack = answered(listener(settings, sender, CollectorRegistry()), "PID|1||9990001112")
    assert (str(ack["MSA.F1"]), str(ack["MSA.F2"])) == ("AR", "")
    [letter] = sender.sent
    assert letter.value == b""  # nothing of it could be told apart as safe to keep


def test_the_metrics_count_by_trust_trigger_and_result_and_hold_no_patient_data(
    settings: AdapterSettings,
) -> None:
    metrics = CollectorRegistry()
    subject = listener(settings, RecordingSender(), metrics)
    for text in (A04, A04.replace("A04", "A40"), A04.replace("ADT^A04", "ADT^Z" + "9" * 500)):
        asyncio.run(subject.answer(text.encode()))
    text = generate_latest(metrics).decode()
    assert 'trigger="A04",trust="RQX"' in text.replace('ack="AA",result="sent",', "")
    assert 'result="ignored"' in text
    assert 'trigger="other"' in text
    assert "Secretname" not in text
    assert "9990001112" not in text


Scenario = Callable[[int, RecordingSender], Awaitable[None]]


def serving(settings: AdapterSettings, scenario: Scenario) -> None:
    """Runs `scenario` against a listener on a real socket (idle timeout 0.5 s, 4 KiB limit)."""

    async def run() -> None:
        sender = RecordingSender()
        subject = listener(
            settings, sender, CollectorRegistry(), idle_timeout=0.5, max_message_bytes=4096
        )
        server = await subject.serve("127.0.0.1", 0)
        try:
            await scenario(server.sockets[0].getsockname()[1], sender)
        finally:
            server.close()

    asyncio.run(run())


async def exchange(port: int, data: bytes) -> bytes:
    """What the listener sends back before it closes the connection (or 5 s pass)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()


def test_one_connection_carries_message_after_message(settings: AdapterSettings) -> None:
    async def scenario(port: int, sender: RecordingSender) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for number in range(3):
            writer.write(block(A04.replace("CTRL1", f"CTRL{number}")))
            ack = ack_of(await asyncio.wait_for(reader.readuntil(FS + CR), 5))
            assert str(ack["MSA.F2"]) == f"CTRL{number}"
        writer.close()
        assert len(sender.sent) == 3

    serving(settings, scenario)


def test_a_block_without_its_start_character_closes_the_connection(
    settings: AdapterSettings,
) -> None:
    async def scenario(port: int, sender: RecordingSender) -> None:
        assert await exchange(port, A04.encode() + FS + CR) == b""
        assert sender.sent == []

    serving(settings, scenario)


def test_a_block_over_the_size_limit_closes_the_connection(settings: AdapterSettings) -> None:
    async def scenario(port: int, _sender: RecordingSender) -> None:
        assert await exchange(port, VT + b"MSH|" + b"x" * 10_000 + FS + CR) == b""

    serving(settings, scenario)


def test_a_silent_or_half_sent_connection_is_closed_after_the_idle_timeout(
    settings: AdapterSettings,
) -> None:
    async def scenario(port: int, _sender: RecordingSender) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert await exchange(port, VT + b"MSH|^~\\&|half a mess") == b""
        assert loop.time() - started < 3  # the timeout is 0.5 s; 5 s would mean it hung

    serving(settings, scenario)
