"""The live worker: Faust agents feed each topic's messages to the pipeline; /metrics reads it.

Thin on purpose: admitting, applying and counting live in `streams.worker.pipeline` and the flow
core. Here: topics, one changelogged table, one agent per topic (concurrency 1: faust issue
606 loses messages with more), the dead-letter topic, and the web pages.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, cast

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, EventT, TransportT
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    disable_created_metrics,
)

from streams.core.intake import Refused, Stream
from streams.exporter import FlowCollector
from streams.topics import Topics, ensure_topics
from streams.worker.changelog import site_of
from streams.worker.exposition import Exposition
from streams.worker.pipeline import Pipeline
from streams.worker.stall import RecoveryWatch
from uecflow.config import Registry

log = logging.getLogger("uecflow.worker")
TABLE = "flow-state"
BATCH_MAX = 1000
BATCH_WITHIN_SECONDS = 0.05  # the most a batch adds to an event's way to /metrics
# Faust hard-codes aiokafka's fetch_max_wait_ms=1500. aiokafka sends one fetch per broker at a
# time and leaves out partitions whose records are still buffered: when the agents take longer
# than its 0.1 s prefetch backoff, the next fetch asks only for the quiet partitions (the
# ambulance topic, partitions without a site) and the broker holds it for the full wait, while
# the busy partitions cannot be fetched again. Measured at 1,000 events/s: fetches of 1.5 s
# and events 1.5 - 5 s old when handled. 100 ms bounds that stall; an idle worker then sends
# ten empty fetches a second, which costs the broker next to nothing.
FETCH_MAX_WAIT_MS = 100
# A write lost on its way to the changelog, or a refused message that cannot reach the dead-letter
# topic, must never be followed by a commit of the offsets that carried it: the worker exits at
# once (no graceful stop, which would commit) and its restart reads those messages again.
EXIT_WRITE_LOST = 3
# A changelog recovery that read nothing for PATIENCE_SECONDS (streams.worker.stall): the worker
# exits so that its supervisor starts it again, rather than serve nothing until someone notices.
EXIT_RECOVERY_STALLED = 4
STALL_CHECK_SECONDS = 5.0
# The most of a refused message's value the dead-letter topic keeps: a message near the broker's
# size limit would not fit with its headers. The reason and the full size go in the headers.
DEAD_LETTER_MAX_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    bootstrap: str = "127.0.0.1:9092"
    topics: Topics = field(default_factory=Topics)
    store: str = "memory://"  # "rocksdb://" in production: a restart then reads less changelog
    standby_replicas: int | None = None  # None: 1 with RocksDB, 0 with the memory store
    data_dir: Path = Path("var/worker")
    web_host: str = "127.0.0.1"
    web_port: int = 6066

    @property
    def app_id(self) -> str:
        return f"{self.topics.prefix}-worker"

    @property
    def standbys(self) -> int:
        """Faust's memory store drops a standby's state when each recovery ends (it keeps only
        active partitions), so a standby there costs a changelog read per event and saves
        nothing at failover; RocksDB keeps it, with the offset it reached."""
        if self.standby_replicas is not None:
            return self.standby_replicas
        return 1 if self.store.startswith("rocksdb") else 0


def build_app(
    settings: WorkerSettings, registry: Registry, clock: Callable[[], datetime] | None = None
) -> tuple[faust.App, Pipeline]:
    now = clock or _wall_clock
    app = _App(
        settings.app_id,
        broker=f"kafka://{settings.bootstrap}",
        store=settings.store,
        datadir=str(settings.data_dir),
        topic_partitions=settings.topics.partitions,
        topic_replication_factor=1,
        table_standby_replicas=settings.standbys,
        producer_acks=-1,
        consumer_auto_offset_reset="earliest",
        # A killed worker's partitions move on after 10 s, not Faust's default minute.
        broker_session_timeout=10.0,
        broker_heartbeat_interval=3.0,
        web_host=settings.web_host,
        web_bind=settings.web_host,  # Faust's default binds every address whatever web_host says
        web_port=settings.web_port,
        web_in_thread=False,
        autodiscover=False,
    )
    table = app.Table(
        TABLE,
        default=None,
        partitions=settings.topics.partitions,
        key_type=bytes,
        value_type=bytes,
    )
    writer = app.changelog = _TableWriter(app, table, settings.topics)
    disable_created_metrics()  # type: ignore[no-untyped-call]  # `_created` series: no use here
    metrics = CollectorRegistry(auto_describe=False)
    pipeline = Pipeline(registry, writer.send, now, metrics)
    metrics.register(FlowCollector(registry, pipeline.read, now))
    holding = _Holding(app, registry, settings.topics)
    _wire(app, table, pipeline, writer, holding, metrics)
    return app, pipeline


def _wall_clock() -> datetime:
    return datetime.now(UTC)


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: faust_aiokafka.Transport) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # Read by aiokafka when the consumer starts (its fetcher is made then), after this; an
        # aiokafka that renamed it must fail here, not ignore the setting.
        if not hasattr(consumer, "_fetch_max_wait_ms"):
            raise RuntimeError("this aiokafka has no _fetch_max_wait_ms: see FETCH_MAX_WAIT_MS")
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer

    async def seek_to_committed(self) -> Mapping[TP, int]:
        return cast(Mapping[TP, int], await self.call_thread(self._seek_every_source))

    async def _seek_every_source(self) -> Mapping[Any, int | None]:
        # aiokafka seeks only partitions committed past offset 0; one with no commit, or at 0,
        # stays wherever its fetches have reached. Records the flow dropped while it was held
        # still (see _Consumer) would then be skipped: those partitions go to their start.
        # An explicit offset, not seek_to_beginning(): that leaves the position unknown until a
        # reset completes, and Faust's livelock check then fails on it and crashes the worker.
        consumer = self._ensure_consumer()
        committed: Mapping[Any, int | None] = await consumer.seek_to_committed()
        is_changelog = cast(Any, self.consumer)._is_changelog_tp
        unsought = [tp for tp, offset in committed.items() if not offset and not is_changelog(tp)]
        if unsought:
            starts = await consumer.beginning_offsets(unsought)  # "earliest", auto_offset_reset's
            for tp in unsought:
                consumer.seek(tp, committed[tp] if committed[tp] == 0 else starts[tp])
        return committed


class _Consumer(faust_aiokafka.Consumer):
    """Faust's consumer, with its source partitions held still until they have been sought.

    After a rebalance Faust resumes the source partitions and only then seeks them to their
    committed offsets, with the fetcher already running for the changelog (faust-streaming
    issue 596). Records fetched in between reached the agents and, after the seek, again: the
    second copies are never acked, Faust's commits stop at them, and a restarted worker's lag
    never came down (the kill test, 2 runs in 4). The flow stops when a source partition is
    resumed, which drops what is fetched meanwhile; the seek then moves every source partition
    back (see _ConsumerThread), and Faust resumes the flow once it is done.
    """

    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    def resume_partitions(self, tps: Iterable[TP]) -> None:
        tps = set(tps)
        if any(not self._is_changelog_tp(tp) for tp in tps):
            self.stop_flow()
        super().resume_partitions(tps)

    async def _commit_offsets(
        self, offsets: Mapping[TP, int], start_new_transaction: bool = True
    ) -> bool:
        # Faust commits the offsets of acked events; their changelog writes must have landed.
        writer = cast(_App, self.app).changelog
        if writer is not None:
            await writer.confirm()
        return bool(await super()._commit_offsets(offsets, start_new_transaction))


class _Transport(faust_aiokafka.Transport):
    Consumer = _Consumer


class _App(faust.App):
    """Faust's app with our consumer settings: Faust offers no setting for the fetch wait."""

    changelog: _TableWriter | None = None

    def _new_transport(self) -> TransportT:
        return _Transport(self.conf.broker_consumer, self)


