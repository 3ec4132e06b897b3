"""What a trust's own producer or a failing broker can do to the worker, on a real broker: no
valid event is skipped or counted twice, and no bad one disappears."""

from __future__ import annotations

import json

import pytest
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import ConfigResource, ConfigResourceType

from events.parse import EventParser, InvalidEvent
from streams.topics import Topics
from streams.worker.app import DEAD_LETTER_MAX_BYTES, EXIT_WRITE_LOST, TABLE
from tests.integration.live_metrics import assert_same_metrics, scrape_when_lag_is_zero
from tools.harness import (
    Broker,
    Worker,
    consumer_lag,
    dead_letters,
    produce,
    replay_document,
    scrape_as_of,
    stream_of,
    wait_for,
)
from uecflow.config import load_registry

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def valid(nel_events: list[str]) -> list[str]:
    """The day's events that the contract admits, each once."""
    parser, seen, chosen = EventParser(load_registry()), set(), []
    for line in nel_events:
        try:
            event = parser.parse(line)
        except InvalidEvent:
            continue
        if event.event_id not in seen:
            seen.add(event.event_id)
            chosen.append(line)
    return chosen


def test_oversized_keyless_and_mis_keyed_messages_are_dead_lettered_and_nothing_valid_is_lost(
    broker: Broker, topics: Topics, worker: Worker, nel_events: list[str]
) -> None:
    good = valid(nel_events)[:200]
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all", linger_ms=5)
    oversized = b'{"event_type":"ae.arrival","site":"R1H12","x":"' + b"a" * 1_000_000 + b'"}'
    bad = 0
    for number, line in enumerate(good):
        topic, site = topics.of(stream_of(line)), json.loads(line)["site"].encode()
        if number % 40 == 0:  # a trust's producer writing straight to the topic
            producer.send(topics.of(stream_of(line)), key=site, value=oversized)
            bad += 1
        if number % 40 == 13:
            producer.send(topic, key=None, value=line.encode())
            bad += 1
        elif number % 40 == 27:
            producer.send(topic, key=b"RQX01", value=line.encode())
            bad += 1
        producer.send(topic, key=site, value=line.encode())
    producer.flush(timeout=60)
    producer.close()
    samples = scrape_when_lag_is_zero(worker, broker, topics)
    assert_same_metrics(samples, replay_document(good, scrape_as_of(samples)))
    letters = dead_letters(broker.bootstrap, topics, expected=bad)
    assert len(letters) == bad
    truncated = [letter for letter in letters if "uecflow-truncated" in letter]
    assert len(truncated) == 5
    assert {letter["uecflow-size"] for letter in truncated} == {str(len(oversized))}
    assert all(len(letter["original"]) == DEAD_LETTER_MAX_BYTES for letter in truncated)
    keys = [letter for letter in letters if "Kafka key" in letter["uecflow-reason"]]
    assert len(keys) == bad - 5
    assert all("RQX01" not in letter["uecflow-reason"] for letter in keys)


def test_a_lost_changelog_write_stops_the_worker_before_it_commits_past_it(
    broker: Broker, topics: Topics, worker: Worker, nel_events: list[str]
) -> None:
    half = len(nel_events) // 2
    produce(broker.bootstrap, topics, nel_events[:half])
    wait_for(lambda: consumer_lag(broker.bootstrap, topics) == 0, "the first half", 120)
    # The broker now refuses every write to the table's changelog (too large for the topic).
    changelog = f"{topics.prefix}-worker-{TABLE}-changelog"
    _set_topic_config(broker, changelog, "max.message.bytes", "64")
    produce(broker.bootstrap, topics, nel_events[half:])
    assert worker.process is not None
    assert worker.process.wait(timeout=60) == EXIT_WRITE_LOST
    assert "changelog write failed" in worker.log_tail(5)
    _set_topic_config(broker, changelog, "max.message.bytes", "1048588")
    worker.start()
    samples = scrape_when_lag_is_zero(worker, broker, topics)
    assert_same_metrics(samples, replay_document(nel_events, scrape_as_of(samples)))


def _set_topic_config(broker: Broker, topic: str, name: str, value: str) -> None:
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic, configs={name: value})]
        )
    finally:
        admin.close()
