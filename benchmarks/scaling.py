"""The worker against Faust's own floor, and the pipeline with one and two worker processes.

Run: .venv/bin/python -m benchmarks.scaling [--events 60000] [--runs 2]

All in one run, on one local broker, on the same generated backlog (several NEL days of clean
events in 3 topics of 12 partitions keyed by site), each consumed from the start by a fresh
consumer group:

- floor: Faust agents that only count (`benchmarks.faust_ceiling`, `take_events` as the worker
  reads): CPU per event of their process;
- one `uecflow worker`, then two in one consumer group: events/s over all of them from the
  moment the group has settled until the last event is counted, CPU per event, and the
  scaling factor of two against one.

The goal is the worker's CPU per event at most 1.5 times the floor's. The estimate for a larger
machine divides its cores by the CPU one event costs with two workers here (both workers plus
the broker: what scaling out costs, not what one worker costs), capped by six busy workers at
one worker's rate (the partitions are keyed by site, and NEL has six sites). Figures go to stdout as
Markdown.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from streams.topics import Topics, ensure_topics
from tools.harness import Broker, Worker, produce, wait_for
from uecflow.config import load_registry

from .faust_ceiling import run_once
from .worker_latency import (
    MetricsClient,
    backlog_lines,
    broker_pid,
    counted,
    cpu_seconds,
    exposition_cpu,
    load_average,
    machine,
)

BUSY_WORKERS_MAX = 6  # one site's events all go to one partition, so to one worker


@dataclass(frozen=True, slots=True)
class Run:
    events: int
    seconds: float
    worker_cpu: float  # seconds, over every worker process
    exposition_cpu: float  # of which rendering /metrics for this benchmark's polls
    broker_cpu: float
    load: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds

    def per_event(self, cpu: float) -> float:
        return cpu / self.events

    @property
    def events_cpu(self) -> float:
        """The workers' CPU for the events themselves: all of it but the /metrics renders."""
        return self.worker_cpu - self.exposition_cpu


def pipeline(broker: Broker, lines: list[str], workers: int, directory: Path) -> Run:
    """`workers` processes in one group drain a backlog produced before they start; timed from
    the moment the group has settled with all of them (the events counted before then, while
    the first worker had the topics to itself, are left out)."""
    topics = Topics(prefix=f"scale{workers}x{uuid.uuid4().hex[:8]}", partitions=12)
    ensure_topics(broker.bootstrap, topics)
    if produce(broker.bootstrap, topics, lines) != len(lines):
        raise RuntimeError("Kafka did not acknowledge every event")
    started = [Worker(broker.bootstrap, topics, directory / f"{topics.prefix}-{n}.log") for n in
               range(workers)]  # fmt: skip
    clients: list[MetricsClient] = []
    try:
        for worker in started:
            worker.start()
        wait_for(
            lambda: _group_settled(broker.bootstrap, f"{topics.prefix}-worker", workers),
            f"{workers} workers to settle in one group",
            120,
        )
        clients = [MetricsClient(worker.port) for worker in started]
        load = load_average()
        pids = [worker.process.pid for worker in started if worker.process is not None]
        cpu0, kafka0 = sum(map(cpu_seconds, pids)), cpu_seconds(broker_pid(broker))
        began, (before, rendered0) = time.perf_counter(), _scrape(clients)
        last: list[tuple[int, float]] = []

        def done() -> bool:
            last[:] = [_scrape(clients)]
            return last[0][0] >= len(lines)

        wait_for(done, "every event to be counted", 600)
        return Run(
            events=len(lines) - before,
            seconds=time.perf_counter() - began,
            worker_cpu=sum(map(cpu_seconds, pids)) - cpu0,
            exposition_cpu=last[0][1] - rendered0,
            broker_cpu=cpu_seconds(broker_pid(broker)) - kafka0,
            load=load,
        )
    finally:
        for client in clients:
            client.close()
        for worker in started:
            worker.stop()


def _scrape(clients: list[MetricsClient]) -> tuple[int, float]:
    """Events counted and CPU seconds spent rendering /metrics, over every worker."""
    texts = [client.get()[0] for client in clients]
    return sum(counted(text)[0] for text in texts), sum(map(exposition_cpu, texts))


def _group_settled(bootstrap: str, group: str, members: int) -> bool:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        described = admin.describe_groups([group])
    except KafkaError:
        return False
    finally:
        admin.close()
    state = described.get(group, {})
    return bool(state.get("group_state") == "Stable" and len(state.get("members", ())) == members)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=60_000)
    parser.add_argument("--runs", type=int, default=2, help="of each configuration")
    args = parser.parse_args()
    lines = backlog_lines(args.events, load_registry(None))
    floors: list[float] = []
    runs: dict[int, list[Run]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory(prefix="uecflow-scaling-") as folder:
        directory = Path(folder)
        broker = Broker(directory / "kafka")
        broker.start()
        try:
            for _ in range(args.runs):
                floor = run_once(broker, lines, "take_events", directory)
                floors.append(floor["cpu"] / floor["events"])
                for workers in runs:
                    runs[workers].append(pipeline(broker, lines, workers, directory))
        finally:
            broker.stop()
    _report(args, floors, runs)


def _report(args: argparse.Namespace, floors: list[float], runs: dict[int, list[Run]]) -> None:
    one, two = (statistics.median(run.rate for run in runs[n]) for n in (1, 2))
    # What a scaled-out deployment pays per event: the CPU of two workers (standbys, recovery
    # after the rebalance and all), plus the broker's.
    scaled_cpu = statistics.median(run.per_event(run.worker_cpu + run.broker_cpu) for run in
                                   runs[2])  # fmt: skip
    # Each round's worker against that round's floor: this machine's speed drifts by a third
    # over minutes (the floor has measured 96-153 µs), so only a ratio within a round is fair.
    # The floor serves no /metrics; the worker renders it for each of this benchmark's polls
    # (5 a second, reused up to 0.5 s), which Prometheus's 15 s scrape makes next to nothing:
    # that render time is left out of the comparison, and shown.
    paired = [
        run.per_event(run.events_cpu) / floor for run, floor in zip(runs[1], floors, strict=True)
    ]
    print(f"machine: {machine()}")
    print(f"{args.events:,} events a run, {args.runs} runs of each, medians\n")
    print(
        "| | events timed | events/s | worker CPU per event | of which /metrics renders"
        " | broker CPU per event | load |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for workers, measured in runs.items():
        for run in measured:
            print(
                f"| {workers} worker{'s' if workers > 1 else ''} | {run.events:,} "
                f"| {run.rate:,.0f} "
                f"| {run.per_event(run.worker_cpu) * 1e6:.0f} µs "
                f"| {run.per_event(run.exposition_cpu) * 1e6:.0f} µs "
                f"| {run.per_event(run.broker_cpu) * 1e6:.0f} µs | {run.load:.1f} |"
            )
    print()
    each = ", ".join(f"{f * 1e6:.0f}" for f in floors)
    print(f"- floor (Faust agents that only count): {each} µs CPU per event")
    print(
        "- worker (without its /metrics renders) / floor, round by round:"
        f" {', '.join(f'{r:.2f}' for r in paired)};"
        f" median {statistics.median(paired):.2f} (goal: at most 1.50)"
    )
    print(f"- scaling, two workers against one: {two / one:.2f}x")
    for cores in (2, 4, 8, 16):
        estimate = min(cores / scaled_cpu, BUSY_WORKERS_MAX * one)
        print(f"- estimate on {cores} cores: {estimate:,.0f} events/s")


if __name__ == "__main__":
    main()
