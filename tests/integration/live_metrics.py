"""Reading a live worker's /metrics and comparing it with `uecflow replay` of the same events."""

from __future__ import annotations

import signal
import threading
from typing import Any

from streams.topics import Topics
from tools.harness import (
    Broker,
    Samples,
    Worker,
    consumer_lag,
    produce,
    site_differences,
    wait_for,
)


def killed_mid_stream_and_restarted(
    worker: Worker, broker: Broker, topics: Topics, lines: list[str]
) -> Samples:
    """Half the lines, a commit, the rest sent while the worker is SIGKILLed and restarted;
    then /metrics once it has caught up."""
    half = len(lines) // 2
    produce(broker.bootstrap, topics, lines[:half])
    # Killed after its first commit of offsets, so that the restart resumes mid-stream.
    wait_for(lambda: consumer_lag(broker.bootstrap, topics) < half, "a commit", 60)
    sender = threading.Thread(target=produce, args=(broker.bootstrap, topics, lines[half:]))
    sender.start()
    worker.stop(signal.SIGKILL)
    sender.join()
    worker.start()
    return scrape_when_lag_is_zero(worker, broker, topics)


def scrape_when_done(worker: Worker, broker: Broker, topics: Topics, produced: int) -> Samples:
    wait_for(lambda: handled(worker.scrape()) >= produced, "every event to be handled", 120)
    return scrape_when_lag_is_zero(worker, broker, topics)


def scrape_when_lag_is_zero(worker: Worker, broker: Broker, topics: Topics) -> Samples:
    wait_for(lambda: consumer_lag(broker.bootstrap, topics) == 0, "the worker to catch up", 180)
    return worker.scrape()


def handled(samples: Samples) -> float:
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


def counter(samples: Samples, name: str) -> float:
    return sum(value for (sample, _), value in samples.items() if sample == name)


def assert_same_metrics(samples: Samples, document: dict[str, Any]) -> None:
    """Every site's figures on one worker's /metrics (it holds every site) equal replay's. The
    totals are Prometheus's recording rules: tests/integration/test_scale_out.py."""
    differences = site_differences(samples, document)
    assert not differences, "\n".join(differences[:40])
