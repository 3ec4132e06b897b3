"""10,000 broken, hostile and half-right MLLP frames and HL7 messages against a listener on a real
socket: none crashes it or hangs a connection past its idle timeout; each gets an ACK (AE or AR
for what cannot be an ADT message we map) or a closed connection; and afterwards the listener
still answers a good message AA."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import hl7
import pytest
from prometheus_client import CollectorRegistry

from events.parse import EventParser
from producers.epr.settings import AdapterSettings
from tests.producers.epr.conftest import TOPICS, RecordingSender, listener
from tools.adt_corpus import generate
from uecflow.config import load_registry

pytestmark = pytest.mark.slow

VT, FS, CR = b"\x0b", b"\x1c", b"\r"
CASES = 10_000
IDLE = 0.5
LIMIT = 64 * 1024
AT_ONCE = 200
GOOD = generate(datetime(2026, 12, 1, tzinfo=UTC), seed=3, visits=60).messages


def frames(rng: random.Random) -> list[tuple[str, bytes]]:
    """(kind, bytes on the wire) for every case, seeded."""
    makers = [_flipped, _truncated, _no_start, _no_end, _wrong_separators, _huge_field,
              _random_bytes, _split_segments, _not_utf8, _junk_fields, _two_in_one]  # fmt: skip
    return [
        (maker.__name__[1:], maker(rng)) for maker in (rng.choice(makers) for _ in range(CASES))
    ]


def _good(rng: random.Random) -> bytes:
    return rng.choice(GOOD).text.encode()


def _framed(body: bytes) -> bytes:
    return VT + body + FS + CR


def _flipped(rng: random.Random) -> bytes:
    body = bytearray(_good(rng))
    for _ in range(rng.randint(1, 8)):
        body[rng.randrange(len(body))] = rng.randrange(256)
    return _framed(bytes(body))


def _truncated(rng: random.Random) -> bytes:
    body = _good(rng)
    return _framed(body[: rng.randrange(len(body))])


def _no_start(rng: random.Random) -> bytes:
    return _good(rng) + FS + CR


def _no_end(rng: random.Random) -> bytes:
    return VT + _good(rng)[: rng.randrange(1, 400)]


def _wrong_separators(rng: random.Random) -> bytes:
    body = _good(rng)
    return _framed(body[:3] + bytes(rng.choice(b"|^~\\&#!*") for _ in range(5)) + body[8:])


def _huge_field(rng: random.Random) -> bytes:
    body = _good(rng).decode()
    size = rng.choice((LIMIT // 2, LIMIT + 1, 3 * LIMIT))
    return _framed(body.replace("PV1|1|", "PV1|1|" + "X" * size + "|", 1).encode())


def _random_bytes(rng: random.Random) -> bytes:
    return _framed(rng.randbytes(rng.randrange(0, 600)))


def _split_segments(rng: random.Random) -> bytes:
    body = _good(rng)
    return _framed(body.replace(b"\r", rng.choice((b"\n", b"\r\n", b"", b"\x1c", b"\x0b"))))


def _not_utf8(rng: random.Random) -> bytes:
    return _framed(_good(rng).replace(b"HOMERTON", b"HOM\xe9\xff\xfeRTON"))


def _junk_fields(rng: random.Random) -> bytes:
    body = _good(rng).decode()
    junk = rng.choice(("\\X00\\", "\\", "\\H\\\\N\\", "^^^^^^", "~~~~", "&&&", "\x00", "'\"<>"))
    return _framed(body.replace("|", "|" + junk, rng.randint(1, 30)).encode())


def _two_in_one(rng: random.Random) -> bytes:
    return VT + _good(rng) + VT + _good(rng) + FS + CR


async def one_case(port: int, data: bytes) -> tuple[str, bytes]:
    """('ack', the ACK) or ('closed', b'') and how long it took; fails past the idle timeout."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        try:
            reply = await asyncio.wait_for(reader.readuntil(FS + CR), IDLE + 5)
        except asyncio.IncompleteReadError as closed:
            return ("closed", b"") if not closed.partial else ("partial", closed.partial)
        except ConnectionError:
            return "closed", b""
        return "ack", reply
    finally:
        writer.close()


def test_ten_thousand_broken_frames_never_crash_or_hang_the_listener(
    settings: AdapterSettings,
) -> None:
    cases = frames(random.Random(20261206))
    errors: list[dict[str, Any]] = []
    sender = RecordingSender()
    seen: Counter[tuple[str, str]] = Counter()

    async def run() -> None:
        asyncio.get_running_loop().set_exception_handler(
            lambda _loop, context: errors.append(context)
        )
        subject = listener(settings, sender, CollectorRegistry(),
                           idle_timeout=IDLE, max_message_bytes=LIMIT)  # fmt: skip
        server = await subject.serve("127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        gate = asyncio.Semaphore(AT_ONCE)

        async def check(kind: str, data: bytes) -> None:
            async with gate:
                how, reply = await one_case(port, data)
            assert how != "partial", reply  # half an ACK: never
            code = _code(reply) if how == "ack" else "closed"
            seen[(kind, code)] += 1
            if kind in {"random_bytes", "no_start"}:
                assert code in {"AE", "AR", "closed"}, (kind, reply)

        await asyncio.gather(*(check(kind, data) for kind, data in cases))
        how, reply = await one_case(port, _framed(GOOD[0].text.encode()))
        assert (how, _code(reply)) == ("ack", "AA")
        server.close()

    asyncio.run(run())
    assert errors == []
    assert sum(seen.values()) == CASES
    assert {code for _, code in seen} >= {"AA", "AE", "AR", "closed"}
    # What was let through is a valid event of the trust's site, or a dead letter.
    parser = EventParser(load_registry(None))
    for message in sender.sent:
        if message.topic != TOPICS.dead_letter:
            assert parser.parse(message.value).site == "RQXM1"


def _code(reply: bytes) -> str:
    assert reply[:1] + reply[-2:] == VT + FS + CR, reply
    code = str(hl7.parse(reply[1:-2].decode())["MSA.F1"])
    assert code in {"AA", "AE", "AR"}, reply
    return code
