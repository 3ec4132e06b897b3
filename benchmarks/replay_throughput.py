"""Replay throughput: parsing and validation, the flow core alone, and `uecflow replay` end to end.

Run: .venv/bin/python -m benchmarks.replay_throughput [--events 1000000]
The event file (realistic NEL days from the seeded sample generator) is made once and cached
under benchmarks/data/. Figures go to stdout as a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from datetime import date, timedelta
from itertools import islice
from pathlib import Path

from events import Event, EventParser, InvalidEvent
from producers.simulator.sample import generate
from streams.core.flow import FlowState
from uecflow.cli import tune_gc_for_bulk_load
from uecflow.config import load_registry

DATA = Path(__file__).resolve().parent / "data"


def event_file(count: int) -> Path:
    path = DATA / f"events-{count}.jsonl"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        days = count // 5_000 + 2
        lines = generate(start=date(2025, 1, 1), days=days, seed=11, registry=load_registry())
        partial = path.with_suffix(".partial")
        with partial.open("w", encoding="utf-8") as out:
            for line in islice(lines, count):
                out.write(line + "\n")
        partial.rename(path)
    return path


def timed(work: Callable[[], object]) -> float:
    start = time.process_time()
    work()
    return time.process_time() - start


def parse_all(parser: EventParser, lines: list[bytes]) -> list[Event]:
    events = []
    for line in lines:
        with suppress(InvalidEvent):
            events.append(parser.parse(line))
    return events


def apply_all(events: list[Event], horizon: timedelta | None) -> FlowState:
    state = FlowState(load_registry(), horizon=horizon)
    for event in events:
        state.apply(event)
    return state


def end_to_end(path: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "uecflow", "replay", str(path), "--json"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of N for each figure")
    args = parser.parse_args()
    path = event_file(args.events)
    lines = path.read_bytes().splitlines()
    contract = EventParser(load_registry())
    tune_gc_for_bulk_load()  # as the replay command does
    events = parse_all(contract, lines)
    rows = [
        (
            "parse and validate (pydantic contract)",
            len(lines),
            min(timed(lambda: parse_all(contract, lines)) for _ in range(args.repeat)),
        ),
        (
            "flow core, no horizon (replay)",
            len(events),
            min(timed(lambda: apply_all(events, None)) for _ in range(args.repeat)),
        ),
        (
            "flow core, 48 h horizon (live)",
            len(events),
            min(timed(lambda: apply_all(events, timedelta(hours=48))) for _ in range(args.repeat)),
        ),
    ]
    bounded = apply_all(events, timedelta(hours=48))
    wall = min(end_to_end(path) for _ in range(args.repeat))
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; file: {path.name} ({path.stat().st_size >> 20} MiB)"
    )
    print("| stage | events | CPU seconds | events/s |")
    print("|---|---:|---:|---:|")
    for name, count, seconds in rows:
        print(f"| {name} | {count:,} | {seconds:.2f} | {count / seconds:,.0f} |")
    print(
        f"| `uecflow replay --json` end to end (wall) | {len(lines):,} | {wall:.2f} | "
        f"{len(lines) / wall:,.0f} |"
    )
    print(
        f"records kept with the 48 h horizon: {len(bounded.stores.attendances):,} attendances, "
        f"{len(bounded.stores.handovers):,} handovers, {len(bounded.stores.seen):,} event ids, "
        f"{len(bounded.stores.days):,} site-days"
    )


if __name__ == "__main__":
    main()
