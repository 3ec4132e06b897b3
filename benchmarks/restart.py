"""How long a stopped worker takes to be ready again, against the size of its changelog, with
the memory store and with RocksDB.

Run: .venv/bin/python -m benchmarks.restart [--events 20000 60000] [--runs 2]

For each size: a fresh worker on fresh topics counts that many clean generated events, is
stopped with SIGTERM, and is started again; the figure is the time from the start to `/health`
ready (the state recovered, exact). The memory store reads the whole changelog back at every
start; RocksDB keeps what the changelog had when it stopped and reads only what came after, so
its restart should not grow with the changelog. Figures go to stdout as Markdown.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from streams.topics import Topics
from streams.worker.app import TABLE
from tools.harness import Broker, Worker, consumer_lag, end_offsets, produce, wait_for
from uecflow.config import load_registry

from .worker_latency import backlog_lines, load_average, machine

STORES = ("memory", "rocksdb")


def restart_seconds(
    broker: Broker, lines: list[str], store: str, folder: Path
) -> tuple[float, int]:
    """Seconds from a restart to ready, and the changelog's size in messages when stopped."""
    topics = Topics(prefix=f"r{uuid.uuid4().hex[:10]}", partitions=12)
    worker = Worker(broker.bootstrap, topics, folder / f"{topics.prefix}.log", store=store)
    worker.start()
    try:
        produce(broker.bootstrap, topics, lines)
        wait_for(lambda: consumer_lag(broker.bootstrap, topics) == 0, "the backlog", 600, 1.0)
        worker.stop(signal.SIGTERM)
        size = _changelog_size(broker, topics)
        started = time.monotonic()
        worker.start()  # returns once /health says ready
        return time.monotonic() - started, size
    finally:
        worker.stop()


def _changelog_size(broker: Broker, topics: Topics) -> int:
    changelog = f"{topics.prefix}-worker-{TABLE}-changelog"
    return sum(end_offsets(broker.bootstrap, changelog, topics.partitions).values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, nargs="+", default=[20_000, 60_000])
    parser.add_argument("--runs", type=int, default=2, help="of each store and size")
    args = parser.parse_args()
    registry = load_registry(None)
    results: dict[tuple[str, int], list[tuple[float, int]]] = {}
    loads = []
    with tempfile.TemporaryDirectory(prefix="uecflow-restart-") as folder:
        broker = Broker(Path(folder) / "kafka")
        broker.start()
        try:
            for events in args.events:
                lines = backlog_lines(events, registry)
                for _ in range(args.runs):
                    for store in STORES:
                        loads.append(load_average())
                        timed = restart_seconds(broker, lines, store, Path(folder))
                        results.setdefault((store, events), []).append(timed)
        finally:
            broker.stop()
    print(f"machine: {machine()}")
    print(f"{args.runs} runs of each, medians; load average {statistics.median(loads):.1f}\n")
    print("| store | events counted | changelog messages | restart to ready |")
    print("|---|---:|---:|---:|")
    for (store, events), measured in results.items():
        seconds = statistics.median(m[0] for m in measured)
        size = statistics.median(m[1] for m in measured)
        print(f"| {store} | {events:,} | {size:,.0f} | {seconds:.1f} s |")


if __name__ == "__main__":
    main()
