"""Putting the gateway's accepted events into Kafka, and saying whether Kafka has them.

`Sender` is what the gateway needs; `KafkaSender` is the real one. It returns only once the
broker has acknowledged every message (acks=all, idempotent producer) and raises `SendFailed`
when that does not happen within `timeout` seconds, which is how a stopped or unreachable broker
shows up: the gateway then answers 503 and the trust sends the batch again.

A message that timed out is not withdrawn: the idempotent producer keeps retrying it, so it may
still reach Kafka after the 503. That is at-least-once delivery, and harmless: the worker drops
an event_id it has already seen. A producer that fails with anything but a timeout is replaced
by a new one (its requests are answered 503).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, KafkaTimeoutError
from aiokafka.partitioner import murmur2

log = logging.getLogger("uecflow.gateway.kafka")

DEFAULT_TIMEOUT = 5.0
AIOKAFKA_TIMEOUT_MS = 30_000


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


class SendFailed(Exception):
    """Kafka did not acknowledge every message in time; some may still arrive later."""


class Sender(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send_all(self, messages: Sequence[Message]) -> None:
        """Return once Kafka holds every message; raise `SendFailed` otherwise."""
        ...


class KafkaSender:
    """An aiokafka producer that waits for the acknowledgement of every message it sends, and
    that is replaced when it breaks."""

    def __init__(self, bootstrap: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._bootstrap = bootstrap
        self._timeout = timeout
        self._producer: AIOKafkaProducer | None = None
        self._starting = asyncio.Lock()
        self._retiring: set[asyncio.Task[None]] = set()
        # aiokafka queues one batch per partition; a batch waiting for its turn while others
        # wait too makes aiokafka give up early (its remaining time is counted down from the
        # first wait on every wake-up), so requests take turns here, under our own deadline.
        self._queues: defaultdict[tuple[str, int], asyncio.Lock] = defaultdict(asyncio.Lock)

    async def start(self) -> None:
        """Connect, or raise: a gateway that cannot reach Kafka at all should not start."""
        self._producer = await self._new_producer()

    async def stop(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await self._close(producer)
        if self._retiring:
            await asyncio.wait(self._retiring)

    async def send_all(self, messages: Sequence[Message]) -> None:
        producer = None
        try:
            async with asyncio.timeout(self._timeout):
                producer = await self._running()
                deliveries = []
                for place, batch in await _batches(producer, messages):
                    async with self._queues[place]:
                        topic, partition = place
                        deliveries.append(
                            await producer.send_batch(batch, topic, partition=partition)
                        )
                for delivery in deliveries:
                    delivery.add_done_callback(_seen)
                await asyncio.gather(*deliveries)
        except (TimeoutError, KafkaTimeoutError) as error:
            raise SendFailed(type(error).__name__) from None
        except (KafkaError, OSError) as error:
            if producer is not None:
                self._retire(producer, error)
            raise SendFailed(type(error).__name__) from None

    async def _running(self) -> AIOKafkaProducer:
        async with self._starting:
            if self._producer is None:
                self._producer = await self._new_producer()
                log.info("a new Kafka producer is running")
            return self._producer

    async def _new_producer(self) -> AIOKafkaProducer:
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            client_id="uecflow-gateway",
            acks="all",
            enable_idempotence=True,
            # `timeout` bounds each request (send_all); aiokafka's own, for metadata and produce
            # requests, is longer so that it does not fail a request the deadline would allow.
            request_timeout_ms=AIOKAFKA_TIMEOUT_MS,
            # Requests arrive concurrently: a few milliseconds lets their batches share a request.
            linger_ms=2,
            max_batch_size=256 * 1024,
        )
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        return producer

    def _retire(self, producer: AIOKafkaProducer, error: BaseException) -> None:
        """Stop using a producer that got an error it cannot recover from by itself: aiokafka's
        idempotent producer stays stuck on OutOfOrderSequenceNumber after a broker restart
        (aiokafka issue 1017), where a new producer, with a new producer id, is fine."""
        if self._producer is not producer:
            return  # another request has retired it already
        self._producer = None
        log.warning("Kafka producer replaced", extra={"error_type": type(error).__name__})
        task = asyncio.create_task(self._close(producer))
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def _close(self, producer: AIOKafkaProducer) -> None:
        # Stopping flushes what is buffered; with the broker down that would wait forever.
        try:
            await asyncio.wait_for(producer.stop(), self._timeout * 2)
        except TimeoutError:
            log.warning("Kafka did not take the last buffered messages of a stopped producer")
        except (KafkaError, OSError) as error:
            log.warning("a Kafka producer stopped", extra={"error_type": type(error).__name__})


async def _batches(
    producer: AIOKafkaProducer, messages: Sequence[Message]
) -> list[tuple[tuple[str, int], Any]]:
    """The messages in record batches, one or more per partition, in order within each.

    A batch per partition costs a third of the CPU of a `send` per message. The partition is
    the one Kafka's default partitioner gives the key, so a site's events stay in one partition
    whichever producer sent them.
    """
    counts = {
        topic: len(await producer.partitions_for(topic))
        for topic in {message.topic for message in messages}
    }
    batches: dict[tuple[str, int], list[Any]] = {}
    for message in messages:
        topic = message.topic
        place = (topic, _key_hash(message.key) % counts[topic])
        builders = batches.setdefault(place, [producer.create_batch()])
        key, value, headers = message.key, message.value, list(message.headers)
        if builders[-1].append(key=key, value=value, timestamp=None, headers=headers) is None:
            builders.append(producer.create_batch())  # full: an empty batch takes any message
            builders[-1].append(key=key, value=value, timestamp=None, headers=headers)
    return [(place, batch) for place, builders in batches.items() for batch in builders]


@functools.lru_cache(maxsize=4096)
def _key_hash(key: bytes) -> int:
    # Keys are site codes: a handful, each hashed once rather than per message.
    return int(murmur2(key)) & 0x7FFFFFFF


def _seen(delivery: asyncio.Future[object]) -> None:
    # A delivery still pending at the timeout may fail later; looking at its error keeps
    # asyncio from logging "exception was never retrieved" for an outcome already answered.
    if not delivery.cancelled():
        delivery.exception()
