"""The worker leans on private parts of faust-streaming and aiokafka (pinned exactly in
pyproject.toml). If an upgrade moves one, this fails here, loudly, instead of the worker
silently losing its fixes: the fetch wait, the seek after a rebalance, the commit check and
the RocksDB writes."""

from __future__ import annotations

import inspect
from importlib.metadata import version

import aiokafka
import pytest
from faust.assignor import PartitionAssignor
from faust.stores.memory import Store as MemoryStore
from faust.stores.rocksdb import Store as RocksDBStore
from faust.tables.recovery import Recovery
from faust.transport import consumer as faust_consumer
from faust.transport.drivers import aiokafka as faust_aiokafka


def test_the_versions_are_the_ones_the_worker_was_written_against() -> None:
    assert version("faust-streaming") == "0.15.3"
    assert version("aiokafka") == "0.14.0"


@pytest.mark.parametrize(
    ("owner", "name"),
    [
        (RocksDBStore, "_db_for_partition"),
        (RocksDBStore, "set_persisted_offset"),
        (faust_consumer.Consumer, "_commit_offsets"),
        (faust_consumer.Consumer, "_is_changelog_tp"),
        (faust_consumer.Consumer, "perform_seek"),
        (faust_aiokafka.AIOKafkaConsumerThread, "seek_to_committed"),
        (faust_aiokafka.AIOKafkaConsumerThread, "_ensure_consumer"),
        (faust_aiokafka.AIOKafkaConsumerThread, "_create_worker_consumer"),
        (faust_aiokafka.Consumer, "_new_consumer_thread"),
        (Recovery, "active_remaining"),
        (PartitionAssignor, "assigned_actives"),
        (aiokafka.AIOKafkaProducer, "send_batch"),
        (aiokafka.AIOKafkaProducer, "create_batch"),
    ],
)
def test_each_private_part_the_worker_uses_is_still_there(owner: type, name: str) -> None:
    assert callable(getattr(owner, name, None)), f"{owner.__qualname__}.{name} is gone"


def test_faust_still_resumes_the_source_partitions_before_it_seeks_them() -> None:
    # The order the worker's consumer corrects (streams.worker.app._Consumer): if Faust seeks
    # first one day, the correction is no longer needed and should go.
    source = inspect.getsource(Recovery.on_recovery_completed)
    assert source.index("resume_partitions") < source.index("perform_seek")


def test_aiokafka_still_leaves_partitions_without_a_commit_where_they_are() -> None:
    # What streams.worker.app._ConsumerThread seeks itself.
    source = inspect.getsource(aiokafka.AIOKafkaConsumer.seek_to_committed)
    assert "if offset and offset > 0" in source


def test_the_memory_store_still_drops_a_standbys_state_when_recovery_ends() -> None:
    # Why a standby replica is 0 by default with the memory store (WorkerSettings.standbys):
    # if Faust keeps standby state one day, a standby would pay off there too.
    source = inspect.getsource(MemoryStore.on_recovery_completed)
    assert "if p not in partitions" in source
