"""`uecflow gateway` run as an operator runs it, against the real broker: a batch over mutual TLS
is in Kafka when the answer is 202, and a broker outage under load loses nothing acknowledged."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from kafka import KafkaConsumer

from dashboards.queries import panel_queries
from events import EventParser
from producers.gateway.credentials import hash_token, new_token
from streams.core.intake import Stream
from streams.topics import Topics
from tests.integration.monitoring import Prometheus, missing_servers
from tools.harness import ROOT, UECFLOW, Broker, free_port, wait_for
from tools.processes import spawn
from uecflow.config import load_registry

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

ATTENDANCE = "att-GATEWAY-FAULT-MARKER"  # must never appear in the gateway's log


@dataclass
class Gateway:
    """`uecflow gateway` in a child process, with its own topics, port and token."""

    bootstrap: str
    topics: Topics
    directory: Path
    tls: tuple[Path, Path] | None = None  # the server's certificate and key
    client_tls: tuple[Path, Path] | None = None  # required of clients when given
    token: str = field(default_factory=new_token)  # Barts Health's
    bhrut_token: str = field(default_factory=new_token)
    port: int = field(default_factory=free_port)
    header_timeout: float = 10.0
    process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.directory / f"gateway-{self.topics.prefix}.log"

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def start(self) -> None:
        credentials = self.directory / f"credentials-{self.topics.prefix}.toml"
        credentials.write_text(
            f'[[credentials]]\nid = "barts-test"\ntrust = "R1H"\n'
            f'token_sha256 = "{hash_token(self.token)}"\n'
            f'[[credentials]]\nid = "bhrut-test"\ntrust = "RF4"\n'
            f'token_sha256 = "{hash_token(self.bhrut_token)}"\n'
        )
        command = [
            str(UECFLOW), "gateway",
            "--bootstrap", self.bootstrap,
            "--topic-prefix", self.topics.prefix,
            "--partitions", str(self.topics.partitions),
            "--credentials", str(credentials),
            "--port", str(self.port),
            "--kafka-timeout", "2",
            "--rate-limit", "1000",
            "--log-level", "info",
            "--header-timeout", str(self.header_timeout),
        ]  # fmt: skip
        if self.tls:
            command += ["--tls-cert", str(self.tls[0]), "--tls-key", str(self.tls[1])]
        if self.client_tls:
            command += ["--tls-client-ca", str(self.client_tls[0])]
        self.process = spawn(command, self.log_path, cwd=ROOT)
        wait_for(self.healthy, "the gateway to answer /health", 60)

    def client(self, timeout: float = 30, with_certificate: bool = True) -> httpx.Client:
        verify: ssl.SSLContext | bool = True
        if self.tls:
            verify = ssl.create_default_context(cafile=self.tls[0])
            if self.client_tls and with_certificate:
                verify.load_cert_chain(*self.client_tls)
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout, verify=verify)

    def healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"gateway exited with {self.process.returncode}: {self.log()}")
        try:
            with self.client(timeout=2) as client:
                return client.get("/health").status_code == 200
        except httpx.TransportError:
            return False

    def stop(self) -> None:
        """SIGTERM, and check the shutdown was the graceful one (uvicorn then re-raises the
        signal, so the exit status is -SIGTERM)."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(30) in (0, -signal.SIGTERM)
        assert "Application shutdown complete" in self.log()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def gateway_topics() -> Topics:
    return Topics(prefix=f"g{uuid.uuid4().hex[:10]}", partitions=3)


@pytest.fixture
def gateway(broker: Broker, gateway_topics: Topics, run_dir: Path) -> Iterator[Gateway]:
    gateway = Gateway(broker.bootstrap, gateway_topics, run_dir)
    gateway.start()
    yield gateway
    gateway.stop()


def _event(event_id: str, site: str = "R1H12") -> dict[str, Any]:
    return {
        "event_id": event_id,
        "event_type": "ae.arrival",
        "occurred_at": "2025-11-20T08:00:00Z",
        "site": site,
        "attendance_id": ATTENDANCE,
    }


def _in_kafka(
    broker: Broker, topics: Topics, wanted: set[str]
) -> dict[str, tuple[str, bytes, int]]:
    """Every message in the source topics from the start: event_id -> (topic, key, partition).
    Stops once every wanted id is seen, or when nothing more comes for a few seconds."""
    consumer = KafkaConsumer(
        *(topics.of(stream) for stream in Stream),
        bootstrap_servers=broker.bootstrap,
        auto_offset_reset="earliest",
        consumer_timeout_ms=5_000,
    )
    parser = EventParser(load_registry())
    found: dict[str, tuple[str, bytes, int]] = {}
    try:
        for message in consumer:
            event = parser.parse(message.value)  # the worker must be able to read every one
            found[event.event_id] = (message.topic, message.key, message.partition)
            if wanted <= set(found):
                break
    finally:
        consumer.close()
    return found


