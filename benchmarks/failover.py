"""How long the group takes to show every site again, exactly, after a worker is SIGKILLed,
with the memory store and with RocksDB, with and without a standby replica of the table.

Run: .venv/bin/python -m benchmarks.failover [--events 20000] [--runs 2]

Each run: two workers on fresh topics count a clean backlog; the one holding more sites is
killed with SIGKILL; the figure is the time from the kill until the survivor is ready and shows
every site; then its /metrics is compared once with `uecflow replay` as of its scrape. The group
notices a dead member after the session timeout (10 s, `broker_session_timeout`); the rest is
the survivor's recovery of the partitions it takes over: their whole changelog with the memory
store, only what its standby copy had not yet read with RocksDB. Figures go to stdout.
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
from tools.harness import (
    Broker,
    Worker,
    consumer_lag,
    produce,
    replay_document,
    scrape_as_of,
    site_differences,
    wait_for,
)
from uecflow.config import load_registry

from .worker_latency import backlog_lines, load_average, machine

CONFIGURATIONS = (("memory", 0), ("rocksdb", 0), ("rocksdb", 1))
CENSUS = "uecflow_ae_in_department"  # every site a worker holds has a series of it


def sites_of(worker: Worker) -> set[str]:
    return {dict(labels)["site"] for (name, labels) in worker.scrape() if name == CENSUS}


def failover(
    broker: Broker, lines: list[str], store: str, standbys: int, folder: Path, sites: int
) -> tuple[float, int]:
    """Seconds from the SIGKILL until the survivor shows every site; its differing figures."""
    topics = Topics(prefix=f"f{uuid.uuid4().hex[:10]}", partitions=12)
    workers = []
    for name in ("a", "b"):  # the data directory is named after the log's folder
        (folder / topics.prefix / name).mkdir(parents=True)
        log = folder / topics.prefix / name / "worker.log"
        workers.append(
            Worker(broker.bootstrap, topics, log, store=store, standby_replicas=standbys)
        )
    for worker in workers:
        worker.start()
    try:
        produce(broker.bootstrap, topics, lines)
        wait_for(lambda: consumer_lag(broker.bootstrap, topics) == 0, "the backlog", 600, 1.0)
        wait_for(lambda: sum(len(sites_of(w)) for w in workers) == sites, "each site held", 120)
        victim, survivor = sorted(workers, key=lambda w: len(sites_of(w)), reverse=True)
        killed = time.monotonic()
        victim.stop(signal.SIGKILL)
        wait_for(
            lambda: survivor.healthy() and len(sites_of(survivor)) == sites,
            "the survivor to show every site", 600, 0.1,
        )  # fmt: skip
        seconds = time.monotonic() - killed
        samples = survivor.scrape()
        document = replay_document(lines, scrape_as_of(samples))
        return seconds, len(site_differences(samples, document))
    finally:
        for worker in workers:
            worker.stop(signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=2, help="of each configuration")
    args = parser.parse_args()
    registry = load_registry(None)
    lines = backlog_lines(args.events, registry)
    results: dict[tuple[str, int], list[tuple[float, int]]] = {}
    loads = []
    with tempfile.TemporaryDirectory(prefix="uecflow-failover-") as folder:
        broker = Broker(Path(folder) / "kafka")
        broker.start()
        try:
            for _ in range(args.runs):
                for store, standbys in CONFIGURATIONS:
                    loads.append(load_average())
                    timed = failover(
                        broker, lines, store, standbys, Path(folder), len(registry.sites)
                    )
                    results.setdefault((store, standbys), []).append(timed)
        finally:
            broker.stop()
    print(f"machine: {machine()}")
    print(f"{args.events:,} events, {args.runs} runs of each; load average"
          f" {statistics.median(loads):.1f}\n")  # fmt: skip
    print("| store | standby replicas | SIGKILL to every site shown again | figures differing |")
    print("|---|---:|---:|---:|")
    for (store, standbys), measured in results.items():
        times = ", ".join(f"{m[0]:.1f} s" for m in measured)
        print(f"| {store} | {standbys} | {times} | {sum(m[1] for m in measured)} |")


if __name__ == "__main__":
    main()
