"""Reading a live worker's /metrics and comparing it with `uecflow replay` of the same events."""

from __future__ import annotations

import math
import signal
import threading
from datetime import UTC, datetime
from typing import Any

from streams.core.metrics import METRICS
from streams.topics import Topics
from tools.harness import Broker, Worker, consumer_lag, produce, wait_for
from uecflow.config import load_registry

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


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


def as_of(samples: Samples) -> str:
    seconds = samples[("uecflow_as_of_timestamp_seconds", ())]
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.isoformat().replace("+00:00", "Z")


def assert_same_metrics(samples: Samples, document: dict[str, Any]) -> None:
    registry = load_registry(None)
    scopes: list[tuple[dict[str, str], dict[str, Any]]] = []
    for code, values in document["sites"].items():
        site = registry.sites[code]
        scopes.append(({"site": code, "trust": site.trust, "place": site.place}, values))
    scopes += [({"trust": code}, values) for code, values in document["trusts"].items()]
    scopes += [({"place": name}, values) for name, values in document["places"].items()]
    scopes.append(({}, document["system"]))
    differences = [
        f"{metric.prometheus}{labels}: live {live}, replay {expected}"
        for labels, values in scopes
        for metric in METRICS
        for expected in [metric.in_prometheus_unit(values[metric.name])]
        for live in [samples.get((metric.prometheus, tuple(sorted(labels.items()))))]
        if not _same(live, expected)
    ]
    assert not differences, "\n".join(differences[:40])


def _same(live: float | None, expected: float | None) -> bool:
    if live is None or expected is None:
        return live is expected
    return math.isclose(live, expected, rel_tol=1e-9, abs_tol=1e-9)
