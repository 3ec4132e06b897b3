"""Live worker: sustained events/s through one `uecflow worker` process, and the latency from a
producer's send to the value being visible on /metrics, against a real local Kafka.

Run: .venv/bin/python -m benchmarks.worker_latency [--events 30000] [--rate 1000] [--seconds 60]

Starts its own broker (scripts/kafka-local, in a temp dir) and workers from tests/integration
(harness), one at a time, each on its own topics.

Throughput: N clean generated events are produced before the worker starts, so the producer is
not the bottleneck; the clock runs from the worker answering /health until
`uecflow_events_*_total` add up to N (scraped every 0.5 s).

Latency: a fresh worker holding NEL's last 40 h (what a live worker holds); a producer thread
sends fresh events at a fixed rate while another thread polls /metrics. An event is visible
once `uecflow_last_event_timestamp_seconds` of its site and stream reaches its occurred_at:
the metric is a per-site, per-stream maximum and each event's occurred_at is later than the one
before, so every event is a probe. A latency runs from just before the producer's send to the
return of the first scrape that shows the event: polling adds up to its interval, and the
worker may answer with a render up to `RENDER_REUSE_MAX_SECONDS` old
(streams.worker.exposition); both are what a reader of /metrics sees, so both stay in. The age
of each body served (the scrape's return less its `uecflow_as_of_timestamp_seconds`) and the
renders seen are reported.

Last, the throughput events go through `streams.worker.pipeline.Pipeline` in this process with
a no-op changelog, handled and flushed one at a time as the agents do: the flow core's share of the
worker's CPU. Figures go to stdout as Markdown.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import math
import os
import platform
import re
import statistics
import tempfile
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from kafka import KafkaProducer
from prometheus_client import CollectorRegistry, generate_latest

from producers.simulator.sample import generate
from streams.core.intake import Stream
from streams.exporter import FlowCollector
from streams.topics import Topics, ensure_topics
from streams.worker.exposition import RENDER_REUSE_MAX_SECONDS
from streams.worker.pipeline import Pipeline
from tools.harness import ROOT, Broker, Worker, produce, site_key, stream_of
from uecflow.config import Registry, load_registry

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SPAN = timedelta(hours=40)  # of event time in each pre-load: inside the 48 h horizon
SITES = ("R1H12", "R1HKH", "R1HNH", "RF4QH", "RF4DG", "RQXM1")
EVENTS_PER_DAY = 6_600  # what the sample generator gives for the six NEL sites, roughly
WARD_EVERY = 20  # one probe in 20 is a ward state (beds stream), the rest A&E arrivals
PROBE_WARDS = 10  # per site: a ward's history grows with each snapshot, so spread them
COUNTERS = ("uecflow_events_processed_total", "uecflow_events_duplicate_total")
DRAIN_SECONDS = 30.0  # after the last send, how long a probe may take to show
REJECTED = "uecflow_events_rejected_total"
_LAST_EVENT = re.compile(
    r'^uecflow_last_event_timestamp_seconds\{[^}]*site="([^"]+)"[^}]*stream="([^"]+)"[^}]*\}'
    r" (\S+)$",
    re.MULTILINE,
)
_AS_OF = re.compile(r"^uecflow_as_of_timestamp_seconds (\S+)$", re.MULTILINE)
_SAMPLE = re.compile(r"^(uecflow_events_\w+_total)\{[^}]*\} (\S+)$", re.MULTILINE)
_EXPOSITION = re.compile(r"^uecflow_exposition_cpu_seconds_total (\S+)$", re.MULTILINE)

ProbeKey = tuple[str, str]  # (site, stream)


# ---------------------------------------------------------------------------------- machine


def machine() -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    pom = (ROOT / "scripts" / "kafka" / "pom.xml").read_text()
    kafka = re.search(r"<kafka.version>(.*)</kafka.version>", pom)
    return (
        f"{model}, {len(os.sched_getaffinity(0))} CPUs (nproc), "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') >> 30} GiB RAM, "
        f"Linux {platform.release()}, Python {platform.python_version()}, "
        f"Kafka {kafka.group(1) if kafka else '?'} (one local broker, KRaft)"
    )


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process from /proc (psutil is not a dependency)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    # After the command name: state is field 3 of proc(5), so utime (14) and stime (15) are 11, 12.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> float:
    # Other work on the machine (tests, another broker) skews every figure: worth printing.
    return os.getloadavg()[0]


def warnings_in(log: Path, top: int = 3) -> list[tuple[str, int]]:
    """The worker's commonest warnings (numbers masked), e.g. Faust's producer back-pressure."""
    found: Counter[str] = Counter()
    for line in log.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line[line.find("{") :])
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("level") in ("warning", "error"):
            found[re.sub(r"\d+(\.\d+)?", "#", str(record.get("message")))[:70]] += 1
    return found.most_common(top)


def broker_pid(broker: Broker) -> int:
    return int((broker.directory / "kafka.pid").read_text())


# ---------------------------------------------------------------------------------- events


def backlog_lines(count: int, registry: Registry) -> list[str]:
    """`count` clean generated events (several NEL days, in delivery order) squeezed into
    SPAN of event time ending a minute ago.

    Squeezed because event time is kept per site across its three topics: a backlog longer
    than the 48 h lateness horizon is consumed at a different pace on each topic (beds has 4%
    of the events), a site's event time runs ahead on one and the others' events are refused
    as too late. That would measure the dead-letter path, not the flow.
    """
    lines = _generated(count // EVENTS_PER_DAY + 2, registry)[:count]
    times = [_occurred_us(line) for line in lines]
    first, last = min(times), max(times)
    end = _now_us() - 60_000_000
    factor = SPAN.total_seconds() * 1_000_000 / max(1, last - first)
    return [
        _with_occurred_at(line, end - round((last - at) * factor))
        for line, at in zip(lines, times, strict=True)
    ]


def recent_lines(registry: Registry) -> list[str]:
    """The last SPAN of NEL at the generator's pace, ending a minute ago: the state a live
    worker holds, for the latency run."""
    lines = _generated(SPAN.days + 2, registry)
    last = max(_occurred_us(line) for line in lines)
    by = _now_us() - 60_000_000 - last
    start = last - SPAN.total_seconds() * 1_000_000
    return [
        _with_occurred_at(line, at + by)
        for line, at in ((line, _occurred_us(line)) for line in lines)
        if at >= start
    ]


def _generated(days: int, registry: Registry) -> list[str]:
    return list(generate(start=date(2025, 1, 1), days=days, seed=11, registry=registry,
                         dirty=False))  # fmt: skip


def _occurred_us(line: str) -> int:
    moment = datetime.fromisoformat(json.loads(line)["occurred_at"].replace("Z", "+00:00"))
    return round(moment.timestamp() * 1_000_000)


def _with_occurred_at(line: str, at_us: int) -> str:
    return json.dumps({**json.loads(line), "occurred_at": _rfc3339(at_us)}, separators=(",", ":"))


def _now_us() -> int:
    return time.time_ns() // 1_000


def _rfc3339(moment_us: int) -> str:
    # Integer arithmetic: a float of epoch seconds cannot hold every microsecond.
    moment = EPOCH + timedelta(microseconds=moment_us)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ProbeMaker:
    """Fresh events, site by site in turn: occurred_at is the wall clock in microseconds, made
    strictly later than the last probe of the same site and stream so each one is a probe."""

    def __init__(self) -> None:
        self._sites = itertools.cycle(SITES)
        self._count = 0
        self._last: dict[ProbeKey, int] = {}

    def next(self) -> tuple[ProbeKey, int, str]:
        site = next(self._sites)
        self._count += 1
        is_ward = self._count % WARD_EVERY == 0
        stream = Stream.BEDS if is_ward else Stream.AE
        key = (site, stream.value)
        now_us = time.time_ns() // 1_000
        at_us = max(now_us, self._last.get(key, 0) + 1)
        self._last[key] = at_us
        fields = self._ward(at_us) if is_ward else self._arrival()
        event = {"event_id": uuid.uuid4().hex, "occurred_at": _rfc3339(at_us), "site": site}
        return key, at_us, json.dumps({**event, **fields}, separators=(",", ":"))

    def _arrival(self) -> dict[str, object]:
        return {"event_type": "ae.arrival", "attendance_id": uuid.uuid4().hex[:16]}

    def _ward(self, at_us: int) -> dict[str, object]:
        return {
            "event_type": "beds.ward_state",
            "ward": f"Probe ward {at_us % PROBE_WARDS}",
            "ward_type": "other",  # leaves adult G&A occupancy as generated
            "beds_open_core": 24,
            "beds_occupied": 20,
        }


# ---------------------------------------------------------------------------------- /metrics


class MetricsClient:
    """GET /metrics on one kept-alive connection; reads only the lines this benchmark needs
    (the full text parser would cost this process more than the worker's scrape)."""

    def __init__(self, port: int) -> None:
        self._connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def get(self) -> tuple[str, float]:
        """The exposition text and how long the worker took to send it (seconds, wall)."""
        start = time.perf_counter()
        self._connection.request("GET", "/metrics")
        response = self._connection.getresponse()
        body = response.read().decode()
        return body, time.perf_counter() - start

    def close(self) -> None:
        self._connection.close()


def counted(text: str) -> tuple[int, int]:
    """Events the worker finished with (applied, duplicate or refused), and how many refused."""
    done = refused = 0.0
    for name, value in _SAMPLE.findall(text):
        if name in COUNTERS:
            done += float(value)
        elif name == REJECTED:
            refused += float(value)
    return int(done + refused), int(refused)


def exposition_cpu(text: str) -> float:
    """CPU seconds the worker spent rendering /metrics so far (uecflow_exposition_cpu_seconds)."""
    found = _EXPOSITION.search(text)
    return float(found.group(1)) if found else 0.0


def visible(text: str) -> dict[ProbeKey, int]:
    """`uecflow_last_event_timestamp_seconds` per site and stream, in microseconds."""
    return {
        (site, stream): round(float(value) * 1_000_000)
        for site, stream, value in _LAST_EVENT.findall(text)
    }


# ---------------------------------------------------------------------------------- throughput


@dataclass(frozen=True, slots=True)
class Throughput:
    events: int
    refused: int
    seconds: float  # from the worker answering /health until all events were counted
    steady: float  # events/s between 10% and 90% of the events
    worker_cpu: float
    broker_cpu: float
    startup: float  # from starting the process until /health answered

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def follow(worker: Worker, expected: int) -> tuple[list[tuple[float, int]], int]:
    """Scrape every 0.5 s until the worker has counted `expected` events: (seconds since the
    call, events counted) at each scrape, and how many of them it refused."""
    assert worker.process is not None
    client, began = MetricsClient(worker.port), time.perf_counter()
    samples: list[tuple[float, int]] = []
    refused = 0
    try:
        while not samples or samples[-1][1] < expected:
            if samples:
                time.sleep(0.5)
            done, refused = counted(client.get()[0])
            samples.append((time.perf_counter() - began, done))
            if worker.process.poll() is not None:
                raise RuntimeError(f"worker exited: {worker.log_tail()}")
    finally:
        client.close()
    return samples, refused


def measure_throughput(worker: Worker, broker: Broker, expected: int) -> Throughput:
    began = time.perf_counter()
    worker.start()
    startup = time.perf_counter() - began
    assert worker.process is not None
    pid, kafka = worker.process.pid, broker_pid(broker)
    cpu0, kafka0 = cpu_seconds(pid), cpu_seconds(kafka)
    samples, refused = follow(worker, expected)
    return Throughput(
        events=expected,
        refused=refused,
        seconds=samples[-1][0],
        steady=_steady_rate(samples, expected),
        worker_cpu=cpu_seconds(pid) - cpu0,
        broker_cpu=cpu_seconds(kafka) - kafka0,
        startup=startup,
    )


def _steady_rate(samples: list[tuple[float, int]], expected: int) -> float:
    # Leaves out the start (fetches warming up) and the tail (some partitions done before others).
    low = next(s for s in samples if s[1] >= expected * 0.1)
    high = next(s for s in samples if s[1] >= expected * 0.9)
    return (high[1] - low[1]) / (high[0] - low[0]) if high[0] > low[0] else float("nan")


def scrape_cost(worker: Worker, times: int = 10) -> tuple[float, int]:
    """Median seconds of one /metrics GET on an idle worker that renders it afresh, and the
    size of the text."""
    client = MetricsClient(worker.port)
    results = []
    try:
        for _ in range(times):
            # Apart by more than the worker reuses a render: each GET then times a render.
            time.sleep(RENDER_REUSE_MAX_SECONDS + 0.05)
            results.append(client.get())
    finally:
        client.close()
    return statistics.median(seconds for _, seconds in results), len(results[-1][0])


# ---------------------------------------------------------------------------------- latency


@dataclass
class Probes:
    """Sent probes waiting to be seen, per site and stream, oldest first; and the latencies."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    waiting: dict[ProbeKey, deque[tuple[int, float]]] = field(default_factory=dict)
    latencies: dict[str, list[float]] = field(default_factory=dict)  # by stream
    sent: int = 0
    send_seconds: float = 0.0

    def add(self, key: ProbeKey, at_us: int, sent: float) -> None:
        with self.lock:
            self.waiting.setdefault(key, deque()).append((at_us, sent))
            self.sent += 1

    def seen(self, shown: dict[ProbeKey, int], when: float) -> None:
        with self.lock:
            for key, queue in self.waiting.items():
                # Less 1 µs: the exposition's float seconds may round the last microsecond.
                latest = shown.get(key, -1) + 1
                found = self.latencies.setdefault(key[1], [])
                while queue and queue[0][0] <= latest:
                    found.append(when - queue.popleft()[1])

    def unseen(self) -> dict[str, int]:
        with self.lock:
            counts: dict[str, int] = {}
            for (_, stream), queue in self.waiting.items():
                counts[stream] = counts.get(stream, 0) + len(queue)
            return counts


def send_at_rate(
    bootstrap: str, topics: Topics, rate: float, seconds: float, probes: Probes
) -> None:
    """Send probes on a fixed schedule (i / rate), catching up without sleeping if behind."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=1)
    maker = ProbeMaker()
    start = time.perf_counter()
    try:
        for index in range(int(rate * seconds)):
            ahead = start + index / rate - time.perf_counter()
            if ahead > 0:
                time.sleep(ahead)
            key, at_us, line = maker.next()
            sent = time.perf_counter()
            producer.send(topics.of(Stream(key[1])), key=key[0].encode(), value=line.encode())
            probes.add(key, at_us, sent)
        probes.send_seconds = time.perf_counter() - start
        producer.flush(timeout=60)
    finally:
        producer.close()


@dataclass
class Scrapes:
    """Each /metrics GET of the latency run: how long it took, and how old the body it
    returned was (its return on the wall clock less its as-of instant)."""

    seconds: list[float] = field(default_factory=list)
    ages: list[float] = field(default_factory=list)
    renders: set[float] = field(default_factory=set)  # the distinct as-of instants seen


def poll_metrics(
    port: int, every: float, probes: Probes, stop: threading.Event, scrapes: Scrapes
) -> None:
    """Scrape every `every` seconds; a probe's latency ends when the scrape showing it returns."""
    client = MetricsClient(port)
    try:
        while not stop.is_set():
            text, took = client.get()
            probes.seen(visible(text), time.perf_counter())
            as_of = _AS_OF.search(text)
            if as_of is not None:
                scrapes.ages.append(time.time() - float(as_of.group(1)))
                scrapes.renders.add(float(as_of.group(1)))
            scrapes.seconds.append(took)
            stop.wait(max(0.0, every - took))
    finally:
        client.close()


@dataclass(frozen=True, slots=True)
class Latency:
    sent: int
    send_rate: float
    latencies: dict[str, list[float]]  # by stream; a probe not seen at the end counts as inf
    poll_every: float
    scrapes: Scrapes
    seconds: float  # from the first send until the last probe was seen or given up
    worker_cpu: float  # share of one CPU

    def all(self) -> list[float]:
        return [latency for values in self.latencies.values() for latency in values]


def measure_latency(
    worker: Worker, bootstrap: str, topics: Topics, args: argparse.Namespace
) -> Latency:
    assert worker.process is not None
    probes, stop, scrapes = Probes(), threading.Event(), Scrapes()
    poller = threading.Thread(
        target=poll_metrics, args=(worker.port, args.poll, probes, stop, scrapes), daemon=True
    )
    cpu0, began = cpu_seconds(worker.process.pid), time.perf_counter()
    poller.start()
    try:
        send_at_rate(bootstrap, topics, args.rate, args.seconds, probes)
        deadline = time.monotonic() + DRAIN_SECONDS
        while sum(probes.unseen().values()) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        poller.join(15)
    seconds = time.perf_counter() - began
    cpu = (cpu_seconds(worker.process.pid) - cpu0) / seconds
    for stream, count in probes.unseen().items():
        probes.latencies.setdefault(stream, []).extend([math.inf] * count)
    return Latency(
        sent=probes.sent,
        send_rate=probes.sent / probes.send_seconds if probes.send_seconds else math.nan,
        latencies=probes.latencies,
        poll_every=args.poll,
        scrapes=scrapes,
        seconds=seconds,
        worker_cpu=cpu,
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else math.nan


# ---------------------------------------------------------------------------------- core alone


@dataclass(frozen=True, slots=True)
class CoreCost:
    events: int
    cpu: float  # seconds of CPU for Pipeline.handle and .flush over all events
    changelog_writes: int
    snapshot: float  # seconds to render /metrics from the resulting state


def core_cost(lines: list[str], registry: Registry) -> CoreCost:
    """What the worker's agents call, without Faust or Kafka: the floor of its CPU per event."""
    writes = itertools.count()
    now = datetime.now(UTC)

    def clock() -> datetime:
        return now

    def send(_site: str, _key: bytes, _value: bytes | None) -> None:
        next(writes)

    metrics = CollectorRegistry(auto_describe=False)
    pipeline = Pipeline(registry, send, clock, metrics)
    metrics.register(FlowCollector(registry, pipeline.read, clock))
    pipeline.recover([])
    messages = [(line.encode(), stream_of(line), site_key(line)) for line in lines]
    start = time.process_time()
    for raw, stream, key in messages:
        pipeline.handle(raw, stream, key=key)
        pipeline.flush(latest=False)  # as the agents do: encoding the changes is part of the cost
    pipeline.flush()
    cpu = time.process_time() - start
    snapshot = min(_timed(lambda: generate_latest(metrics)) for _ in range(5))
    return CoreCost(len(lines), cpu, next(writes), snapshot)


def _timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


# ---------------------------------------------------------------------------------- report


@dataclass(frozen=True, slots=True)
class Results:
    produce_seconds: float
    throughput: Throughput
    backlog_scrape: tuple[float, int]
    live_events: int
    live_scrape: tuple[float, int]
    latency: Latency
    core: CoreCost
    warnings: dict[str, list[tuple[str, int]]]  # by worker
    load: tuple[float, float]  # 1-minute load average before and after


def report(args: argparse.Namespace, results: Results, wall: float) -> None:
    print(f"machine: {machine()}")
    print(
        f"worker: one `uecflow worker` process, {args.partitions} partitions per topic, memory "
        f"store; benchmark process, worker and broker share the machine; run took {wall:.0f} s; "
        f"load average (1 min) before / after: {results.load[0]:.1f} / {results.load[1]:.1f}"
    )
    print("\n| figure | value |\n|---|---:|")
    for name, value in _throughput_rows(results) + _latency_rows(args, results):
        print(f"| {name} | {value} |")
    for worker, warnings in results.warnings.items():
        for message, count in warnings:
            print(f"{worker} worker log: {count:,} x {message!r}")


def _throughput_rows(results: Results) -> list[tuple[str, str]]:
    t, core = results.throughput, results.core
    return [
        (f"**throughput**: events pre-loaded ({SPAN.total_seconds() / 3600:g} h of event time)",
         f"{t.events:,}"),
        ("  producing them (kafka-python, acks=all)", f"{results.produce_seconds:.1f} s"),
        ("  worker start until /health answers", f"{t.startup:.1f} s"),
        ("  /health until all counted", f"{t.seconds:.1f} s"),
        ("  **events/s per worker process**", f"**{t.rate:,.0f}**"),
        ("  events/s, steady (10% to 90% counted)", f"{t.steady:,.0f}"),
        ("  refused of them (dead-letter topic)", f"{t.refused:,}"),
        ("  worker CPU (utime+stime): total / per event", _cpu(t.worker_cpu, t.events)),
        ("  broker CPU meanwhile", f"{t.broker_cpu:.1f} s"),
        ("  same events through Pipeline.handle + flush in-process", _cpu(core.cpu, core.events)),
        ("  changelog writes per event", f"{core.changelog_writes / core.events:.1f}"),
        ("  /metrics GET after it (idle, fresh render, median of 10)",
         _scrape(results.backlog_scrape)),
        ("  rendering that in-process", f"{core.snapshot * 1000:.0f} ms"),
    ]  # fmt: skip


def _latency_rows(args: argparse.Namespace, results: Results) -> list[tuple[str, str]]:
    lat = results.latency
    everything = lat.all()
    durations, ages = lat.scrapes.seconds, lat.scrapes.ages
    tenth = max(1, len(durations) // 10)
    rows = [
        (f"**latency**: worker pre-loaded with NEL's last {SPAN.total_seconds() / 3600:g} h",
         f"{results.live_events:,} events"),
        ("  /metrics GET then (idle, fresh render, median of 10)", _scrape(results.live_scrape)),
        ("  target rate x duration", f"{args.rate:,.0f}/s x {args.seconds:g} s"),
        ("  achieved send rate", f"{lat.send_rate:,.0f} events/s ({lat.sent:,} sent)"),
        ("  /metrics polled every (adds up to this)", f"{lat.poll_every * 1000:.0f} ms"),
        ("  GET during the run: median of first / last 10%",
         _ms(statistics.median(durations[:tenth]), statistics.median(durations[-tenth:]))),
        ("  renders seen during the run (worker reuses one up to "
         f"{RENDER_REUSE_MAX_SECONDS:g} s)",
         f"{len(lat.scrapes.renders):,} ({len(lat.scrapes.renders) / lat.seconds:.1f}/s)"),
        ("  age of the bodies served: p50 / max",
         _ms(percentile(ages, 0.5), max(ages, default=math.nan))),
        ("  worker CPU during the run", f"{lat.worker_cpu:.0%} of one CPU"),
        ("  **send -> /metrics p50**", f"**{_latency(percentile(everything, 0.50))}**"),
        ("  **send -> /metrics p99**", f"**{_latency(percentile(everything, 0.99))}**"),
        ("  max", _latency(max(everything, default=math.nan))),
        (f"  not seen {DRAIN_SECONDS:g} s after the last send",
         f"{sum(1 for value in everything if math.isinf(value)):,}"),
    ]  # fmt: skip
    rows += [
        (f"  {stream} stream p50 / p99 ({len(values):,} probes)",
         f"{_latency(percentile(values, 0.5))} / {_latency(percentile(values, 0.99))}")
        for stream, values in sorted(lat.latencies.items())
    ]  # fmt: skip
    return rows


def _cpu(seconds: float, events: int) -> str:
    return f"{seconds:.1f} s / {seconds / events * 1e6:.0f} µs ({events / seconds:,.0f}/s of CPU)"


def _scrape(cost: tuple[float, int]) -> str:
    return f"{cost[0] * 1000:.0f} ms ({cost[1] >> 10} KiB)"


def _ms(first: float, second: float) -> str:
    return f"{first * 1000:.0f} / {second * 1000:.0f} ms"


def _latency(seconds: float) -> str:
    return (
        f"> {DRAIN_SECONDS:g} s (never seen)"
        if math.isinf(seconds)
        else f"{seconds * 1000:,.0f} ms"
    )


# ---------------------------------------------------------------------------------- main


def load(broker: Broker, prefix: str, partitions: int, lines: list[str]) -> tuple[Topics, float]:
    """New topics holding `lines`; and the seconds producing them took."""
    topics = Topics(prefix=f"{prefix}{uuid.uuid4().hex[:8]}", partitions=partitions)
    # Created here, not by the worker: the events go in before it starts.
    ensure_topics(broker.bootstrap, topics)
    start = time.perf_counter()
    acknowledged = produce(broker.bootstrap, topics, lines)
    if acknowledged != len(lines):
        raise RuntimeError(f"Kafka acknowledged {acknowledged} of {len(lines)} events")
    return topics, time.perf_counter() - start


def run(args: argparse.Namespace, directory: Path) -> Results:
    load_before = load_average()
    registry = load_registry(None)
    backlog, live = backlog_lines(args.events, registry), recent_lines(registry)
    broker = Broker(directory / "kafka")
    workers: list[Worker] = []
    try:
        broker.start()
        topics, produce_seconds = load(broker, "backlog", args.partitions, backlog)
        workers.append(Worker(broker.bootstrap, topics, directory / "backlog.log"))
        throughput = measure_throughput(workers[-1], broker, len(backlog))
        backlog_scrape = scrape_cost(workers[-1])
        workers[-1].stop()  # one worker at a time: they would share the CPUs
        # A fresh worker holding a live worker's state for the latency run: the backlog's
        # squeezed 40 h hold far more records than NEL's, and /metrics reads every one.
        topics, _ = load(broker, "live", args.partitions, live)
        workers.append(Worker(broker.bootstrap, topics, directory / "live.log"))
        workers[-1].start()
        follow(workers[-1], len(live))
        live_scrape = scrape_cost(workers[-1])
        latency = measure_latency(workers[-1], broker.bootstrap, topics, args)
    finally:
        for worker in workers:
            worker.stop()
        broker.stop()
    load_after = load_average()
    warnings = {worker.topics.prefix[:-8]: warnings_in(worker.log_path) for worker in workers}
    # After the broker is gone: this process's CPU then competes with less.
    core = core_cost(backlog, registry)
    return Results(
        produce_seconds,
        throughput,
        backlog_scrape,
        len(live),
        live_scrape,
        latency,
        core,
        warnings,
        (load_before, load_after),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=30_000, help="pre-loaded for throughput")
    parser.add_argument("--rate", type=float, default=1_000.0, help="latency: events/s sent")
    parser.add_argument("--seconds", type=float, default=60.0, help="latency: how long to send")
    parser.add_argument("--poll", type=float, default=0.05, help="latency: /metrics every (s)")
    parser.add_argument("--partitions", type=int, default=12, choices=[6, 12])
    args = parser.parse_args()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="uecflow-bench-") as directory:
        results = run(args, Path(directory))
    report(args, results, time.perf_counter() - began)


if __name__ == "__main__":
    main()
