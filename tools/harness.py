"""Real parts for the integration tests and the benchmark: a Kafka broker started by
scripts/kafka-local, `uecflow worker` as a child process, a producer, and waits with deadlines.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from streams.core.intake import STREAM_OF_TYPE, Stream
from streams.core.metrics import METRICS
from streams.topics import Topics
from tools.processes import spawn

ROOT = Path(__file__).resolve().parents[1]
KAFKA_LOCAL = ROOT / "scripts" / "kafka-local"
UECFLOW = ROOT / ".venv" / "bin" / "uecflow"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(
    condition: Callable[[], Any], what: str, timeout: float = 60.0, every: float = 0.2
) -> Any:
    """Poll until `condition()` is truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:g} s waiting for {what}")
        time.sleep(every)


@dataclass
class Broker:
    """One broker on its own port and data directory; stop/start keeps its data."""

    directory: Path
    port: int = field(default_factory=free_port)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _script(self, *args: str) -> None:
        subprocess.run([str(KAFKA_LOCAL), *args, "--dir", str(self.directory)], check=True)

    def start(self) -> None:
        self._script("start", "--port", str(self.port))

    def stop(self) -> None:
        self._script("stop")

    def kill(self) -> None:
        self._script("kill")


@dataclass
class Worker:
    """`uecflow worker` in a child process, with its own topics and web port."""

    bootstrap: str
    topics: Topics
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    store: str = "memory"
    standby_replicas: int | None = None  # None: the worker's default for its store

    def start(self) -> None:
        command = [
            str(UECFLOW), "worker",
            "--bootstrap", self.bootstrap,
            "--topic-prefix", self.topics.prefix,
            "--partitions", str(self.topics.partitions),
            "--port", str(self.port),
            "--data-dir", str(self.data_dir),
            "--store", self.store,
            "--log-level", "warning",
        ]  # fmt: skip
        if self.standby_replicas is not None:
            command += ["--standby-replicas", str(self.standby_replicas)]
        self.process = spawn(command, self.log_path, cwd=ROOT)
        wait_for(self.healthy, f"worker {self.topics.prefix} to recover its state", 90)

    @property
    def data_dir(self) -> Path:
        return self.log_path.parent / f"{self.topics.prefix}-data"

    def healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"worker exited with {self.process.returncode}: {self.log_tail()}")
        try:
            with urllib.request.urlopen(self.url("/health"), timeout=2) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def scrape(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """Every sample of /metrics, keyed by name and sorted labels."""
        with urllib.request.urlopen(self.url("/metrics"), timeout=10) as response:
            text = response.read().decode()
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    def stop(self, how: int = signal.SIGTERM, timeout: float = 60) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(how)
        return self.process.wait(timeout)

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def stream_of(line: str) -> Stream:
    """The topic a line goes to: by its event_type; anything unreadable goes to A&E."""
    try:
        event_type = json.loads(line).get("event_type", "")
    except (ValueError, AttributeError):
        return Stream.AE
    return STREAM_OF_TYPE.get(str(event_type), Stream.AE)


def site_key(line: str) -> bytes | None:
    try:
        site = json.loads(line).get("site")
    except (ValueError, AttributeError):
        return None
    return site.encode() if isinstance(site, str) else None


def produce(bootstrap: str, topics: Topics, lines: Iterable[str]) -> int:
    """Send every line to its stream's topic keyed by site; return how many Kafka acknowledged."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5
    )
    futures = [
        producer.send(topics.of(stream_of(line)), key=site_key(line), value=line.encode())
        for line in lines
    ]
    producer.flush(timeout=120)
    producer.close()
    return sum(1 for future in futures if future.succeeded())


def consumer_lag(bootstrap: str, topics: Topics) -> int:
    """Messages in the source topics not yet committed by the worker's consumer group."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        group = f"{topics.prefix}-worker"
        committed = admin.list_group_offsets(group).get(group, {})
        partitions = [
            TopicPartition(topics.of(stream), p)
            for stream in Stream
            for p in range(topics.partitions)
        ]
        ends = consumer.end_offsets(partitions)
        return sum(
            end - (committed[tp].offset if tp in committed else 0) for tp, end in ends.items()
        )
    finally:
        consumer.close()
        admin.close()


def end_offsets(bootstrap: str, topic: str, partitions: int) -> dict[int, int]:
    """Each partition's end offset: how many messages it has ever had."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        ends = consumer.end_offsets([TopicPartition(topic, p) for p in range(partitions)])
    finally:
        consumer.close()
    return {tp.partition: end for tp, end in ends.items()}


def events_in_kafka(bootstrap: str, topics: Topics) -> int:
    """Messages in the three source topics."""
    return sum(
        sum(end_offsets(bootstrap, topics.of(stream), topics.partitions).values())
        for stream in Stream
    )


def dead_letters(bootstrap: str, topics: Topics, expected: int) -> list[dict[str, str]]:
    """Read the dead-letter topic from the start: each message's headers and original bytes."""
    consumer = KafkaConsumer(
        topics.dead_letter,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        consumer_timeout_ms=5000,
    )
    letters = []
    try:
        for message in consumer:
            headers = {key: value.decode() for key, value in message.headers}
            letters.append({**headers, "original": message.value.decode(errors="replace")})
            if len(letters) >= expected:
                break
    finally:
        consumer.close()
    return letters


_OCCURRED_AT = re.compile(rb'"occurred_at":"([^"]+)"')


def shifted(lines: Iterable[str], by: timedelta) -> Iterator[str]:
    """Move every readable occurred_at by `by`; unreadable lines stay as they are (dirt)."""
    for line in lines:
        yield _OCCURRED_AT.sub(lambda match: _shift(match, by), line.encode()).decode()


def _shift(match: re.Match[bytes], by: timedelta) -> bytes:
    text = match.group(1).decode()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return match.group(0)
    if moment.tzinfo is None:
        return match.group(0)
    return f'"occurred_at":"{(moment + by).isoformat()}"'.encode()


def replay_document(lines: list[str], as_of: str) -> dict[str, Any]:
    """`uecflow replay --json --as-of` of the same lines, run as a user would run it."""
    result = subprocess.run(
        [str(UECFLOW), "replay", "-", "--json", "--as-of", as_of],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    document: dict[str, Any] = json.loads(result.stdout)
    return document


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]  # a scrape: name, labels -> value


def scrape_as_of(samples: Samples) -> str:
    """The instant a scrape's figures are computed as of, as `replay --as-of` takes it."""
    moment = datetime.fromtimestamp(samples[("uecflow_as_of_timestamp_seconds", ())], UTC)
    return moment.isoformat().replace("+00:00", "Z")


def site_differences(samples: Samples, document: dict[str, Any]) -> list[str]:
    """Every site figure of a scrape that differs from a `uecflow replay --json` document (a
    site the scrape does not hold counts as differing)."""
    live = {
        (name, dict(labels)["site"]): value
        for (name, labels), value in samples.items()
        if "site" in dict(labels)
    }
    return [
        f"{metric.prometheus}{{site={site}}}: live {found}, replay {expected}"
        for site, values in document["sites"].items()
        for metric in METRICS
        for expected in [metric.in_prometheus_unit(values[metric.name])]
        for found in [live.get((metric.prometheus, site))]
        if not same_figure(found, expected)
    ]


def same_figure(live: float | None, expected: float | None) -> bool:
    if live is None or expected is None:
        return live is expected
    return math.isclose(live, expected, rel_tol=1e-9, abs_tol=1e-9)
