"""Several workers in one consumer group, on a real broker and a real Prometheus with the
generated rules: every site is exported by exactly one worker, and every site, trust, place and
system figure read from Prometheus equals `uecflow replay` of the same events; again after a
worker is killed, and again after a third one joins."""

from __future__ import annotations

import json
import math
import signal
import zlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from alerts.cli import GENERATED, RULES
from producers.simulator.sample import generate
from streams.core.metrics import LEVELS, METRICS, Level
from streams.topics import Topics
from tests.integration.monitoring import Prometheus, missing_servers
from tools.harness import Broker, Worker, consumer_lag, produce, replay_document, shifted, wait_for
from uecflow.config import load_registry

pytestmark = [
    pytest.mark.kafka,
    pytest.mark.slow,
    pytest.mark.skipif(bool(missing_servers()), reason=missing_servers() or ""),
]
REGISTRY = load_registry(None)
LONDON = ZoneInfo("Europe/London")
CENSUS = "uecflow_ae_in_department"  # every site held has a series of it
DOCUMENT_KEY: dict[Level, str] = {"trust": "trusts", "place": "places", "system": "system"}


def settled_batches() -> list[list[str]]:
    """A NEL day in three batches, moved to end an hour ago. Each batch holds whole records (an
    attendance's events, a conveyance's, a ward's) of attendances that departed and ambulances
    that handed over: after any batch no one is waiting, so no figure moves with the clock
    (except at London midnight), and Prometheus and replay compare exactly whenever each reads.
    """
    lines = list(generate(start=date(2025, 11, 20), days=1, seed=5, registry=REGISTRY))
    events = [_fields(line) for line in lines]
    departed = {e.get("attendance_id") for e in events if e.get("event_type") == "ae.departure"}
    handed = {e.get("handover_id") for e in events if e.get("event_type") == "ambulance.handover"}
    batches: list[list[str]] = [[], [], []]
    for line, e in zip(lines, events, strict=True):
        record = e.get("attendance_id") or e.get("handover_id") or e.get("ward") or line
        if e.get("event_type") in (None, "beds.ward_state") or record in departed | handed:
            # Invalid lines stay: they go to the dead-letter topic, and replay refuses them too.
            batches[zlib.crc32(str(record).encode()) % 3].append(line)
    last = max(moment for line in lines if (moment := _moment(line)) is not None)
    shift = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1) - last
    return [list(shifted(batch, shift)) for batch in batches]


def _fields(line: str) -> dict[str, Any]:
    try:
        fields = json.loads(line)
    except ValueError:
        return {}
    return fields if isinstance(fields, dict) and "occurred_at" in fields else {}


