"""Thousands of malformed, hostile and half-right requests: never a 5xx but for Kafka's 503, and
nothing reaches Kafka that the worker's parser would refuse or that is another trust's site."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as note
from hypothesis import strategies as st

from events import EventParser
from producers.gateway import GatewaySettings, create_app
from streams.topics import Topics
from tests.producers.gateway.conftest import REVOKED_TOKEN, TOKENS, FakeSender, credentials, event
from uecflow.config import Registry, load_registry

pytestmark = pytest.mark.slow

REGISTRY = load_registry(None)
PARSER = EventParser(REGISTRY)
TOPICS = Topics()
FUZZ = settings(
    max_examples=1_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
REFUSALS = {400, 401, 403, 408, 413, 415, 422, 429}


@pytest.fixture(scope="module")
def sender() -> FakeSender:
    return FakeSender()


class DirectClient:
    """The app called in-process on one event loop: thousands of requests without the test
    client's thread hops. Unexpected errors come back as the server's 500, as a trust sees it."""

    def __init__(self, app: Any) -> None:
        self._loop = asyncio.new_event_loop()
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self._client = httpx.AsyncClient(transport=transport, base_url="http://gateway")

    def request(self, method: str, path: str, **options: Any) -> httpx.Response:
        return self._loop.run_until_complete(self._client.request(method, path, **options))

    def close(self) -> None:
        self._loop.run_until_complete(self._client.aclose())
        self._loop.close()


@pytest.fixture(scope="module")
def fuzz_client(registry: Registry, sender: FakeSender) -> Iterator[DirectClient]:
    # Small limits, so that the fuzzer reaches them too; no rate limit in the way.
    chosen = GatewaySettings(
        credentials=credentials(),
        max_body_bytes=64 * 1024,
        max_events=50,
        max_event_bytes=2_048,
        rate_per_second=1e9,
        rate_burst=10**9,
        failed_auth_per_second=1e9,
        failed_auth_burst=10**9,
    )
    client = DirectClient(create_app(chosen, registry, sender))
    yield client
    client.close()


# ---------------------------------------------------------------------------------- strategies

FIELDS = [
    "event_id", "event_type", "occurred_at", "site", "attendance_id", "department_type",
    "arrival_mode", "mental_health", "outcome", "ward", "ward_type", "beds_open_core",
    "beds_open_escalation", "beds_occupied", "nctr", "handover_id", "nhs_number",
]  # fmt: skip
TRICKY = [
    "", "R1H12", "RF4QH", "RQXM1", "RAL01", "ae.arrival", "ae.departure", "beds.ward_state",
    "ambulance.handover", "2025-11-20T08:00:00Z", "2025-11-20T08:00:00", "1763625600",
    "9999-12-31T23:59:59-01:00", "admitted", "adult_ga", "walk_in", "5", "\u2028", "\x00",
    "x" * 3_000, 0, 1, -1, 3, 1_000_001, 10**40, 1.0, True, False, None, [], {},
]  # fmt: skip
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(TRICKY)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
BASES = [
    event(),
    {**event(), "event_type": "ae.departure", "outcome": "admitted"},
    {**event(), "event_type": "ae.decision_to_admit"},
    {
        "event_id": "w",
        "event_type": "beds.ward_state",
        "occurred_at": "2025-11-20T08:00:00+01:00",
        "site": "R1H12",
        "ward": "Ward 3A",
        "ward_type": "adult_ga",
        "beds_open_core": 20,
        "beds_occupied": 21,
        "nctr": 2,
    },
    {
        "event_id": "h",
        "event_type": "ambulance.arrival",
        "occurred_at": "2025-11-20T08:00:00Z",
        "site": "R1H12",
        "handover_id": "h1",
    },
]


@st.composite
def near_events(draw: st.DrawFn) -> Any:
    """A valid event of some site, usually bent out of shape a little; sometimes not an object."""
    if draw(st.integers(0, 9)) == 0:
        return draw(JSON)
    chosen = dict(draw(st.sampled_from(BASES)))
    chosen["site"] = draw(st.sampled_from(sorted(REGISTRY.sites)))
    chosen["event_id"] = draw(st.text(min_size=1, max_size=12))
    for _ in range(draw(st.integers(0, 2))):
        name = draw(st.sampled_from(FIELDS) | st.text(max_size=8))
        if draw(st.booleans()):
            chosen.pop(name, None)
        else:
            chosen[name] = draw(JSON)
    return chosen


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    events = draw(st.lists(near_events(), min_size=0, max_size=6))
    form = draw(st.sampled_from(["array", "lines", "single"]))
    if form == "array":
        body = json.dumps(events).encode()
    elif form == "lines":
        body = b"\n".join(json.dumps(one).encode() for one in events)
    else:
        body = json.dumps(events[0] if events else {}).encode()
    damage = draw(st.sampled_from(["none", "none", "none", "cut", "insert", "replace"]))
    if damage == "cut" and body:
        body = body[: draw(st.integers(0, len(body) - 1))]
    elif damage == "insert":
        at = draw(st.integers(0, len(body)))
        body = body[:at] + draw(st.binary(min_size=1, max_size=8)) + body[at:]
    elif damage == "replace":
        body = draw(st.binary(max_size=512))
    return body


HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40).map(
    str.strip
)
AUTHORIZATIONS = st.sampled_from(
    [*(f"Bearer {token}" for token in TOKENS.values()), f"Bearer {REVOKED_TOKEN}", "", "Bearer "]
) | HEADER_TEXT.map(lambda text: f"Bearer {text}")
CONTENT_TYPES = (
    st.sampled_from(
        [
            None,
            "application/json",
            "application/x-ndjson",
            "application/jsonl",
            "application/json; charset=utf-8",
            "application/json; charset=utf-16",
            "text/plain",
            "multipart/form-data; boundary=x",
        ]
    )
    | HEADER_TEXT
)


# ----------------------------------------------------------------------------------- oracle


def _trust_of(authorization: str) -> str | None:
    for trust, token in TOKENS.items():
        if authorization == f"Bearer {token}":
            return trust
    return None


def _check(response: httpx.Response, authorization: str, sender: FakeSender) -> None:
    note(f"status {response.status_code}")  # shown by --hypothesis-show-statistics
    assert response.status_code == 202 or response.status_code in REFUSALS, response.text
    assert "Traceback" not in response.text
    body = response.json()
    trust = _trust_of(authorization)
    if trust is None:
        assert response.status_code == 401
    if response.status_code != 202:
        assert sender.sent == []
        return
    assert trust is not None
    assert len(sender.sent) == len(body["accepted"]) > 0
    own = set(REGISTRY.sites_of_trust(trust))
    for message, accepted in zip(sender.sent, body["accepted"], strict=True):
        parsed = PARSER.parse(message.value)  # raises if anything malformed got through
        assert parsed.site in own
        assert parsed.event_id == accepted["event_id"]
        assert (message.topic, message.key) == (TOPICS.for_event(parsed), parsed.site.encode())
    indexes = [entry["index"] for entry in body["accepted"] + body["rejected"]]
    assert len(indexes) == len(set(indexes))


# ------------------------------------------------------------------------------------ tests


OWN_TOKENS = st.sampled_from([f"Bearer {token}" for token in TOKENS.values()])
JSON_TYPES = st.sampled_from([None, "application/json", "application/x-ndjson"])


@FUZZ
@given(body=bodies(), authorization=OWN_TOKENS, content_type=JSON_TYPES)
def test_near_valid_batches_are_judged_event_by_event_and_only_good_ones_are_sent(
    fuzz_client: DirectClient,
    sender: FakeSender,
    body: bytes,
    authorization: str,
    content_type: str,
) -> None:
    sender.sent.clear()
    headers = {"Authorization": authorization}
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = fuzz_client.request("POST", "/v1/events", content=body, headers=headers)
    _check(response, authorization, sender)


@FUZZ
@given(
    body=st.binary(max_size=2_048) | st.text(max_size=500).map(str.encode),
    authorization=AUTHORIZATIONS,
    content_type=CONTENT_TYPES,
    headers=st.dictionaries(
        st.sampled_from(["Content-Encoding", "Content-Length", "Accept", "X-Anything"]),
        HEADER_TEXT,
        max_size=3,
    ),
    method=st.sampled_from(["POST", "POST", "PUT", "GET", "DELETE"]),
    path=st.sampled_from(["/v1/events", "/v1/events/", "/v1/events?x=1", "/health", "/v2/x"]),
)
def test_arbitrary_requests_never_get_a_5xx_or_reach_kafka_unparsed(
    fuzz_client: DirectClient,
    sender: FakeSender,
    body: bytes,
    authorization: str,
    content_type: str | None,
    headers: dict[str, str],
    method: str,
    path: str,
) -> None:
    sender.sent.clear()
    headers = {**headers, "Authorization": authorization}
    if content_type is not None:
        headers["Content-Type"] = content_type
    if "Content-Length" in headers and headers["Content-Length"] != str(len(body)):
        del headers["Content-Length"]  # a wrong length is the HTTP server's business, not ours
    response = fuzz_client.request(method, path, content=body, headers=headers)
    assert response.status_code < 500, response.text
    assert "Traceback" not in response.text
    if method == "POST" and path.split("?")[0] == "/v1/events":
        _check(response, authorization, sender)
    for message in sender.sent:
        parsed = PARSER.parse(message.value)
        trust = _trust_of(authorization)
        assert trust is not None
        assert parsed.site in REGISTRY.sites_of_trust(trust)


@settings(max_examples=200, deadline=None)
@given(body=bodies(), authorization=OWN_TOKENS)
def test_when_kafka_fails_every_judged_batch_is_503_or_a_refusal_and_nothing_counts(
    fuzz_client: DirectClient, sender: FakeSender, body: bytes, authorization: str
) -> None:
    sender.sent.clear()
    sender.failing = True
    try:
        response = fuzz_client.request(
            "POST", "/v1/events", content=body, headers={"Authorization": authorization}
        )
    finally:
        sender.failing = False
    assert response.status_code == 503 or response.status_code in REFUSALS - {401, 429}
    if response.status_code == 503:
        assert response.json()["accepted"] == []
        assert response.json()["not_acknowledged"]
        assert response.headers["Retry-After"]
