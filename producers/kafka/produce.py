"""`uecflow produce FILE|-`: send a file of events to Kafka the way a trust's engine should.

Every line is checked against the contract first (the parser the worker uses), so a bad line is
reported at once, with its line number and reason, and never sent. Good lines go, as they were
written, to their stream's topic keyed by site, with acks=all and idempotence. A line counts as
sent only when Kafka acknowledged it; the exit status is 0 only if every line was.

    uecflow produce samples/nel-day.jsonl --bootstrap 127.0.0.1:9092
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from kafka import KafkaProducer
from kafka.errors import KafkaError
from rich import progress

from events.parse import EventParser, InvalidEvent
from streams.topics import Topics, add_kafka_options, ensure_topics, topics_from
from uecflow.command import EXIT_OK, EXIT_REFUSED, UsageError, runs
from uecflow.config import Registry

SETTLE_EVERY = 10_000
LINGER_MS = 20
PROGRESS_FROM_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Message:
    line: int
    topic: str
    key: bytes
    value: bytes


@dataclass(frozen=True, slots=True)
class Rejected:
    line: int
    reason: str


@dataclass
class Tally:
    sent: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    failed: list[Rejected] = field(default_factory=list)  # valid, but Kafka did not acknowledge


def messages(
    lines: Iterable[bytes], parser: EventParser, topics: Topics
) -> Iterator[Message | Rejected]:
    """Each line as the message to send, or why it is refused. Pure: no Kafka here."""
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip(b"\r\n")
        if number == 1:
            line = line.removeprefix(b"\xef\xbb\xbf")  # a BOM from a Windows editor
        try:
            event = parser.parse(line)
        except InvalidEvent as invalid:
            yield Rejected(number, invalid.reason)
            continue
        yield Message(number, topics.for_event(event), event.site.encode(), line)


def send_all(producer: Any, outgoing: Iterable[Message | Rejected], timeout: float) -> Tally:
    """Send every message; count it as sent only once Kafka acknowledged it. Once Kafka cannot
    take a message within the timeout, no more is sent: each remaining valid line is reported
    as not sent (another wait per line would make the run last hours with the broker down)."""
    tally = Tally()
    pending: list[tuple[Message, Any]] = []
    down: str | None = None
    for item in outgoing:
        if isinstance(item, Rejected):
            tally.rejected.append(item)
        elif down is not None:
            tally.failed.append(Rejected(item.line, f"not sent: {down}"))
        else:
            try:
                pending.append((item, producer.send(item.topic, key=item.key, value=item.value)))
            except KafkaError as error:
                down = f"Kafka did not take line {item.line} within the timeout ({error})"
                tally.failed.append(Rejected(item.line, f"not sent: {down}"))
        if len(pending) >= SETTLE_EVERY:  # bounded memory on files of millions of lines
            _settle(producer, pending, timeout, tally)
    _settle(producer, pending, timeout, tally)
    return tally


def _settle(
    producer: Any, pending: list[tuple[Message, Any]], timeout: float, tally: Tally
) -> None:
    # What is not acknowledged by then is reported so, line by line, below.
    with suppress(KafkaError):
        producer.flush(timeout=timeout)
    for message, future in pending:
        if future.succeeded():
            tally.sent += 1
        else:
            error = future.exception if future.is_done else "no acknowledgement in time"
            tally.failed.append(Rejected(message.line, f"not acknowledged by Kafka: {error}"))
    pending.clear()


def _run(args: argparse.Namespace, registry: Registry) -> int:
    topics = topics_from(args)
    with ExitStack() as stack:
        source = _open(args.file, stack)
        try:
            ensure_topics(args.bootstrap, topics, min(args.timeout, 30.0))
            producer = _producer(args.bootstrap, args.timeout)
        except KafkaError as error:
            print(
                f"uecflow produce: cannot reach Kafka at {args.bootstrap}: {error}", file=sys.stderr
            )
            return EXIT_REFUSED
        # Bounded: kafka-python's close() waits for ever for what the broker never answers.
        stack.callback(producer.close, timeout=min(args.timeout, 5.0))
        tally = send_all(producer, messages(source, EventParser(registry), topics), args.timeout)
    _report(tally, args.rejects)
    return EXIT_OK if not (tally.rejected or tally.failed) else EXIT_REFUSED


def _producer(bootstrap: str, timeout: float) -> KafkaProducer:
    return KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=LINGER_MS,
        # kafka-python refuses a delivery timeout shorter than linger plus request timeout.
        delivery_timeout_ms=int(timeout * 1000),
        request_timeout_ms=max(1, min(30_000, int(timeout * 1000) - LINGER_MS)),
        max_block_ms=int(timeout * 1000),  # send() waits this long for metadata or buffer room
        client_id="uecflow-produce",
    )


def _open(name: str, stack: ExitStack) -> IO[bytes]:
    if name == "-":
        return sys.stdin.buffer
    path = Path(name)
    try:
        if sys.stderr.isatty() and path.stat().st_size > PROGRESS_FROM_BYTES:
            return stack.enter_context(progress.open(path, "rb", description="sending"))
        return stack.enter_context(path.open("rb"))
    except OSError as error:
        raise UsageError(f"cannot read {name}: {error.strerror}") from None


def _report(tally: Tally, rejects: Path | None) -> None:
    for problem in sorted(tally.rejected + tally.failed, key=lambda item: item.line):
        print(f"line {problem.line}: {problem.reason}", file=sys.stderr)
    if rejects is not None:
        with rejects.open("w", encoding="utf-8") as out:
            for problem in tally.rejected + tally.failed:
                out.write(json.dumps({"line": problem.line, "reason": problem.reason}) + "\n")
    print(
        f"sent {tally.sent} (acknowledged by Kafka), rejected {len(tally.rejected)},"
        f" not acknowledged {len(tally.failed)}",
        file=sys.stderr,
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `uecflow produce`."""
    parser.description = "Send a file of events to Kafka the way a trust's engine should."
    parser.add_argument("file", help="JSON Lines file of events, or - for standard input")
    add_kafka_options(parser)
    parser.add_argument("--rejects", type=Path, help="write each refused line here, with why")
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds to wait for Kafka's acknowledgements"
    )
    runs(parser, _run)