def _moment(line: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(_fields(line)["occurred_at"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None
    return moment if moment.tzinfo else None


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[Prometheus]:
    server = Prometheus(tmp_path / "prometheus")
    yield server
    server.stop()


def a_worker(broker: Broker, topics: Topics, directory: Path) -> Worker:
    directory.mkdir(parents=True)
    return Worker(broker.bootstrap, topics, directory / "worker.log")


def sites_of(worker: Worker) -> list[str]:
    return [dict(labels)["site"] for (name, labels) in worker.scrape() if name == CENSUS]


def each_site_held_once(workers: list[Worker]) -> bool:
    held = [site for worker in workers for site in sites_of(worker)]
    return sorted(held) == sorted(REGISTRY.sites)


def figures(prometheus: Prometheus) -> dict[tuple[str, str, str], float]:
    """(metric, level, name) -> value, for every site series and recording rule."""
    found: dict[tuple[str, str, str], float] = {}
    for metric in METRICS:
        for sample in prometheus.query(f"max by (site) ({metric.prometheus})"):
            found[metric.name, "site", sample["metric"]["site"]] = float(sample["value"][1])
        for level in LEVELS:
            for sample in prometheus.query(metric.recorded(level)):
                name = sample["metric"].get(level, "") if level != "system" else ""
                found[metric.name, level, name] = float(sample["value"][1])
    return found


def expected(document: dict[str, Any]) -> dict[tuple[str, str, str], float]:
    scopes: list[tuple[str, str, dict[str, Any]]] = [
        ("site", code, values) for code, values in document["sites"].items()
    ]
    for level in LEVELS:
        if level == "system":
            scopes.append(("system", "", document["system"]))
        else:
            scopes += [(level, name, v) for name, v in document[DOCUMENT_KEY[level]].items()]
    return {
        (metric.name, level, name): value
        for level, name, values in scopes
        for metric in METRICS
        if (value := metric.in_prometheus_unit(values[metric.name])) is not None
    }


def plain_sums(prometheus: Prometheus) -> dict[tuple[str, str, str], float]:
    """`sum()` over each summed family, which must be the system's figure: no totals on
    /metrics, and no site twice."""
    return {
        (metric.name, "system", ""): float(sample["value"][1])
        for metric in METRICS
        if metric.aggregate.operation == "sum"
        for sample in prometheus.query(f"sum({metric.prometheus})")
    }


def differences(prometheus: Prometheus, lines: list[str]) -> list[str]:
    away_from_london_midnight()
    summed = plain_sums(prometheus)
    live = figures(prometheus)
    replayed = expected(replay_document(lines, datetime.now(UTC).isoformat()))
    return [
        f"{key}: prometheus {live.get(key)}, replay {replayed.get(key)}"
        for key in sorted(set(live) | set(replayed))
        if key not in live
        or key not in replayed
        or not math.isclose(live[key], replayed[key], rel_tol=1e-9, abs_tol=1e-9)
    ] + [
        f"sum() of {key[0]}: {value}, replay {replayed.get(key)}"
        for key, value in summed.items()
        if not math.isclose(value, replayed.get(key, math.nan), rel_tol=1e-9, abs_tol=1e-9)
    ]


def away_from_london_midnight() -> None:
    """Today's figures change at London midnight: not compared within a minute of it."""

    def away() -> bool:
        local = datetime.now(LONDON)
        return (
            timedelta(minutes=1)
            < local - local.replace(hour=0, minute=0, second=0)
            < timedelta(hours=23, minutes=59)
        )

    wait_for(away, "a minute away from London midnight", 180)


def assert_exact(
    prometheus: Prometheus, broker: Broker, topics: Topics, workers: list[Worker], lines: list[str]
) -> None:
    wait_for(lambda: consumer_lag(broker.bootstrap, topics) == 0, "the workers to catch up", 180)
    wait_for(lambda: all(w.healthy() for w in workers), "every worker ready", 120)
    wait_for(lambda: each_site_held_once(workers), "each site on exactly one worker", 60)
    once = f"count by (site) ({CENSUS}) == 1"
    wait_for(lambda: len(prometheus.query(once)) == len(REGISTRY.sites), "one series a site", 60)
    found: list[str] = []

    def same() -> bool:
        found[:] = differences(prometheus, lines)
        return not found

    try:
        wait_for(same, "Prometheus to show the replay's figures", 60)
    except Exception:
        pytest.fail("\n".join(found[:40]))


def test_two_workers_then_one_then_two_again_give_the_replays_figures_in_prometheus(
    broker: Broker, topics: Topics, prometheus: Prometheus, tmp_path: Path
) -> None:
    first, second, third = settled_batches()
    one, two, three = (a_worker(broker, topics, tmp_path / name) for name in ("1", "2", "3"))
    prometheus.start(
        targets=[f"127.0.0.1:{w.port}" for w in (one, two, three)], rule_files=[GENERATED / RULES]
    )
    try:
        one.start()
        two.start()
        produce(broker.bootstrap, topics, first)
        assert_exact(prometheus, broker, topics, [one, two], first)
        assert sites_of(one)
        assert sites_of(two)

        one.stop(signal.SIGKILL)
        produce(broker.bootstrap, topics, second)
        assert_exact(prometheus, broker, topics, [two], first + second)

        three.start()
        produce(broker.bootstrap, topics, third)
        assert_exact(prometheus, broker, topics, [two, three], first + second + third)
        assert sites_of(three)
        everything = replay_document(first + second + third, datetime.now(UTC).isoformat())
        assert everything["system"]["ga_beds_open"] > 0  # not nothing compared with nothing
        assert everything["system"]["ga_occupancy"] is not None
    finally:
        for worker in (one, two, three):
            if worker.process is not None:
                worker.stop(signal.SIGKILL)