Change = tuple[int, bytes, bytes | None]  # partition, key, value (None: deleted)


@dataclass(slots=True)
class _Sent:
    """One record batch on its way to the changelog, with the changes it carries."""

    delivery: asyncio.Future[Any]
    partition: int
    changes: list[Change]


class _TableWriter:
    """Writes a change to the table's changelog on `drain()`, in the site's partition, and to
    its local store: the memory store at once, RocksDB once the changelog has it.

    Faust's own `table[key] = value` would use the partition of the event being processed (the
    flow core also writes outside any event: the sweep after recovery), and would pass every
    message through Faust's producer buffer, which sends one at a time: at several messages an
    event that buffer was the worker's bottleneck. `drain()` hands them to aiokafka's producer
    as one record batch per partition (a send of its own per message cost a future and a
    task each); `confirm()`, before every commit, waits for them.

    RocksDB outlives the process, so it must never hold a change the changelog lacks: a change
    written there and lost on its way to Kafka would make the restarted worker see the event as
    counted (its id is there) and never send it again, and recovery would lay older changelog
    values over the newer local ones. So RocksDB takes a change only once the broker has it, and
    records the changelog offset it has reached (Faust's persisted offset): a restart reads only
    the changelog written after it.
    """

    def __init__(self, app: faust.App, table: Any, topics: Topics) -> None:
        self._app, self._table, self._topics = app, table, topics
        self._pending: list[Change] = []
        self._in_flight: list[_Sent] = []
        self._partition_of: dict[str, int] = {}  # murmur2 in Python costs more than the write
        # The agents share one state and drain in turn: a later batch's value of a key must
        # never reach its partition before an earlier batch's.
        self._draining = asyncio.Lock()

    @property
    def _durable(self) -> bool:
        return hasattr(self._table.data, "_db_for_partition")  # RocksDB: a database a partition

    def send(self, site: str, key: bytes, value: bytes | None) -> None:
        partition = self._partition_of.get(site)
        if partition is None:
            partition = self._partition_of[site] = self._topics.partition_of(site)
        if not self._durable:
            store = self._table.data
            if value is None:
                store.pop(key, None)
            else:
                store[key] = value
        self._pending.append((partition, key, value))

    async def drain(self) -> None:
        async with self._draining:
            pending, self._pending = self._pending, []
            if not pending:
                return
            topic = self._table.changelog_topic.get_topic_name()
            producer = cast(Any, self._app.producer)._ensure_producer()  # aiokafka's own
            batches: dict[int, tuple[Any, list[Change]]] = {}
            # Each partition's messages stay in the order they were written: a batch is sent
            # when full, before the next one of its partition is begun.
            for change in pending:
                partition, key, value = change
                batch, changes = batches.get(partition) or (None, [])
                if batch is None:
                    batch, changes = batches[partition] = (producer.create_batch(), [])
                if batch.append(key=key, value=value, timestamp=None) is None:
                    await self._send(producer, batch, topic, partition, changes)
                    batch, changes = batches[partition] = (producer.create_batch(), [])
                    batch.append(key=key, value=value, timestamp=None)  # an empty one takes it
                changes.append(change)
            for partition, (batch, changes) in batches.items():
                await self._send(producer, batch, topic, partition, changes)

    async def _send(
        self, producer: Any, batch: Any, topic: str, partition: int, changes: list[Change]
    ) -> None:
        try:
            delivery = await producer.send_batch(batch, topic, partition=partition)
        except Exception as error:  # any failure: the write is lost
            halt("changelog write failed", error, topic=topic, partition=partition)
        self._in_flight.append(_Sent(delivery, partition, changes if self._durable else []))

    def forget_all_but(self, sites: frozenset[str]) -> None:
        """The memory store: drop the entries of partitions this worker no longer holds. Were
        one of them to come back, its recovery reads the changelog from its start, and an entry
        deleted meanwhile, whose deletion compaction has removed, would otherwise come back as
        if current. (RocksDB closes a partition's database when it is revoked.)"""
        if self._durable:
            return
        store = self._table.data
        for key in [key for key in store if site_of(key) not in sites]:
            del store[key]

    async def confirm(self) -> None:
        """Wait until every write sent so far is in the changelog, then (RocksDB) keep it
        locally; exit the process if one was lost (see EXIT_WRITE_LOST): nothing may be
        committed past it."""
        in_flight, self._in_flight = self._in_flight, []
        topic = self._table.changelog_topic.get_topic_name()
        for sent in in_flight:
            try:
                landed = await sent.delivery
            except Exception as error:
                halt("changelog write failed", error, topic=topic, partition=sent.partition)
            if sent.changes:
                self._keep(sent, landed.offset + len(sent.changes) - 1, topic)

    def _keep(self, sent: _Sent, last_offset: int, topic: str) -> None:
        store = self._table.data
        db = store._db_for_partition(sent.partition)
        for _, key, value in sent.changes:
            store._key_index[key] = sent.partition
            if value is None:
                db.delete(key)
            else:
                db.put(key, value)
        store.set_persisted_offset(TP(topic, sent.partition), last_offset)


