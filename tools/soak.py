"""Soak: kill and restart a worker many times under a running producer; after each restart the
numbers must equal `uecflow replay` of everything Kafka acknowledged so far.

    .venv/bin/python -m tools.soak --restarts 50 --seed 1 [--store rocksdb] [--signal mixed]

Each round lets the producer run for a random moment, SIGKILLs the worker mid-stream (SIGTERM
with --signal term; half of each with --signal mixed), restarts it, pauses the producer, waits
for the consumer group's lag to reach 0 (a round that does not within --stall-after seconds is a
stall) and compares every site's every metric on /metrics with the replay. It starts its own
broker on a free port and stops everything it started, by PID. Prints the figures as Markdown;
exits 1 if any round stalled or differed.
"""

from __future__ import annotations

import argparse
import math
import random
import signal
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from producers.simulator.sample import generate
from streams.topics import Topics
from tools.harness import (
    Broker,
    Worker,
    consumer_lag,
    produce,
    replay_document,
    scrape_as_of,
    shifted,
    site_differences,
)
from uecflow.config import load_registry


class Producer(threading.Thread):
    """Sends the lines in order at a steady rate; `pause()` waits until nothing is in flight."""

    def __init__(self, bootstrap: str, topics: Topics, lines: list[str], rate: float) -> None:
        super().__init__(daemon=True)
        self._servers, self._topics, self._lines, self._rate = bootstrap, topics, lines, rate
        self._running = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._stopped = False
        self.sent = 0  # lines Kafka acknowledged, a prefix of `lines`

    def run(self) -> None:
        try:
            self._send()
        finally:
            self._idle.set()  # whatever failed, pause() must not wait for ever

    def _send(self) -> None:
        batch = max(1, int(self._rate / 10))
        while not self._stopped and self.sent < len(self._lines):
            self._running.wait()
            if self._stopped:
                break
            self._idle.clear()
            chunk = self._lines[self.sent : self.sent + batch]
            acknowledged = produce(self._servers, self._topics, chunk)
            if acknowledged != len(chunk):
                raise RuntimeError(f"Kafka acknowledged {acknowledged} of {len(chunk)} lines")
            self.sent += len(chunk)
            self._idle.set()
            time.sleep(len(chunk) / self._rate)

    def resume(self) -> None:
        self._running.set()

    def pause(self) -> None:
        self._running.clear()
        self._idle.wait()

    def stop(self) -> None:
        self._stopped = True
        self._running.set()


@dataclass
class Figures:
    catch_ups: list[float] = field(default_factory=list)
    stalls: int = 0
    differing: list[str] = field(default_factory=list)


def main(argv: list[str] | None = None) -> int:
    args = _arguments().parse_args(argv)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="uecflow-soak-") as folder:
        broker = Broker(Path(folder) / "kafka")
        broker.start()
        try:
            figures = _soak(args, rng, broker, Path(folder))
        finally:
            broker.stop()
    _print(args, figures)
    return 1 if figures.stalls or figures.differing else 0


def _soak(args: argparse.Namespace, rng: random.Random, broker: Broker, folder: Path) -> Figures:
    topics = Topics(prefix=f"soak{args.seed}", partitions=args.partitions)
    lines = _events(args.days, args.seed)
    worker = Worker(broker.bootstrap, topics, folder / "worker.log", store=args.store)
    producer = Producer(broker.bootstrap, topics, lines, args.rate)
    figures = Figures()
    try:
        worker.start()
        producer.start()
        for round_number in range(1, args.restarts + 1):
            producer.resume()
            time.sleep(rng.uniform(0.2, args.max_gap))
            how = _signal(args.signal, rng)
            worker.stop(how)
            started = time.monotonic()
            caught_up = _restart(worker, producer, broker, topics, args.stall_after)
            if caught_up is None:
                figures.stalls += 1
                print(f"round {round_number}: stalled; worker log:\n{worker.log_tail()}")
                worker.stop(signal.SIGKILL)
                worker.start()
                continue
            figures.catch_ups.append(caught_up - started)
            samples = worker.scrape()
            document = replay_document(lines[: producer.sent], scrape_as_of(samples))
            differences = site_differences(samples, document)
            if differences:
                figures.differing.append(f"round {round_number}: " + "; ".join(differences[:5]))
            print(
                f"round {round_number}: {how.name}, {producer.sent:,} lines sent, caught up in"
                f" {caught_up - started:.1f} s, {len(differences)} differences",
                flush=True,
            )
    finally:
        producer.pause()  # nothing left in flight when the broker stops
        producer.stop()
        producer.join(timeout=60)
        if worker.process is not None:
            worker.stop(signal.SIGKILL)
    return figures


def _restart(
    worker: Worker, producer: Producer, broker: Broker, topics: Topics, limit: float
) -> float | None:
    """When the restarted worker had caught up, or None if it did not within `limit`."""
    try:
        worker.start()
    except TimeoutError:
        return None
    finally:
        producer.pause()
    return _wait_for_lag_zero(broker, topics, limit)


def _events(days: int, seed: int) -> list[str]:
    registry = load_registry(None)
    start = date.today() - timedelta(days=days + 1)
    lines = list(generate(start=start, days=days, seed=seed, registry=registry))
    # Moved so that the stream ends about now: the live clock then sees today's figures.
    return list(shifted(lines, timedelta(days=1)))


def _signal(choice: str, rng: random.Random) -> signal.Signals:
    if choice == "mixed":
        return rng.choice([signal.SIGKILL, signal.SIGTERM])
    return signal.SIGTERM if choice == "term" else signal.SIGKILL


def _wait_for_lag_zero(broker: Broker, topics: Topics, limit: float) -> float | None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if consumer_lag(broker.bootstrap, topics) == 0:
            return time.monotonic()
        time.sleep(0.2)
    return None


def _print(args: argparse.Namespace, figures: Figures) -> None:
    catch_ups = figures.catch_ups or [math.nan]
    rows: list[tuple[str, Any]] = [
        ("restarts", args.restarts),
        ("signal", args.signal),
        ("store", args.store),
        (f"stalls (no lag 0 within {args.stall_after:g} s)", figures.stalls),
        ("rounds whose metrics differed from replay", len(figures.differing)),
        ("catch-up after restart, median", f"{statistics.median(catch_ups):.1f} s"),
        ("catch-up after restart, longest", f"{max(catch_ups):.1f} s"),
    ]
    print("\n| soak | result |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    for line in figures.differing:
        print(line, file=sys.stderr)


def _arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.soak", description=__doc__)
    parser.add_argument("--restarts", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--days", type=int, default=5, help="days of simulated events to send")
    parser.add_argument("--rate", type=float, default=500.0, help="events a second")
    parser.add_argument("--partitions", type=int, default=12)
    parser.add_argument("--max-gap", type=float, default=8.0, help="longest run between kills")
    parser.add_argument("--stall-after", type=float, default=180.0)
    parser.add_argument("--signal", choices=["kill", "term", "mixed"], default="kill")
    parser.add_argument("--store", choices=["memory", "rocksdb"], default="memory")
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
