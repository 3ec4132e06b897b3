"""One real Kafka broker for the whole session (scripts/kafka-local), a worker per test."""

from __future__ import annotations

import json
import os
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from producers.simulator.sample import generate
from streams.topics import Topics
from tools.harness import Broker, Worker, shifted
from uecflow.config import load_registry


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder needs the broker: mark it so `-m "not kafka"` leaves it out (a
    `pytestmark` in a conftest marks nothing)."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.kafka)


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where brokers and workers keep their files: .ci/run's folder, so it can stop them all."""
    chosen = os.environ.get("UECFLOW_TEST_RUN_DIR")
    return Path(chosen) if chosen else tmp_path_factory.mktemp("run")


@pytest.fixture(scope="session")
def broker(run_dir: Path) -> Iterator[Broker]:
    broker = Broker(run_dir / "kafka")
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def topics() -> Topics:
    # Each test its own topics and consumer group on the shared broker.
    return Topics(prefix=f"t{uuid.uuid4().hex[:10]}", partitions=6)


@pytest.fixture
def worker(broker: Broker, topics: Topics, run_dir: Path) -> Iterator[Worker]:
    worker = Worker(broker.bootstrap, topics, run_dir / f"{topics.prefix}.log")
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture(scope="session")
def nel_events() -> list[str]:
    """A generated NEL day for all six sites, moved to end within the last day, shuffled, with
    re-sent duplicates and invalid lines: the live clock then sees 12-hour waits and today's
    figures."""
    registry = load_registry(None)
    lines = list(generate(start=date(2025, 11, 20), days=1, seed=11, registry=registry))
    lines += _opel_declared()
    rng = random.Random(11)
    lines += rng.sample(lines, 150)  # re-sent: the same event_id again
    rng.shuffle(lines)
    last = max(_occurred_at(line) for line in lines)
    # Whole days, so the hours of the day stay as generated; every event is then in the past.
    days = (datetime.now(UTC) - last).days
    return list(shifted(lines, timedelta(days=days)))


def _opel_declared() -> list[str]:
    """Levels declared through the day: one replaced later, one lower level declared for a trust
    that its site's higher one must not override. Compact, as `shifted` reads the times."""
    declared = [("R1H12", 2, "site", "08:00"), ("R1H12", 3, "site", "14:00"),
                ("R1HKH", 3, "site", "09:00"), ("RF4QH", 4, "site", "08:00"),
                ("RF4DG", 2, "trust", "10:00"), ("RQXM1", 1, "site", "08:00")]  # fmt: skip
    events = [
        {"event_id": f"opel-{site}-{scope}-{at}", "event_type": "opel.declared",
         "occurred_at": f"2025-11-20T{at}:00Z", "site": site, "level": level, "scope": scope}
        for site, level, scope, at in declared
    ]  # fmt: skip
    return [json.dumps(event, separators=(",", ":")) for event in events]


def _occurred_at(line: str) -> datetime:
    try:
        text = json.loads(line)["occurred_at"]
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, KeyError, TypeError):
        return datetime.min.replace(tzinfo=UTC)
    return moment if moment.tzinfo else datetime.min.replace(tzinfo=UTC)