@dataclass(frozen=True, slots=True)
class _Holding:
    """Which sites this worker holds: those of the source partitions the group assigned it
    (Faust gives a worker the same partitions of every source topic and of the changelog)."""

    app: faust.App
    registry: Registry
    topics: Topics

    def sites(self, assigned: Iterable[TP]) -> frozenset[str]:
        sources = {self.topics.of(stream) for stream in Stream}
        partitions = {tp.partition for tp in assigned if tp.topic in sources}
        return frozenset(
            code for code in self.registry.sites if self.topics.partition_of(code) in partitions
        )

    def now(self) -> frozenset[str]:
        return self.sites(cast(Any, self.app).assignor.assigned_actives())

    def entries(self, table: Any, sites: frozenset[str]) -> list[tuple[bytes, bytes]]:
        """The table's entries of those sites: it may also hold standby partitions' entries,
        and those of partitions this worker held before."""
        return [(key, value) for key, value in table.data.items() if site_of(key) in sites]


def _wire(
    app: faust.App,
    table: Any,
    pipeline: Pipeline,
    writer: _TableWriter,
    holding: _Holding,
    metrics: CollectorRegistry,
) -> None:
    dead_letter = app.topic(
        holding.topics.dead_letter, key_type=bytes, value_type=bytes, value_serializer="raw"
    )

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]  # mode's stub wants a sync def
    async def _assigned(_sender: Any, assigned: set[TP], **__: Any) -> None:
        # A site that moved to another worker leaves this one's /metrics now, not when the
        # recovery of the partitions that moved here ends.
        sites = holding.sites(assigned)
        pipeline.keep_only(sites)
        writer.forget_all_but(sites)

    @app.on_rebalance_complete.connect  # type: ignore[arg-type]  # mode's stub wants a sync def
    async def _recovered(_sender: Any, *_: Any, **__: Any) -> None:
        await writer.confirm()  # RocksDB: what is on its way belongs in the state read now
        sites = holding.now()
        entries = holding.entries(table, sites)
        pipeline.recover(entries, sites)
        await writer.drain()
        log.info(
            "flow state recovered from the changelog",
            extra={"entries": len(entries), "sites": sorted(sites)},
        )

    for stream in Stream:
        _add_agent(app, stream, holding.topics, pipeline, writer, dead_letter)

    exposition = Exposition(metrics)

    @app.task  # type: ignore[untyped-decorator]  # Faust's task decorator has no types
    async def _watch_recovery() -> None:
        watch = RecoveryWatch()
        while True:
            await asyncio.sleep(STALL_CHECK_SECONDS)
            remaining = _still_to_read(app)
            if watch.stalled(remaining, time.monotonic()):
                _exit(
                    EXIT_RECOVERY_STALLED,
                    "changelog recovery stopped reading: exiting to be restarted",
                    changelog_remaining=remaining,
                    seconds_without_reading=watch.patience,
                )

    @app.page("/metrics")
    async def _metrics(web: Any, _request: Any) -> Any:
        return web.bytes(exposition.body(), content_type=CONTENT_TYPE_LATEST.split(";")[0])

    @app.page("/health")
    async def _health(web: Any, _request: Any) -> Any:
        body = health(app, pipeline)
        return web.json(body, status=200 if body["status"] == "ready" else 503)


