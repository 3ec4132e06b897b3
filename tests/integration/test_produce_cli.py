"""`uecflow produce` against a real broker: what reaches Kafka, and the exit status."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest
from kafka import KafkaConsumer

from events.parse import EventParser, InvalidEvent
from streams.core.intake import Stream
from streams.topics import Topics
from tools.harness import UECFLOW, Broker, events_in_kafka, free_port, wait_for
from uecflow.config import load_registry

pytestmark = pytest.mark.kafka
PARSER = EventParser(load_registry(None))
SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "nel-day.jsonl"


def produce(*args: str) -> subprocess.CompletedProcess[str]:
    command = [str(UECFLOW), "produce", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)


def read_all(broker: Broker, topic: str, expected: int) -> list[tuple[bytes, bytes]]:
    consumer = KafkaConsumer(
        topic, bootstrap_servers=broker.bootstrap, auto_offset_reset="earliest",
        consumer_timeout_ms=5000,
    )  # fmt: skip
    try:
        found = [(message.key, message.value) for message in consumer]
    finally:
        consumer.close()
    assert len(found) == expected
    return found


def test_the_sample_day_reaches_its_topics_keyed_by_site_and_bad_lines_fail_the_run(
    broker: Broker, topics: Topics
) -> None:
    result = produce(str(SAMPLE), "--bootstrap", broker.bootstrap, "--topic-prefix", topics.prefix)
    assert result.returncode == 1  # the sample has 10 bad lines
    problems = [row for row in result.stderr.splitlines() if row.startswith("line ")]
    assert len(problems) == 10
    valid = [PARSER.parse(line) for line in SAMPLE.read_text().splitlines() if _valid(line)]
    assert f"sent {len(valid)} (acknowledged by Kafka), rejected 10" in result.stderr
    beds = [event for event in valid if event.event_type == "beds.ward_state"]
    messages = read_all(broker, topics.of(Stream.BEDS), len(beds))
    assert all(PARSER.parse(value).site == key.decode() for key, value in messages)


def test_without_a_reachable_broker_nothing_is_reported_sent_and_the_run_fails() -> None:
    result = produce(str(SAMPLE), "--bootstrap", f"127.0.0.1:{free_port()}", "--timeout", "5")
    assert result.returncode == 1
    assert "cannot reach Kafka" in result.stderr


def test_with_the_broker_gone_mid_file_the_run_ends_within_its_timeout_and_says_what_was_sent(
    broker: Broker, topics: Topics
) -> None:
    lines = SAMPLE.read_bytes().splitlines(keepends=True)
    half = len(lines) // 2
    command = [str(UECFLOW), "produce", "-", "--bootstrap", broker.bootstrap,
               "--topic-prefix", topics.prefix, "--timeout", "10"]  # fmt: skip
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL
    )
    assert process.stdin is not None
    try:
        process.stdin.write(b"".join(lines[:half]))
        process.stdin.flush()
        wait_for(
            lambda: events_in_kafka(broker.bootstrap, topics) > 0, "the first lines on Kafka", 60
        )
        broker.kill()
        started = time.monotonic()
        _, stderr = process.communicate(input=b"".join(lines[half:]), timeout=120)
        took = time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()
        broker.start()  # the session's other tests need it
    assert process.returncode == 1
    assert took < 3 * 10 + 10  # the timeout, waited at most for the metadata, a flush and close
    summary = stderr.decode().splitlines()[-1]
    sent, rejected, failed = (int(n) for n in re.findall(r"\d+", summary))
    assert (rejected, sent + rejected + failed) == (10, len(lines))
    assert failed > 0


def _valid(line: str) -> bool:
    try:
        PARSER.parse(line)
    except InvalidEvent:
        return False
    return True
