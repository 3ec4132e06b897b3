"""The Kafka topics of uecflow, and creating them (Faust does not create source topics)."""

from __future__ import annotations

import argparse
import logging
import os
from contextlib import suppress
from dataclasses import dataclass

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError
from kafka.partitioner.default import murmur2

from events.contract import Event
from streams.core.intake import STREAM_OF, Stream

log = logging.getLogger(__name__)

# One partition per site would do for NEL's six; twelve leave room to add sites and workers.
DEFAULT_PARTITIONS = 12
DEAD_LETTER_RETENTION_MS = 30 * 24 * 3600 * 1000  # a month to look into what a trust sent


@dataclass(frozen=True, slots=True)
class Topics:
    """Topic names under one prefix (a deployment, or one test)."""

    prefix: str = "uecflow"
    partitions: int = DEFAULT_PARTITIONS

    def of(self, stream: Stream) -> str:
        return f"{self.prefix}.{stream.value}"

    def for_event(self, event: Event) -> str:
        """The topic of the event's stream (producers send here, keyed by `event.site`)."""
        return self.of(STREAM_OF[type(event)])

    @property
    def dead_letter(self) -> str:
        return f"{self.prefix}.dead-letter"

    def partition_of(self, site: str) -> int:
        """The partition Kafka's default partitioner gives a message keyed by `site`."""
        return int(murmur2(site.encode()) & 0x7FFFFFFF) % self.partitions


def add_kafka_options(parser: argparse.ArgumentParser) -> None:
    """`--bootstrap`, `--topic-prefix` and `--partitions`, the same in every command."""
    env = os.environ.get
    parser.add_argument(
        "--bootstrap",
        default=env("UECFLOW_KAFKA", "127.0.0.1:9092"),
        help="Kafka bootstrap servers (default: $UECFLOW_KAFKA or 127.0.0.1:9092)",
    )
    parser.add_argument(
        "--topic-prefix",
        default=env("UECFLOW_TOPIC_PREFIX", "uecflow"),
        help="topic names: PREFIX.ae, PREFIX.beds, ... (default: $UECFLOW_TOPIC_PREFIX or uecflow)",
    )
    parser.add_argument(
        "--partitions",
        type=_positive,
        default=DEFAULT_PARTITIONS,
        help=f"partitions of topics created (default {DEFAULT_PARTITIONS})",
    )


def topics_from(args: argparse.Namespace) -> Topics:
    return Topics(args.topic_prefix, args.partitions)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def ensure_topics(bootstrap: str, topics: Topics, timeout: float = 30.0) -> None:
    """Create the source and dead-letter topics if missing; leave existing ones alone."""
    wanted = [NewTopic(topics.of(stream), topics.partitions, 1) for stream in Stream]
    wanted.append(
        NewTopic(
            topics.dead_letter,
            1,
            1,
            topic_configs={"retention.ms": str(DEAD_LETTER_RETENTION_MS)},
        )
    )
    milliseconds = int(timeout * 1000)
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap,
        client_id="uecflow-topics",
        request_timeout_ms=milliseconds,
    )
    try:
        existing = set(admin.list_topics())
        missing = [topic for topic in wanted if topic.name not in existing]
        if missing:
            with suppress(TopicAlreadyExistsError):  # another worker created them first
                admin.create_topics(missing)
            log.info("created topics", extra={"topics": [topic.name for topic in missing]})
    finally:
        admin.close()