def _still_to_read(app: faust.App) -> int | None:
    """Changelog messages the recovery still has to read; None when it is not recovering."""
    if not (app.rebalancing or app.in_recovery):
        return None
    remaining = cast(Any, app.tables).recovery.active_remaining()
    return sum(max(0, int(left)) for left in remaining.values())


def health(app: faust.App, pipeline: Pipeline) -> dict[str, Any]:
    """`ready` once the worker serves exact numbers: its table recovered for the partitions it
    holds now. While it recovers, the changelog messages still to read, per partition."""
    if pipeline.ready and not (app.rebalancing or app.in_recovery):
        return {"status": "ready"}
    remaining = {
        f"{tp.topic}/{tp.partition}": left
        for tp, left in sorted(cast(Any, app.tables).recovery.active_remaining().items())
        if left > 0
    }
    return {"status": "recovering", "changelog_remaining": remaining}


def source_topic(app: faust.App, topics: Topics, feed: Stream) -> Any:
    """A stream's topic as the agents read it: raw bytes, decoded by the contract, not Faust."""
    return app.topic(
        topics.of(feed),
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=topics.partitions,
    )


def _add_agent(
    app: faust.App,
    feed: Stream,
    topics: Topics,
    pipeline: Pipeline,
    writer: _TableWriter,
    dead_letter: Any,
) -> None:
    source = source_topic(app, topics, feed)

    async def consume(stream: Any) -> None:
        # In batches, for Faust's sake: each event's changes are queued as it is applied, and
        # the batch's go to the producer before Faust may commit its offsets (it commits only
        # acked events, and a batch is acked when the next one is asked for).
        async for batch in stream.take_events(BATCH_MAX, within=BATCH_WITHIN_SECONDS):
            try:
                refusals = [(event, _handled(pipeline, event, feed)) for event in batch]
                pipeline.flush()  # the latest event times, once a batch
                await writer.drain()
                for event, refused in refusals:
                    if refused is not None:
                        await _dead_letter(dead_letter, event, refused)
            except Exception as error:
                # Faust would restart the agent with this batch acked: its events skipped.
                halt(f"the {feed.value} agent failed", error)

    app.agent(source, name=f"uecflow.{feed.value}", concurrency=1)(consume)


