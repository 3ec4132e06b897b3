"""Simulated events to the HTTPS ingestion gateway, as each trust would send its own.

A trust's token may post only that trust's sites, so events are batched per trust and each batch
goes with its trust's token: `POST /v1/events`, a JSON array. A 503, 429 or 408 means "not now":
the batch is sent again (whole: the worker drops re-sent event ids) after the Retry-After the
gateway asked for. Events the gateway rejects (422, or listed as rejected in a 202) are counted
and reported, and the run goes on. A 401 (token refused) or 403 (events of another trust: the
token is not that trust's) stops the run at once, since every later batch would fare the same.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from events.contract import Event
from producers.simulator.sinks import SinkError

EVENTS_PATH = "/v1/events"
BATCH_SIZE = 500
MAX_ATTEMPTS = 10  # per batch, for "not now" answers and network errors alike
LONGEST_WAIT = 60.0  # seconds: a Retry-After beyond this is taken as this
_RETRY_STATUSES = frozenset({408, 429, 502, 503, 504})
_TOKEN_STATUSES = frozenset({401, 403})
_SHOWN_REASONS = 3


@dataclass(slots=True)
class TrustTally:
    accepted: int = 0
    rejected: int = 0
    retries: int = 0


@dataclass(slots=True)
class GatewaySink:
    url: str
    tokens: Mapping[str, str]  # trust code -> bearer token
    trust_of: Mapping[str, str]  # site code -> trust code
    client: httpx.Client
    report: Callable[[str], None]
    sleep: Callable[[float], None] = time.sleep
    batch_size: int = BATCH_SIZE
    tally: dict[str, TrustTally] = field(default_factory=dict)
    _batches: dict[str, list[str]] = field(default_factory=dict)

    def send(self, event: Event) -> None:
        trust = self.trust_of[event.site]
        batch = self._batches.setdefault(trust, [])
        batch.append(event.model_dump_json())
        if len(batch) >= self.batch_size:
            self._post(trust)

    def flush(self) -> None:
        for trust in list(self._batches):
            self._post(trust)

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.client.close()

    def _post(self, trust: str) -> None:
        lines = self._batches.pop(trust, [])
        if not lines:
            return
        tally = self.tally.setdefault(trust, TrustTally())
        body = ("[" + ",".join(lines) + "]").encode()
        headers = {
            "Authorization": f"Bearer {self.tokens[trust]}",
            "Content-Type": "application/json",
        }
        for attempt in range(1, MAX_ATTEMPTS + 1):
            wait = self._attempt(trust, body, headers, len(lines), tally)
            if wait is None:
                return
            if attempt == MAX_ATTEMPTS:
                break
            tally.retries += 1
            self.sleep(wait)
        raise SinkError(
            f"gateway still not accepting {trust}'s events after {MAX_ATTEMPTS} attempts"
        )

    def _attempt(
        self, trust: str, body: bytes, headers: dict[str, str], count: int, tally: TrustTally
    ) -> float | None:
        """Post once; None when the batch is settled, else how long to wait before retrying."""
        try:
            response = self.client.post(self.url, content=body, headers=headers)
        except httpx.TransportError as error:
            self.report(f"gateway unreachable ({type(error).__name__}): retrying")
            return 1.0
        status = response.status_code
        if status in _RETRY_STATUSES:
            return retry_after(response.headers.get("Retry-After"), datetime.now(UTC))
        if status in _TOKEN_STATUSES:
            raise SinkError(
                f"gateway refused trust {trust}'s events ({status}): check its token; "
                f"{_reasons(response) or _excerpt(response)}"
            )
        # A 2xx lists what it rejected; any other answer took nothing of the batch.
        rejected = len(_rejected(response)) if 200 <= status < 300 else count
        tally.accepted += count - rejected
        tally.rejected += rejected
        if rejected:
            why = _reasons(response) or _excerpt(response)
            self.report(
                f"gateway rejected {rejected} of {count} events of {trust} ({status}): {why}"
            )
        return None

    def summary(self) -> str:
        parts = [
            f"{trust} {t.accepted} accepted, {t.rejected} rejected, {t.retries} retries"
            for trust, t in sorted(self.tally.items())
        ]
        return "gateway: " + ("; ".join(parts) if parts else "nothing sent")


def _rejected(response: httpx.Response) -> list[dict[str, Any]]:
    """The gateway's list of rejected events, if its answer has one."""
    try:
        body = response.json()
    except ValueError:
        return []
    rejected = body.get("rejected") if isinstance(body, dict) else None
    return (
        [entry for entry in rejected if isinstance(entry, dict)]
        if isinstance(rejected, list)
        else []
    )


def _reasons(response: httpx.Response) -> str:
    shown = [
        f"{entry.get('event_id', '#' + str(entry.get('index')))}: {entry.get('reason')}"
        for entry in _rejected(response)[:_SHOWN_REASONS]
    ]
    return "; ".join(shown)


def _excerpt(response: httpx.Response) -> str:
    return " ".join(response.text.split())[:300]


def retry_after(value: str | None, now: datetime) -> float:
    """Seconds to wait as a Retry-After header asks (delay-seconds or an HTTP date)."""
    if not value:
        return 1.0
    text = value.strip()
    if text.isdigit():
        return min(float(text), LONGEST_WAIT)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return 1.0
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max(0.0, (when - now).total_seconds()), LONGEST_WAIT)


def events_url(base: str) -> str:
    """The gateway's events endpoint, given its base URL or the endpoint itself."""
    trimmed = base.rstrip("/")
    return trimmed if trimmed.endswith(EVENTS_PATH) else trimmed + EVENTS_PATH


def parse_tokens(entries: list[str], fallback: str | None) -> tuple[dict[str, str], str | None]:
    """`TRUST=TOKEN` entries (one trust each) and a bare `TOKEN` for every other trust."""
    tokens: dict[str, str] = {}
    default = fallback
    for entry in entries:
        trust, equals, token = entry.partition("=")
        if not equals:
            default = entry.strip()
        elif trust.strip() and token.strip():
            tokens[trust.strip()] = token.strip()
        else:
            raise ValueError(f"expected TRUST=TOKEN, got {entry.split('=')[0]!r}=...")
    return tokens, default
