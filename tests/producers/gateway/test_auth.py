"""Only a trust's own, unrevoked token gets in, and only for its own sites."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from producers.gateway.credentials import Credentials, hash_token, parse_credentials
from tests.producers.gateway.conftest import (
    REVOKED_TOKEN,
    TOKENS,
    FakeClock,
    FakeSender,
    MakeClient,
    bearer,
    event,
)
from uecflow.config import Registry


@pytest.mark.parametrize(
    ("headers", "challenge"),
    [
        ({}, 'Bearer realm="uecflow"'),
        ({"Authorization": "Basic YmFydHM6c2VjcmV0"}, 'Bearer realm="uecflow"'),
        ({"Authorization": "Bearer"}, 'Bearer realm="uecflow"'),
        ({"Authorization": "Bearer not-a-token-anyone-was-given-xxxxxxxxxx"}, "invalid_token"),
        ({"Authorization": f"Bearer {TOKENS['R1H']}x"}, "invalid_token"),
        ({"Authorization": f"Bearer {REVOKED_TOKEN}"}, "invalid_token"),
    ],
    ids=["missing", "basic", "empty", "unknown", "altered", "revoked"],
)
def test_no_valid_token_is_401_with_a_challenge_and_nothing_sent(
    client: TestClient, sender: FakeSender, headers: dict[str, str], challenge: str
) -> None:
    response = client.post("/v1/events", json=event(), headers=headers)
    assert response.status_code == 401
    assert challenge in response.headers["WWW-Authenticate"]
    assert set(response.json()) == {"error"}
    assert sender.sent == []


def test_the_scheme_name_is_case_insensitive(client: TestClient) -> None:
    headers = {"Authorization": f"bearer {TOKENS['RQX']}"}
    assert client.post("/v1/events", json=event("RQXM1"), headers=headers).status_code == 202


@pytest.mark.parametrize(("trust", "site"), [("R1H", "RF4QH"), ("RF4", "RQXM1"), ("RQX", "R1H12")])
def test_a_trust_cannot_post_for_another_trusts_site(
    client: TestClient, sender: FakeSender, trust: str, site: str
) -> None:
    response = client.post("/v1/events", json=event(site), headers=bearer(trust))
    assert response.status_code == 403
    (rejected,) = response.json()["rejected"]
    assert rejected["status"] == 403
    assert rejected["field"] == "site"
    assert site in rejected["reason"]
    assert sender.sent == []


def test_in_a_batch_only_the_other_trusts_events_are_refused(
    client: TestClient, sender: FakeSender
) -> None:
    batch = [event("R1H12", "a"), event("RF4QH", "b"), event("R1HNH", "c"), event("RQXM1", "d")]
    response = client.post("/v1/events", json=batch, headers=bearer("R1H"))
    assert response.status_code == 202
    body = response.json()
    assert [entry["event_id"] for entry in body["accepted"]] == ["a", "c"]
    assert [(entry["index"], entry["status"]) for entry in body["rejected"]] == [(1, 403), (3, 403)]
    assert sorted(message.key for message in sender.sent) == [b"R1H12", b"R1HNH"]


def test_an_invalid_event_for_another_trusts_site_is_403_not_422(client: TestClient) -> None:
    bad = event("RF4QH", nhs_number="9990000001")
    response = client.post("/v1/events", json=[bad], headers=bearer("R1H"))
    assert response.status_code == 403
    assert response.json()["rejected"][0]["status"] == 403


def test_a_batch_of_another_trusts_events_and_invalid_ones_is_422(client: TestClient) -> None:
    batch = [event("RF4QH"), event("R1H12", department_type=9)]
    response = client.post("/v1/events", json=batch, headers=bearer("R1H"))
    assert response.status_code == 422
    assert [entry["status"] for entry in response.json()["rejected"]] == [403, 422]


def test_an_address_that_keeps_failing_to_authenticate_is_slowed_down(
    make_client: MakeClient, clock: FakeClock
) -> None:
    client = make_client(failed_auth_per_second=1.0, failed_auth_burst=3)
    wrong = {"Authorization": "Bearer not-a-token-anyone-was-given-xxxxxxxxxx"}
    statuses = [client.post("/v1/events", json=event(), headers=wrong) for _ in range(4)]
    assert [response.status_code for response in statuses] == [401, 401, 401, 429]
    assert statuses[-1].headers["Retry-After"] == "1"
    # Slowed down, even with the right token, until the address has waited.
    assert client.post("/v1/events", json=event(), headers=bearer("R1H")).status_code == 429
    clock.now += 1.0
    assert client.post("/v1/events", json=event(), headers=bearer("R1H")).status_code == 202


LAS_TOKEN = "uecflow_" + "l" * 43


def las_credentials(registry: Registry, expires: str | None = None) -> Credentials:
    entry = (
        '[[credentials]]\nid = "las-cad"\ntrust = "LAS"\nsites = ["*"]\n'
        f'event_types = ["ambulance.*"]\ntoken_sha256 = "{hash_token(LAS_TOKEN)}"\n'
    )
    return parse_credentials(entry + (f"expires = {expires}\n" if expires else ""), registry)


def handover_at(site: str, event_id: str) -> dict[str, str]:
    return {
        "event_id": event_id,
        "event_type": "ambulance.handover",
        "occurred_at": "2025-11-20T08:00:00Z",
        "site": site,
        "handover_id": "x",
    }


def test_the_ambulance_service_posts_handovers_for_every_site_and_nothing_else(
    make_client: MakeClient, registry: Registry, sender: FakeSender
) -> None:
    client = make_client(credentials=las_credentials(registry))
    headers = {"Authorization": f"Bearer {LAS_TOKEN}"}
    for number, site in enumerate(registry.sites):
        handover = handover_at(site, f"h-{number}")
        assert client.post("/v1/events", json=handover, headers=headers).status_code == 202, site
    assert len(sender.sent) == len(registry.sites)
    refused = client.post("/v1/events", json=event("RQXM1"), headers=headers)
    assert refused.status_code == 403
    (rejected,) = refused.json()["rejected"]
    assert rejected["field"] == "event_type"
    assert "'ae.arrival' is not one this token may post (ambulance.*)" in rejected["reason"]
    assert len(sender.sent) == len(registry.sites)


def test_a_token_past_its_expiry_date_gets_401(make_client: MakeClient, registry: Registry) -> None:
    day = datetime(2026, 11, 30, 12, tzinfo=UTC)
    client = make_client(credentials=las_credentials(registry, "2026-12-01"), now=lambda: day)
    headers = {"Authorization": f"Bearer {LAS_TOKEN}"}
    handover = handover_at("RQXM1", "h-1")
    assert client.post("/v1/events", json=handover, headers=headers).status_code == 202
    expired = make_client(
        credentials=las_credentials(registry, "2026-11-30"), now=lambda: day
    ).post("/v1/events", json=handover, headers=headers)
    assert expired.status_code == 401
    assert expired.json()["error"] == "the token has expired: ask for a new one"
