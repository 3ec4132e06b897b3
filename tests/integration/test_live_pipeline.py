"""The live pipeline on a real broker gives what `uecflow replay` gives from the same events."""

from __future__ import annotations

import math
import signal
import threading
from typing import Any

import pytest

from events.registry import load_registry
from streams.exporter import prometheus_name, prometheus_value
from streams.metrics import METRICS
from streams.topics import Topics
from tests.integration.harness import (
    Broker,
    Worker,
    consumer_lag,
    dead_letters,
    produce,
    replay_document,
    wait_for,
)

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def test_every_metric_on_metrics_equals_the_replay_of_the_same_events(
    broker: Broker, topics: Topics, worker: Worker, nel_events: list[str]
) -> None:
    assert produce(broker.bootstrap, topics, nel_events) == len(nel_events)
    samples = _scrape_when_done(worker, broker, topics, len(nel_events))
    expected = replay_document(nel_events, _as_of(samples))
    _assert_same_metrics(samples, expected)
    assert _counter(samples, "uecflow_events_rejected_total") == expected["rejected_events"]
    assert _counter(samples, "uecflow_events_duplicate_total") == expected["duplicate_events"]


def test_every_invalid_event_is_on_the_dead_letter_topic_with_its_reason(
    broker: Broker, topics: Topics, worker: Worker, nel_events: list[str]
) -> None:
    produce(broker.bootstrap, topics, nel_events)
    samples = _scrape_when_done(worker, broker, topics, len(nel_events))
    rejected = replay_document(nel_events, _as_of(samples))["rejected_events"]
    letters = dead_letters(broker.bootstrap, topics, expected=rejected + 1)
    assert len(letters) == rejected > 0
    assert all(letter["uecflow-reason"] for letter in letters)
    assert {letter["original"] for letter in letters} <= set(nel_events)


def test_a_worker_killed_mid_stream_recovers_without_losing_or_double_counting(
    broker: Broker, topics: Topics, worker: Worker, nel_events: list[str]
) -> None:
    half = len(nel_events) // 2
    produce(broker.bootstrap, topics, nel_events[:half])
    # Killed after its first commit of offsets, so that the restart resumes mid-stream.
    wait_for(lambda: consumer_lag(broker.bootstrap, topics) < half, "a commit", 60)
    sender = threading.Thread(target=produce, args=(broker.bootstrap, topics, nel_events[half:]))
    sender.start()
    worker.stop(signal.SIGKILL)
    sender.join()
    worker.start()
    samples = _scrape_when_lag_is_zero(worker, broker, topics)
    _assert_same_metrics(samples, replay_document(nel_events, _as_of(samples)))
    # The restarted worker took its state from the changelog, not the topics from the start.
    assert _handled(samples) < len(nel_events)


def test_a_broker_restart_under_a_running_worker_and_producer_loses_nothing(
    broker: Broker, topics: Topics, worker: Worker, nel_events: list[str]
) -> None:
    quarter = len(nel_events) // 4
    produce(broker.bootstrap, topics, nel_events[:quarter])
    sender = threading.Thread(target=_trickle, args=(broker, topics, nel_events[quarter:]))
    sender.start()
    wait_for(lambda: _handled(worker.scrape()) > quarter, "the worker to be mid-stream")
    broker.stop()
    broker.start()
    sender.join()
    samples = _scrape_when_lag_is_zero(worker, broker, topics)
    _assert_same_metrics(samples, replay_document(nel_events, _as_of(samples)))


def _trickle(broker: Broker, topics: Topics, lines: list[str]) -> None:
    # Small batches over a few seconds, so that some are sent while the broker is down.
    for start in range(0, len(lines), 200):
        produce(broker.bootstrap, topics, lines[start : start + 200])


def _scrape_when_done(worker: Worker, broker: Broker, topics: Topics, produced: int) -> Samples:
    wait_for(lambda: _handled(worker.scrape()) >= produced, "every event to be handled", 120)
    return _scrape_when_lag_is_zero(worker, broker, topics)


def _scrape_when_lag_is_zero(worker: Worker, broker: Broker, topics: Topics) -> Samples:
    wait_for(lambda: consumer_lag(broker.bootstrap, topics) == 0, "the worker to catch up", 180)
    return worker.scrape()


def _handled(samples: Samples) -> float:
    return sum(
        value
        for (name, _), value in samples.items()
        if name
        in {
            "uecflow_events_processed_total",
            "uecflow_events_duplicate_total",
            "uecflow_events_rejected_total",
        }
    )


def _counter(samples: Samples, name: str) -> float:
    return sum(value for (sample, _), value in samples.items() if sample == name)


def _as_of(samples: Samples) -> str:
    from datetime import UTC, datetime

    seconds = samples[("uecflow_as_of_timestamp_seconds", ())]
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.isoformat().replace("+00:00", "Z")


def _assert_same_metrics(samples: Samples, document: dict[str, Any]) -> None:
    registry = load_registry(None)
    scopes: list[tuple[dict[str, str], dict[str, Any]]] = []
    for code, values in document["sites"].items():
        site = registry.sites[code]
        scopes.append(({"site": code, "trust": site.trust, "place": site.place}, values))
    scopes += [({"trust": code}, values) for code, values in document["trusts"].items()]
    scopes += [({"place": name}, values) for name, values in document["places"].items()]
    scopes.append(({}, document["system"]))
    differences = [
        f"{prometheus_name(metric)}{labels}: live {live}, replay {expected}"
        for labels, values in scopes
        for metric in METRICS
        for expected in [prometheus_value(metric, values[metric.name])]
        for live in [samples.get((prometheus_name(metric), tuple(sorted(labels.items()))))]
        if not _same(live, expected)
    ]
    assert not differences, "\n".join(differences[:40])


def _same(live: float | None, expected: float | None) -> bool:
    if live is None or expected is None:
        return live is expected
    return math.isclose(live, expected, rel_tol=1e-9, abs_tol=1e-9)
