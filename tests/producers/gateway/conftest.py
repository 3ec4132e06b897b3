"""A gateway on FastAPI's test client, with a fake Kafka that records what it is given."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from producers.gateway import GatewaySettings, create_app
from producers.gateway.credentials import Credential, Credentials, hash_token
from producers.kafka.sender import Message, SendFailed
from uecflow.config import Registry, load_registry

with warnings.catch_warnings():
    # Starlette 1.x would rather the test client ran on `httpx2`; httpx works the same here.
    warnings.simplefilter("ignore", UserWarning)
    from fastapi.testclient import TestClient

TOKENS = {"R1H": "barts-" + "b" * 40, "RF4": "bhrut-" + "r" * 40, "RQX": "homerton-" + "h" * 40}
REVOKED_TOKEN = "old-barts-" + "o" * 40
SECRET = "PSEUDO-7731-NEVER-LOGGED"  # an attendance id that must never reach a log


def bearer(trust: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[trust]}"}


def event(site: str = "R1H12", event_id: str = "e-1", **fields: Any) -> dict[str, Any]:
    """A valid A&E arrival unless `fields` say otherwise."""
    return {
        "event_id": event_id,
        "event_type": "ae.arrival",
        "occurred_at": "2025-11-20T08:00:00Z",
        "site": site,
        "attendance_id": SECRET,
        **fields,
    }


@dataclass
class FakeSender:
    """Kafka as the gateway sees it: it acknowledges, or (with `failing`) it does not."""

    sent: list[Message] = field(default_factory=list)
    failing: bool = False
    crash: Exception | None = None

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def send_all(self, messages: Sequence[Message]) -> None:
        if self.crash is not None:
            raise self.crash
        if self.failing:
            raise SendFailed("KafkaTimeoutError")
        self.sent.extend(messages)


@dataclass
class FakeClock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


def credentials() -> Credentials:
    registry = load_registry(None)

    def of(trust: str, token: str, name: str, revoked: bool = False) -> Credential:
        sites = frozenset(registry.sites_of_trust(trust))
        digest = bytes.fromhex(hash_token(token))
        return Credential(name, trust, digest, revoked, sites=sites)

    entries = [of(trust, token, f"{trust}-main") for trust, token in TOKENS.items()]
    entries.append(of("R1H", REVOKED_TOKEN, "R1H-old", revoked=True))
    return Credentials(tuple(entries))


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_registry(None)


@pytest.fixture
def sender() -> FakeSender:
    return FakeSender()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


MakeClient = Callable[..., TestClient]


@pytest.fixture
def make_client(registry: Registry, sender: FakeSender, clock: FakeClock) -> Iterator[MakeClient]:
    """A test client for a gateway with default settings but for the ones given."""
    clients: list[TestClient] = []

    def make(**settings: Any) -> TestClient:
        defaults: dict[str, Any] = {"credentials": credentials(), "clock": clock}
        chosen = GatewaySettings(**(defaults | settings))
        client = TestClient(create_app(chosen, registry, sender), raise_server_exceptions=False)
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    return make_client()
