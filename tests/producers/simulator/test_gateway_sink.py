"""Sending to the gateway as each trust: tokens, batches, "not now", and refusals reported."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from events.contract import Event
from producers.simulator.gateway_sink import (
    GatewaySink,
    events_url,
    parse_tokens,
    retry_after,
)
from producers.simulator.pacing import deliver
from producers.simulator.sinks import SinkError
from tests.producers.simulator.runs import REGISTRY, run
from uecflow.cli import main as uecflow

TOKENS = {"R1H": "token-barts", "RF4": "token-bhrut", "RQX": "token-homerton"}
TRUST_OF_TOKEN = {token: trust for trust, token in TOKENS.items()}
Handler = Callable[[httpx.Request], httpx.Response]


def _sink(
    handler: Handler, slept: list[float], reports: list[str] | None = None, batch_size: int = 500
) -> GatewaySink:
    return GatewaySink(
        url="https://gateway.example/v1/events",
        tokens=TOKENS,
        trust_of={code: site.trust for code, site in REGISTRY.sites.items()},
        client=httpx.Client(transport=httpx.MockTransport(handler)),
        report=(reports if reports is not None else []).append,
        sleep=slept.append,
        batch_size=batch_size,
    )


def _accept_all(request: httpx.Request) -> httpx.Response:
    events = json.loads(request.content)
    accepted = [{"index": i, "event_id": e["event_id"]} for i, e in enumerate(events)]
    return httpx.Response(202, json={"accepted": accepted, "rejected": []})


@pytest.fixture(scope="module")
def events() -> list[Event]:
    return run(sites=("R1H12", "RF4QH", "RQXM1"), hours=1)


def test_each_trusts_events_go_with_its_own_token_in_batches(events: list[Event]) -> None:
    seen: list[tuple[str, list[str]]] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        token = request.headers["Authorization"].removeprefix("Bearer ")
        seen.append((TRUST_OF_TOKEN[token], [e["site"] for e in json.loads(request.content)]))
        return _accept_all(request)

    sink = _sink(gateway, [], batch_size=50)
    deliver(events, sink, None)
    assert sum(len(sites) for _, sites in seen) == len(events)
    for trust, sites in seen:
        assert 0 < len(sites) <= 50
        assert {REGISTRY.sites[site].trust for site in sites} == {trust}
    assert sink.tally["RF4"].accepted == sum(1 for e in events if e.site == "RF4QH")


def test_not_now_is_retried_after_the_wait_the_gateway_asks_for(events: list[Event]) -> None:
    answers = iter(
        [
            httpx.Response(503, headers={"Retry-After": "7"}, json={"accepted": []}),
            httpx.Response(429, headers={"Retry-After": "2"}, json={"error": "slow down"}),
        ]
    )

    def gateway(request: httpx.Request) -> httpx.Response:
        return next(answers, None) or _accept_all(request)

    slept: list[float] = []
    sink = _sink(gateway, slept)
    deliver(events, sink, None)
    assert slept == [7.0, 2.0]
    assert sum(t.accepted for t in sink.tally.values()) == len(events)
    assert sum(t.retries for t in sink.tally.values()) == 2


def test_rejected_events_are_counted_and_reported_and_the_run_goes_on(
    events: list[Event],
) -> None:
    def gateway(request: httpx.Request) -> httpx.Response:
        sent = json.loads(request.content)
        if sent[0]["site"] == "RQXM1":
            refused = [
                {
                    "index": 0,
                    "event_id": sent[0]["event_id"],
                    "status": 422,
                    "field": "site",
                    "reason": "not today",
                }
            ]
            return httpx.Response(202, json={"accepted": [], "rejected": refused})
        return httpx.Response(422, json={"accepted": [], "rejected": []})

    reports: list[str] = []
    sink = _sink(gateway, [], reports)
    deliver(events, sink, None)
    homerton = sum(1 for e in events if e.site == "RQXM1")
    assert sink.tally["RQX"].rejected == 1
    assert sink.tally["RQX"].accepted == homerton - 1
    assert sink.tally["RF4"].rejected == sum(1 for e in events if e.site == "RF4QH")
    assert any("not today" in line for line in reports)
    assert "RQX 0 accepted" not in sink.summary()
    assert "1 rejected" in sink.summary()


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_token_stops_the_run(events: list[Event], status: int) -> None:
    sink = _sink(lambda _: httpx.Response(status, json={"error": "who are you"}), [])
    with pytest.raises(SinkError, match="check its token"):
        deliver(events, sink, None)


def test_a_gateway_that_never_takes_the_batch_gives_up_in_the_end(events: list[Event]) -> None:
    def gateway(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    slept: list[float] = []
    with pytest.raises(SinkError, match="still not accepting"):
        deliver(events, _sink(gateway, slept), None)
    assert len(slept) == 9


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    assert retry_after("5", now) == 5.0
    assert retry_after("Thu, 15 Jan 2026 12:00:30 GMT", now) == 30.0
    assert retry_after("Thu, 15 Jan 2026 11:00:00 GMT", now) == 0.0
    assert retry_after("3600", now) == 60.0  # capped
    assert retry_after(None, now) == retry_after("soon", now) == 1.0


def test_the_events_path_is_added_to_a_base_url_once() -> None:
    assert events_url("https://g.example") == "https://g.example/v1/events"
    assert events_url("https://g.example/v1/events/") == "https://g.example/v1/events"


def test_tokens_per_trust_and_one_for_the_rest() -> None:
    assert parse_tokens(["R1H=a", "RF4 = b"], None) == ({"R1H": "a", "RF4": "b"}, None)
    assert parse_tokens(["shared"], "from-env") == ({}, "shared")
    assert parse_tokens([], "from-env") == ({}, "from-env")
    with pytest.raises(ValueError, match="TRUST=TOKEN"):
        parse_tokens(["=x"], None)


def test_a_token_file_and_the_environment_fill_in_every_trust(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text("# one per trust\nR1H=barts\n\nRF4=bhrut\n")
    monkeypatch.setenv("UECFLOW_GATEWAY_TOKEN", "homerton")
    seen: dict[str, str] = {}

    def gateway(request: httpx.Request) -> httpx.Response:
        site = json.loads(request.content)[0]["site"]
        seen[REGISTRY.sites[site].trust] = request.headers["Authorization"]
        return _accept_all(request)

    real_client = httpx.Client
    monkeypatch.setattr(
        "producers.simulator.cli.httpx.Client",
        lambda **_: real_client(transport=httpx.MockTransport(gateway)),
    )
    arguments = ["--start", "2026-01-15", "--hours", "1", "--speed", "max"]
    options = [*arguments, "--gateway", "https://g.example", "--token-file", str(tokens)]
    assert uecflow(["simulate", *options]) == 0
    assert seen == {"R1H": "Bearer barts", "RF4": "Bearer bhrut", "RQX": "Bearer homerton"}
