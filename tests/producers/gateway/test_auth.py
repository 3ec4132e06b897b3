"""Only a trust's own, unrevoked token gets in, and only for its own sites."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.producers.gateway.conftest import (
    REVOKED_TOKEN,
    TOKENS,
    FakeClock,
    FakeSender,
    MakeClient,
    bearer,
    event,
)


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
