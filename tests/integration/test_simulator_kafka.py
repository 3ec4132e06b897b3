"""`uecflow simulate --kafka` on a real broker: every event on its stream's topic, keyed by site,
each site's events in one partition and in order."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from kafka import KafkaConsumer

from events.parse import EventParser
from producers.simulator.london_hours import LONDON
from producers.simulator.scenarios import normal
from producers.simulator.system_model import simulate
from streams.core.intake import STREAM_OF, Stream
from streams.topics import Topics
from tools.harness import Broker
from uecflow.cli import main as uecflow
from uecflow.config import load_registry

pytestmark = pytest.mark.kafka
REGISTRY = load_registry(None)
START = datetime(2026, 1, 15, 8, tzinfo=LONDON)
SITES = ("RF4QH", "RQXM1", "R1HKH")


def test_simulated_events_reach_their_topics_keyed_by_site_in_order(broker: Broker) -> None:
    topics = Topics(prefix=f"s{uuid.uuid4().hex[:10]}", partitions=6)
    site_options = [option for site in SITES for option in ("--site", site)]
    arguments = ["--start", START.isoformat(), "--hours", "2", "--seed", "5", *site_options]
    kafka = ["--kafka", broker.bootstrap, "--topic-prefix", topics.prefix, "--speed", "max"]
    assert uecflow(["simulate", *arguments, *kafka, "--partitions", str(topics.partitions)]) == 0

    expected = list(simulate(SITES, normal(), seed=5, start=START, end=START + timedelta(hours=2)))
    received = _read_all(broker.bootstrap, topics, len(expected))
    assert len(received) == len(expected)

    parser = EventParser(REGISTRY)
    by_partition: dict[tuple[str, int], list[datetime]] = {}
    for topic, partition, key, value in received:
        event = parser.parse(value)
        assert key == event.site.encode()
        assert topic == topics.of(STREAM_OF[type(event)])
        assert partition == topics.partition_of(event.site)
        by_partition.setdefault((topic, partition), []).append(event.occurred_at)
    assert sorted(parser.parse(value).event_id for *_, value in received) == sorted(
        event.event_id for event in expected
    )
    for times in by_partition.values():
        assert times == sorted(times)


def _read_all(bootstrap: str, topics: Topics, expected: int) -> list[tuple[str, int, bytes, bytes]]:
    consumer = KafkaConsumer(
        *(topics.of(stream) for stream in Stream),
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        consumer_timeout_ms=10_000,
    )
    received = []
    try:
        for message in consumer:
            received.append((message.topic, message.partition, message.key, message.value))
            if len(received) >= expected:
                break
    finally:
        consumer.close()
    return received