def _self_signed(directory: Path, name: str) -> tuple[Path, Path]:
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", f"/CN={name}",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def test_a_batch_over_mutual_tls_is_in_kafka_when_the_answer_is_202(
    broker: Broker, gateway_topics: Topics, run_dir: Path, tmp_path: Path
) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make test certificates")
    server, client = _self_signed(tmp_path, "gateway"), _self_signed(tmp_path, "trust")
    gateway = Gateway(broker.bootstrap, gateway_topics, run_dir, tls=server, client_tls=client)
    gateway.start()
    try:
        with (
            pytest.raises(httpx.TransportError),
            gateway.client(with_certificate=False) as stranger,
        ):
            stranger.post("/v1/events", json=[_event("no-certificate")])
        batch = [_event("tls-1"), _event("tls-2", "R1HNH"), _event("tls-3", "RF4QH")]
        with gateway.client() as trust:
            response = trust.post("/v1/events", json=batch)
            lines = "\n".join(json.dumps(_event(f"tls-line-{n}")) for n in range(3))
            ndjson = {"Content-Type": "application/x-ndjson"}
            assert trust.post("/v1/events", content=lines, headers=ndjson).status_code == 202
    finally:
        gateway.stop()
    assert response.status_code == 202
    assert [entry["event_id"] for entry in response.json()["accepted"]] == ["tls-1", "tls-2"]
    assert response.json()["rejected"][0]["status"] == 403
    wanted = {"tls-1", "tls-2", "tls-line-0", "tls-line-1", "tls-line-2"}
    found = _in_kafka(broker, gateway_topics, wanted)
    assert set(found) == wanted  # and not "no-certificate"
    # In the partition Kafka's default partitioner gives the site, as other producers do.
    for site, event_id in (("R1H12", "tls-1"), ("R1HNH", "tls-2")):
        partition = gateway_topics.partition_of(site)
        assert found[event_id] == (gateway_topics.of(Stream.AE), site.encode(), partition)
    assert ATTENDANCE not in gateway.log()
    assert gateway.token not in gateway.log()


