"""The live pipeline on a real broker gives what `uecflow replay` gives from the same events."""

from __future__ import annotations

import threading

import pytest

from streams.topics import Topics
from tests.integration.live_metrics import (
    assert_same_metrics,
    counter,
    handled,
    killed_mid_stream_and_restarted,
    scrape_when_done,
    scrape_when_lag_is_zero,
)
from tools.harness import (
    Broker,
    Worker,
    dead_letters,
    produce,
    replay_document,
    scrape_as_of,
    wait_for,
)

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def test_every_metric_on_metrics_equals_the_replay_of_the_same_events(
    broker: Broker, topics: Topics, worker: Worker, nel_events: list[str]
) -> None:
    assert produce(broker.bootstrap, topics, nel_events) == len(nel_events)
    samples = scrape_when_done(worker, broker, topics, len(nel_events))
    expected = replay_document(nel_events, scrape_as_of(samples))
    assert_same_metrics(samples, expected)
    assert counter(samples, "uecflow_events_rejected_total") == expected["rejected_events"]
    assert counter(samples, "uecflow_events_duplicate_total") == expected["duplicate_events"]


def test_every_invalid_event_is_on_the_dead_letter_topic_with_its_reason(
    broker: Broker, topics: Topics, worker: Worker, nel_events: list[str]
) -> None:
    produce(broker.bootstrap, topics, nel_events)
    samples = scrape_when_done(worker, broker, topics, len(nel_events))
    rejected = replay_document(nel_events, scrape_as_of(samples))["rejected_events"]
    letters = dead_letters(broker.bootstrap, topics, expected=rejected + 1)
    assert len(letters) == rejected > 0
    assert all(letter["uecflow-reason"] for letter in letters)
    assert {letter["original"] for letter in letters} <= set(nel_events)


def test_a_worker_killed_mid_stream_recovers_without_losing_or_double_counting(
    broker: Broker, topics: Topics, worker: Worker, nel_events: list[str]
) -> None:
    samples = killed_mid_stream_and_restarted(worker, broker, topics, nel_events)
    assert_same_metrics(samples, replay_document(nel_events, scrape_as_of(samples)))
    # The restarted worker took its state from the changelog, not the topics from the start.
    assert handled(samples) < len(nel_events)


def test_a_broker_restart_under_a_running_worker_and_producer_loses_nothing(
    broker: Broker, topics: Topics, worker: Worker, nel_events: list[str]
) -> None:
    quarter = len(nel_events) // 4
    produce(broker.bootstrap, topics, nel_events[:quarter])
    sender = threading.Thread(target=_trickle, args=(broker, topics, nel_events[quarter:]))
    sender.start()
    wait_for(lambda: handled(worker.scrape()) > quarter, "the worker to be mid-stream")
    broker.stop()
    broker.start()
    sender.join()
    samples = scrape_when_lag_is_zero(worker, broker, topics)
    assert_same_metrics(samples, replay_document(nel_events, scrape_as_of(samples)))


def _trickle(broker: Broker, topics: Topics, lines: list[str]) -> None:
    # Small batches over a few seconds, so that some are sent while the broker is down.
    for start in range(0, len(lines), 200):
        produce(broker.bootstrap, topics, lines[start : start + 200])
