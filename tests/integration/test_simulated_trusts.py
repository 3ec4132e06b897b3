"""Simulator -> HTTPS-style gateway -> Kafka -> worker -> /metrics, on a real broker: the live
numbers equal `uecflow replay` of the simulator's own output."""

from __future__ import annotations

import hashlib
import secrets
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from streams.topics import Topics
from tests.integration.live_metrics import assert_same_metrics, scrape_when_lag_is_zero
from tools.harness import (
    UECFLOW,
    Broker,
    Worker,
    free_port,
    replay_document,
    scrape_as_of,
    wait_for,
)
from tools.processes import spawn
from uecflow.config import load_registry

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


@pytest.fixture
def tokens(run_dir: Path, topics: Topics) -> tuple[Path, dict[str, str]]:
    """A credentials file with one token per trust, and the tokens themselves."""
    tokens = {code: secrets.token_urlsafe(32) for code in load_registry(None).trusts}
    entries = [
        f'[[credentials]]\nid = "{code.lower()}-test"\ntrust = "{code}"\n'
        f'token_sha256 = "{hashlib.sha256(token.encode()).hexdigest()}"\n'
        for code, token in tokens.items()
    ]
    path = run_dir / f"{topics.prefix}-credentials.toml"
    path.write_text("\n".join(entries))
    return path, tokens


@pytest.fixture
def gateway(
    broker: Broker, topics: Topics, tokens: tuple[Path, dict[str, str]], run_dir: Path
) -> Iterator[str]:
    port = free_port()
    command = [
        str(UECFLOW), "gateway", "--credentials", str(tokens[0]),
        "--bootstrap", broker.bootstrap, "--topic-prefix", topics.prefix,
        "--partitions", str(topics.partitions), "--port", str(port),
        "--rate-limit", "1000", "--rate-burst", "1000",
    ]  # fmt: skip
    process = spawn(command, run_dir / f"{topics.prefix}-gateway.log")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(url, process), "the gateway to answer", 60)
        yield url
    finally:
        process.terminate()
        process.wait(30)


def _answers(url: str, process: subprocess.Popen[bytes]) -> bool:
    import urllib.error
    import urllib.request

    if process.poll() is not None:
        raise RuntimeError(f"the gateway exited with {process.returncode}")
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def simulate(*args: str) -> subprocess.CompletedProcess[str]:
    command = [str(UECFLOW), "simulate", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=True)


def test_simulated_trusts_posting_through_the_gateway_give_the_replays_numbers(
    broker: Broker,
    topics: Topics,
    worker: Worker,
    gateway: str,
    tokens: tuple[Path, dict[str, str]],
    run_dir: Path,
) -> None:
    # A day that ends an hour ago, so that every event is in the past of the worker's clock.
    start = (datetime.now(UTC) - timedelta(hours=25)).replace(microsecond=0)
    scenario = ["--start", start.isoformat(), "--hours", "24", "--seed", "5"]
    own_output = run_dir / f"{topics.prefix}-simulated.jsonl"
    simulate(*scenario, "--out", str(own_output))
    token_args = [
        arg for code, token in tokens[1].items() for arg in ("--token", f"{code}={token}")
    ]
    simulate(*scenario, "--gateway", gateway, *token_args, "--speed", "max")
    lines = own_output.read_text().splitlines()
    assert len(lines) > 5_000
    wait_for(lambda: _counted(worker) >= len(lines), "the worker to count every event", 180)
    samples = scrape_when_lag_is_zero(worker, broker, topics)
    assert_same_metrics(samples, replay_document(lines, scrape_as_of(samples)))


def _counted(worker: Worker) -> float:
    return sum(
        value
        for (name, _), value in worker.scrape().items()
        if name in {"uecflow_events_processed_total", "uecflow_events_duplicate_total"}
    )
