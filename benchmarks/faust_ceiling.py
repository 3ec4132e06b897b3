"""The ceiling of Faust on this machine: events/s through agents that do no work at all.

Run: .venv/bin/python -m benchmarks.faust_ceiling [--events 60000] [--runs 3]

The same shape as `uecflow worker`: one agent per topic (concurrency 1), the three source
topics with 12 partitions each keyed by site, the same generated events, consumed from the
start by a fresh consumer group. The agents only count: what is left is Faust's consume path
(aiokafka fetch in Faust's consumer thread, the hand-over to the app's loop, the stream and its
acks, the offset commits). Two ways of reading the stream are timed:

- `take_events`: `stream.take_events(1000, 0.05)`, as the worker reads it;
- `each`: `async for event in stream.events()`, one event at a time.

The clock runs in the agents' process from its first event to its last, so process start and
the consumer group's join are left out. Figures go to stdout as Markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import faust

from streams.core.intake import Stream
from streams.topics import Topics, ensure_topics
from streams.worker.app import source_topic
from tools.harness import ROOT, Broker, produce
from uecflow.config import load_registry

from .worker_latency import backlog_lines, cpu_seconds, load_average, machine

MODES = ("take_events", "each")


# ---------------------------------------------------------------------------------- the agents


def serve(bootstrap: str, topics: Topics, events: int, mode: str) -> None:
    """Run a Faust worker whose agents count events; print the timing when all are counted."""
    app = faust.App(
        f"{topics.prefix}-ceiling",
        broker=f"kafka://{bootstrap}",
        store="memory://",
        topic_partitions=topics.partitions,
        topic_replication_factor=1,
        consumer_auto_offset_reset="earliest",
        web_enabled=False,
        autodiscover=False,
    )
    counted = 0
    began = 0.0
    cpu = 0.0

    def count(number: int) -> None:
        nonlocal counted, began, cpu
        if not counted:
            began, cpu = time.perf_counter(), time.process_time()
        counted += number
        if counted >= events:
            seconds = time.perf_counter() - began
            report = {"events": counted, "seconds": seconds, "cpu": time.process_time() - cpu}
            print(json.dumps(report), flush=True)
            os.kill(os.getpid(), signal.SIGTERM)

    for stream in Stream:
        source = source_topic(app, topics, stream)
        app.agent(source, name=f"ceiling.{stream.value}", concurrency=1)(_agent(mode, count))
    worker = faust.Worker(app, loglevel="warning", redirect_stdouts=False, quiet=True)
    worker.execute_from_commandline()


def _agent(mode: str, count: Callable[[int], None]) -> Callable[[Any], Awaitable[None]]:
    async def batches(stream: Any) -> None:
        async for batch in stream.take_events(1000, within=0.05):
            count(len(batch))

    async def each(stream: Any) -> None:
        async for _event in stream.events():
            count(1)

    return batches if mode == "take_events" else each


# ---------------------------------------------------------------------------------- the runs


def run_once(broker: Broker, lines: list[str], mode: str, directory: Path) -> dict[str, float]:
    topics = Topics(prefix=f"ceiling{uuid.uuid4().hex[:8]}", partitions=12)
    ensure_topics(broker.bootstrap, topics)
    if produce(broker.bootstrap, topics, lines) != len(lines):
        raise RuntimeError("Kafka did not acknowledge every event")
    kafka = int((broker.directory / "kafka.pid").read_text())
    kafka0, load = cpu_seconds(kafka), load_average()
    log = directory / f"{topics.prefix}.log"
    command = [
        sys.executable, "-m", "benchmarks.faust_ceiling", "--serve",
        "--bootstrap", broker.bootstrap, "--prefix", topics.prefix,
        "--events", str(len(lines)), "--mode", mode,
    ]  # fmt: skip
    with log.open("wb") as errors:
        # Faust leaves its data directory in the working directory: the temporary one, then.
        done = subprocess.run(
            command, stdout=subprocess.PIPE, stderr=errors, timeout=300, cwd=directory,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
    # Faust's worker writes terminal escapes to stdout ahead of the report's line.
    out = done.stdout.decode()
    if '{"events"' not in out:
        raise RuntimeError(f"no result from the agents: {log.read_text()[-2000:]}")
    result: dict[str, float] = json.loads(out[out.rindex('{"events"') :].splitlines()[0])
    return {**result, "broker_cpu": cpu_seconds(kafka) - kafka0, "load": load}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=60_000)
    parser.add_argument("--runs", type=int, default=3, help="of each mode, alternating")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--bootstrap", help=argparse.SUPPRESS)
    parser.add_argument("--prefix", help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=MODES, default="take_events", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.bootstrap, Topics(prefix=args.prefix, partitions=12), args.events, args.mode)
        return
    lines = backlog_lines(args.events, load_registry(None))
    results: list[tuple[str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory(prefix="uecflow-ceiling-") as directory:
        broker = Broker(Path(directory) / "kafka")
        broker.start()
        try:
            for _ in range(args.runs):
                for mode in MODES:
                    results.append((mode, run_once(broker, lines, mode, Path(directory))))
        finally:
            broker.stop()
    print(f"machine: {machine()}")
    print(f"Faust {faust.__version__}, agents that only count, {args.events:,} events a run\n")
    print("| agents read | events/s | CPU per event (their process) | broker CPU | load |")
    print("|---|---:|---:|---:|---:|")
    for mode, result in results:
        print(
            f"| {mode} | {result['events'] / result['seconds']:,.0f} "
            f"| {result['cpu'] / result['events'] * 1e6:.0f} µs "
            f"| {result['broker_cpu']:.1f} s | {result['load']:.1f} |"
        )


if __name__ == "__main__":
    main()
