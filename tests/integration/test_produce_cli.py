"""`uecflow produce` against a real broker: what reaches Kafka, and the exit status."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from kafka import KafkaConsumer

from events.parse import EventParser, InvalidEvent
from streams.core.intake import Stream
from streams.topics import Topics
from tools.harness import UECFLOW, Broker, free_port
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


def _valid(line: str) -> bool:
    try:
        PARSER.parse(line)
    except InvalidEvent:
        return False
    return True