@dataclass
class Poster:
    """Posts numbered batches in a loop from a thread and records every answer."""

    gateway: Gateway
    answers: list[tuple[list[str], int]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        sites = ("R1H12", "R1HKH", "R1HNH")
        with self.gateway.client() as client:
            number = 0
            while not self.stop.is_set():
                ids = [f"b{number}-{n}" for n in range(20)]
                batch = [_event(event_id, sites[n % 3]) for n, event_id in enumerate(ids)]
                try:
                    status = client.post("/v1/events", json=batch).status_code
                except httpx.HTTPError as error:
                    self.failures.append(f"batch {number}: {type(error).__name__}")
                else:
                    self.answers.append((ids, status))
                number += 1
                self.stop.wait(0.02)  # pacing, so the topics stay small

    def count(self, status: int, after: int = 0) -> int:
        return sum(1 for _, answer in self.answers[after:] if answer == status)


def test_a_broker_outage_loses_no_acknowledged_event_and_every_other_batch_is_503(
    broker: Broker, gateway: Gateway, gateway_topics: Topics
) -> None:
    poster = Poster(gateway)
    thread = threading.Thread(target=poster.run)
    thread.start()
    stopped = False
    try:
        wait_for(lambda: poster.count(202) >= 5, "batches acknowledged before the outage", 30)
        broker.stop()
        stopped = True
        stopped_at = len(poster.answers)
        wait_for(lambda: poster.count(503, stopped_at) >= 2, "503s while Kafka is down", 30)
        broker.start()
        stopped = False
        started_at = len(poster.answers)
        wait_for(lambda: poster.count(202, started_at) >= 5, "202s after the restart", 60)
    finally:
        poster.stop.set()
        thread.join(60)
        if stopped:
            broker.start()  # the session's other tests need the broker
    gateway.stop()
    assert poster.failures == []
    assert {status for _, status in poster.answers} == {202, 503}
    acknowledged = {event_id for ids, status in poster.answers if status == 202 for event_id in ids}
    found = _in_kafka(broker, gateway_topics, acknowledged)
    missing = acknowledged - set(found)
    assert not missing, f"{len(missing)} acknowledged events are not in Kafka, e.g. {min(missing)}"
    assert all(
        partition == gateway_topics.partition_of(key.decode())
        for _, key, partition in found.values()
    )
    assert ATTENDANCE not in gateway.log()


@pytest.mark.monitoring
@pytest.mark.skipif(bool(missing_servers()), reason=str(missing_servers()))
def test_each_trusts_rejections_are_its_own_on_metrics_and_in_its_alert(
    gateway: Gateway, run_dir: Path
) -> None:
    """Barts Health and BHRUT each post a batch with bad events: the gateway's counters, read by
    a real Prometheus with the generated rules, and the alert each trust gets, carry that trust
    alone, with its own reasons."""
    prometheus = Prometheus(run_dir / f"prometheus-{gateway.topics.prefix}")
    prometheus.start([], rule_files=[ROOT / "alerts" / "generated" / "uecflow.rules.yml"],
                     jobs={"uecflow-gateway": [f"127.0.0.1:{gateway.port}"]})  # fmt: skip
    try:
        wait_for(lambda: prometheus.query('up{job="uecflow-gateway"} == 1'), "a scrape", 60)
        bad = {**_event("bad"), "occurred_at": "yesterday"}
        barts = [bad, bad, _event("ok-1"), _event("theirs", "RF4QH")]
        with gateway.client() as client:
            assert client.post("/v1/events", json=barts).status_code == 202
        bhrut = [{**_event("bhrut-bad", "RF4DG"), "department_type": 9}, _event("ok-2", "RF4DG")]
        headers = {"Authorization": f"Bearer {gateway.bhrut_token}"}
        with gateway.client() as client:
            assert client.post("/v1/events", json=bhrut, headers=headers).status_code == 202

        def firing() -> dict[str, dict[str, str]]:
            query = 'ALERTS{alertname="UecflowTrustEventsRejected",alertstate="firing"}'
            return {s["metric"]["trust"]: s["metric"] for s in prometheus.query(query)}

        alerts = wait_for(lambda: len(firing()) == 2 and firing(), "both trusts' alerts", 90)
        assert set(alerts) == {"R1H", "RF4"}
        for labels in alerts.values():
            assert set(labels) == {"__name__", "alertname", "alertstate", "severity", "trust"}
        counted = "sum by (trust, site, reason) (uecflow_gateway_events_rejected_total) > 0"
        found = {
            (s["metric"]["trust"], s["metric"]["site"], s["metric"]["reason"]): s["value"][1]
            for s in prometheus.query(counted)
        }
        assert found == {
            ("R1H", "R1H12", "contract"): "2",
            ("R1H", "RF4QH", "not_its_site"): "1",
            ("RF4", "RF4DG", "contract"): "1",
        }
        # The trusts' feeds board: every query answers for Barts Health, from this gateway.
        board = json.loads(
            (ROOT / "dashboards" / "generated" / "uecflow-trust-feeds.json").read_text()
        )
        queries = panel_queries(board, {"trust": "R1H"})
        assert len(queries) == 7

        def unanswered() -> list[str]:
            return [q.panel_title for q in queries if not prometheus.query(q.expr)]

        wait_for(lambda: not unanswered(), "every trust-feeds query to answer", 30)
    finally:
        prometheus.stop()


SLOW_CLIENTS = 1_000


def test_a_thousand_slow_clients_neither_starve_a_trust_nor_stay_connected(
    broker: Broker, gateway_topics: Topics, run_dir: Path
) -> None:
    """A thousand connections that open a request and trickle its headers (no token yet, as a
    careless or hostile client would): a trust's request is still answered within a second,
    and the slow connections are closed at the header deadline."""
    gateway = Gateway(broker.bootstrap, gateway_topics, run_dir, header_timeout=3.0)
    gateway.start()
    slow: list[socket.socket] = []
    try:
        for _ in range(SLOW_CLIENTS):
            connection = socket.create_connection(("127.0.0.1", gateway.port), timeout=10)
            connection.sendall(b"POST /v1/events HTTP/1.1\r\nHost: gateway\r\nX-Slow: ")
            slow.append(connection)
        with gateway.client(timeout=5) as client:
            for number in range(5):
                started = time.monotonic()
                answer = client.post("/v1/events", json=_event(f"while-slow-{number}"))
                assert answer.status_code == 202
                assert time.monotonic() - started < 1.0
        for connection in slow:  # still trickling, a byte at a time
            connection.sendall(b"x")

        def all_closed() -> bool:
            return all(_closed(connection) for connection in slow)

        wait_for(all_closed, "the gateway to close every slow connection", 30)
        assert gateway.process is not None
        assert gateway.process.poll() is None
        assert "Too many open files" not in gateway.log()
    finally:
        for connection in slow:
            connection.close()
        gateway.stop()


def _closed(connection: socket.socket) -> bool:
    """The server closed it: a read sees the end (not a timeout)."""
    connection.settimeout(0.01)
    try:
        return connection.recv(1) == b""
    except TimeoutError:
        return False
    except OSError:
        return True
