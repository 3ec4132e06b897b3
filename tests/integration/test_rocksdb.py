"""The store a deployment uses (RocksDB, `--store rocksdb`), on a real broker: a crash or a
restart ends with the numbers of `uecflow replay`, and a restart reads only the changelog
written since the last commit, not all of it."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from rocksdict import AccessType, Rdict

from streams.topics import Topics
from streams.worker.app import TABLE
from tests.integration.live_metrics import (
    assert_same_metrics,
    killed_mid_stream_and_restarted,
    scrape_when_lag_is_zero,
)
from tools.harness import (
    Broker,
    Worker,
    consumer_lag,
    end_offsets,
    produce,
    replay_document,
    scrape_as_of,
    wait_for,
)

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
PERSISTED_OFFSET = b"__faust\0offset__"  # Faust's key for it in each partition's database


@pytest.fixture
def rocksdb_worker(broker: Broker, topics: Topics, run_dir: Path) -> Iterator[Worker]:
    worker = Worker(broker.bootstrap, topics, run_dir / f"{topics.prefix}.log", store="rocksdb")
    worker.start()
    yield worker
    worker.stop()


def test_a_rocksdb_worker_killed_mid_stream_recovers_without_losing_or_double_counting(
    broker: Broker, topics: Topics, rocksdb_worker: Worker, nel_events: list[str]
) -> None:
    samples = killed_mid_stream_and_restarted(rocksdb_worker, broker, topics, nel_events)
    assert_same_metrics(samples, replay_document(nel_events, scrape_as_of(samples)))


def test_a_stopped_rocksdb_worker_has_kept_the_whole_changelog_and_restarts_exact(
    broker: Broker, topics: Topics, rocksdb_worker: Worker, nel_events: list[str]
) -> None:
    produce(broker.bootstrap, topics, nel_events)
    wait_for(lambda: consumer_lag(broker.bootstrap, topics) == 0, "the day", 120)
    assert rocksdb_worker.stop(signal.SIGTERM) == 0
    changelog = f"{topics.prefix}-worker-{TABLE}-changelog"
    ends = end_offsets(broker.bootstrap, changelog, topics.partitions)
    # Each partition's database says it holds the changelog up to its last message: the
    # restart reads none of it again.
    assert _persisted_offsets(rocksdb_worker, topics.partitions) == {
        partition: end - 1 for partition, end in ends.items() if end > 0
    }
    rocksdb_worker.start()
    samples = scrape_when_lag_is_zero(rocksdb_worker, broker, topics)
    assert_same_metrics(samples, replay_document(nel_events, scrape_as_of(samples)))


def _persisted_offsets(worker: Worker, partitions: int) -> dict[int, int]:
    found = {}
    for partition in range(partitions):
        paths = list(worker.data_dir.rglob(f"{TABLE}-{partition}.db"))
        assert len(paths) <= 1, paths
        if not paths:
            continue
        db = Rdict(str(paths[0]), access_type=AccessType.read_only())
        try:
            offset = db.get(PERSISTED_OFFSET)
        finally:
            db.close()
        if offset is not None:
            found[partition] = int(offset)
    return found
