"""Where simulated events go: a JSON Lines file, or Kafka (each stream's topic, keyed by site)."""

from __future__ import annotations

from typing import Any, TextIO

from kafka import KafkaProducer

from events.contract import Event
from streams.topics import Topics, ensure_topics


class SinkError(RuntimeError):
    """Events could not be delivered: the message says how many and why."""


class JsonLinesSink:
    """One event per line, exactly as the contract's JSON Schema describes it."""

    def __init__(self, stream: TextIO, *, close_stream: bool) -> None:
        self._stream, self._close_stream = stream, close_stream

    def send(self, event: Event) -> None:
        self._stream.write(event.model_dump_json())
        self._stream.write("\n")

    def flush(self) -> None:
        self._stream.flush()

    def close(self) -> None:
        self._stream.flush()
        if self._close_stream:
            self._stream.close()


class KafkaSink:
    """Each event to its stream's topic, keyed by site so that a site's events stay in order."""

    def __init__(self, bootstrap: str, topics: Topics, **producer_options: Any) -> None:
        # The worker creates topics too; creating them here first means the simulator's first
        # events never land on a broker-default single-partition topic.
        ensure_topics(bootstrap, topics)
        self._topics = topics
        self._producer = KafkaProducer(
            bootstrap_servers=bootstrap,
            acks="all",
            enable_idempotence=True,
            linger_ms=20,
            **producer_options,
        )
        self._failed = 0
        self._first_error: str | None = None

    def send(self, event: Event) -> None:
        future = self._producer.send(
            self._topics.for_event(event),
            key=event.site.encode(),
            value=event.model_dump_json().encode(),
        )
        future.add_errback(self._failure)

    def _failure(self, error: Exception) -> None:
        self._failed += 1
        self._first_error = self._first_error or f"{type(error).__name__}: {error}"

    def flush(self) -> None:
        self._producer.flush()

    def close(self) -> None:
        try:
            self._producer.flush()
        finally:
            self._producer.close()
        if self._failed:
            raise SinkError(f"Kafka refused {self._failed} events; first: {self._first_error}")
