"""HL7 listener throughput: ADT messages/s through one `uecflow hl7`, each ACKed only after Kafka
acknowledged its event, against the floor of Kafka itself taking one event at a time.

Run: .venv/bin/python -m benchmarks.hl7_listener [--messages 6000] [--connections 1 4 16]
Needs what the integration tests need for Kafka (Java, Maven). It starts a throwaway broker and
`uecflow hl7`, then each of C connections sends its share of a generated ADT day (only the
registrations, discharges and decisions, which all go to Kafka) one message at a time, waiting
for each ACK, as an engine does. The floor, measured in the same run on the same broker, is the
adapter's own Kafka sender given one event and awaited, by C concurrent senders: the listener
cannot beat it, and the ratio is what parsing, mapping, hashing and the MLLP round trip cost.
Figures go to stdout as a Markdown table for docs/epr-adapters.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.gateway_load import cpu_seconds
from producers.kafka.sender import KafkaSender, Message
from streams.core.intake import Stream
from streams.topics import Topics, ensure_topics
from tools.adt_corpus import adapter_settings, generate
from tools.harness import Broker
from tools.hl7_adapter import Hl7Adapter, MllpConnection

KEY = b"benchmark-key-" + b"k" * 32
SENT_TO_KAFKA = ("ADT^A04", "ADT^A03", "ADT^A14")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=6_000)
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 4, 16])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        broker = Broker(Path(work) / "kafka")
        broker.start()
        try:
            rows = [_row(broker, Path(work), args.messages, count) for count in args.connections]
        finally:
            broker.stop()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs,"
          f" load average {os.getloadavg()[0]:.1f}\n")  # fmt: skip
    print("| connections | messages/s, ACK after Kafka | floor: Kafka alone, events/s | ratio"
          " | listener CPU per message |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|")
    for connections, listener, floor, cpu in rows:
        print(f"| {connections} | {listener:,.0f} | {floor:,.0f} | {listener / floor:.2f}"
              f" | {cpu:,.0f} µs |")  # fmt: skip


Row = tuple[int, float, float, float]  # connections, messages/s, floor events/s, CPU µs/message


def _row(broker: Broker, work: Path, messages: int, connections: int) -> Row:
    texts = _messages(messages)
    rate, cpu = _through_listener(broker, work, texts, connections)
    return connections, rate, _floor(broker, len(texts), connections), cpu / len(texts) * 1e6


def _messages(count: int) -> list[str]:
    """Distinct ADT messages that each become an event (a day has about 700; more days here)."""
    texts: list[str] = []
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=40)
    day = 0
    while len(texts) < count:
        corpus = generate(start + timedelta(days=day), seed=day, visits=240)
        texts += [
            sent.text.replace("HOM2026", f"HOM{day:03d}")
            for sent in corpus.messages
            if sent.ack == "AA" and any(kind in sent.text[:120] for kind in SENT_TO_KAFKA)
        ]
        day += 1
    return texts[:count]


def _through_listener(
    broker: Broker, work: Path, texts: list[str], connections: int
) -> tuple[float, float]:
    """Messages/s, and the CPU seconds the listener's process used for them."""
    topics = Topics(prefix=f"b{uuid.uuid4().hex[:8]}", partitions=12)
    settings = adapter_settings(work, KEY)
    adapter = Hl7Adapter(settings, broker.bootstrap, topics, work / f"{topics.prefix}.log")
    adapter.start()
    try:
        shares = [texts[number::connections] for number in range(connections)]
        codes: list[bytes] = []
        assert adapter.process is not None
        cpu = cpu_seconds(adapter.process.pid)
        started = time.perf_counter()
        threads = [threading.Thread(target=_engine, args=(adapter.port, share, codes))
                   for share in shares]  # fmt: skip
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
        cpu = cpu_seconds(adapter.process.pid) - cpu
    finally:
        adapter.stop()
    refused = [code for code in codes if b"MSA|AA|" not in code]
    assert not refused, refused[:3]
    return len(texts) / seconds, cpu


def _engine(port: int, texts: list[str], codes: list[bytes]) -> None:
    connection = MllpConnection(port)
    try:
        codes += [connection.send(text) for text in texts]
    finally:
        connection.close()


def _floor(broker: Broker, count: int, connections: int) -> float:
    topics = Topics(prefix=f"f{uuid.uuid4().hex[:8]}", partitions=12)
    ensure_topics(broker.bootstrap, topics)

    async def run() -> float:
        sender = KafkaSender(broker.bootstrap)
        await sender.start()
        value = b'{"event_type":"ae.arrival"}' + b" " * 200  # the size of a mapped event

        async def one(number: int) -> None:
            for index in range(number, count, connections):
                key = f"RQXM{index % 3}".encode()
                await sender.send_all([Message(topics.of(Stream.AE), key, value)])

        started = time.perf_counter()
        await asyncio.gather(*(one(number) for number in range(connections)))
        seconds = time.perf_counter() - started
        await sender.stop()
        return count / seconds

    return asyncio.run(run())


if __name__ == "__main__":
    main()
