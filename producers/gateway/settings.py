"""What one ingestion gateway is set up with: its credentials, topics, limits and clock.

The defaults are the published limits (see `uecflow gateway --help` for the options that change
them): 1 MiB and 1,000 events a request, 16 KiB an event, 50 requests/s per trust with bursts
of 100, 30 s for a body to arrive, and Retry-After 5 s when Kafka does not acknowledge. `epr`
holds, by trust, the EPR adapter settings `POST /fhir/Encounter` maps that trust's Encounters
with (`--epr-settings`); a trust without any cannot post Encounters.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from producers.epr.settings import AdapterSettings
from producers.gateway.credentials import Credentials
from streams.topics import Topics

MiB = 1024 * 1024


class CredentialSource(Protocol):
    """The tokens in force now (a `CredentialsFile` re-reads its file when it changes)."""

    def current(self) -> Credentials: ...


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    credentials: CredentialSource
    topics: Topics = field(default_factory=Topics)
    max_body_bytes: int = MiB
    max_events: int = 1_000
    max_event_bytes: int = 16 * 1024
    rate_per_second: float = 50.0
    rate_burst: int = 100
    # Failed authentications from one address: a guesser, or an engine with an old token.
    failed_auth_per_second: float = 1.0
    failed_auth_burst: int = 20
    retry_after_seconds: int = 5
    body_timeout_seconds: float = 30.0
    clock: Callable[[], float] = time.monotonic
    # The wall clock, for token expiry dates.
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    epr: Mapping[str, AdapterSettings] = field(default_factory=dict)