def _handled(pipeline: Pipeline, event: EventT[bytes], feed: Stream) -> Refused | None:
    refused = pipeline.handle(event.value, feed, key=event.key)
    pipeline.flush(latest=False)  # one event's changes at a time: see streams.worker.changelog
    return refused


async def _dead_letter(topic: Any, event: EventT[bytes], refused: Refused) -> None:
    message = event.message
    value = message.value or b""
    headers = {
        "uecflow-reason": refused.reason.encode(),
        "uecflow-field": (refused.field or "").encode(),
        "uecflow-source": f"{message.topic}/{message.partition}/{message.offset}".encode(),
        "uecflow-size": str(len(value)).encode(),
    }
    if len(value) > DEAD_LETTER_MAX_BYTES:
        headers["uecflow-truncated"] = str(DEAD_LETTER_MAX_BYTES).encode()
        value = value[:DEAD_LETTER_MAX_BYTES]
    try:
        # Awaited to delivery: the offset of a refused message is committed only once its dead
        # letter is on the topic.
        await (await topic.send(key=message.key, value=value, headers=headers))
    except Exception as error:
        halt("dead letter could not be written", error, topic=message.topic,
             partition=message.partition, offset=message.offset)  # fmt: skip
    # The field, not the reason: a reason may quote what the sender wrote.
    log.warning(
        "dead letter",
        extra={
            "topic": message.topic,
            "partition": message.partition,
            "offset": message.offset,
            "kind": refused.kind,
            "field": refused.field or "the whole message",
        },
    )


def halt(what: str, error: BaseException, **where: object) -> NoReturn:
    """Exit at once, committing nothing more (see EXIT_WRITE_LOST); the restart re-reads."""
    _exit(
        EXIT_WRITE_LOST,
        f"{what}: stopping before any offset past it is committed",
        **where,
        error=type(error).__name__,
    )


def _exit(code: int, message: str, **fields: object) -> NoReturn:
    # os._exit, not sys.exit: Faust's graceful stop would commit the offsets in flight.
    log.critical(message, extra={**fields, "exit_code": code})
    logging.shutdown()
    os._exit(code)


def run_worker(settings: WorkerSettings, registry: Registry, logging_config: dict[str, Any]) -> int:
    """Create the topics, then run until SIGTERM or SIGINT (Faust commits and stops cleanly)."""
    ensure_topics(settings.bootstrap, settings.topics)
    app, _ = build_app(settings, registry)
    worker = faust.Worker(
        app,
        loglevel=logging_config["root"]["level"],
        logging_config=logging_config,
        redirect_stdouts=False,
        quiet=True,
    )
    worker.execute_from_commandline()
    return 0
