"""The gateway's /metrics: each trust's requests, accepted and rejected events, with the reason
and the site where it is known, under that trust's label only."""

from __future__ import annotations

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.producers.gateway.conftest import SECRET, bearer, event

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scraped(client: TestClient) -> Samples:
    answer = client.get("/metrics")
    assert answer.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def rejected(samples: Samples, trust: str) -> dict[tuple[str, str], float]:
    return {
        (labels["site"], labels["reason"]): value
        for (name, pairs), value in samples.items()
        if name == "uecflow_gateway_events_rejected_total"
        and (labels := dict(pairs))["trust"] == trust
        and value
    }


def test_each_trusts_rejections_are_counted_under_its_own_label(client: TestClient) -> None:
    before = scraped(client)
    assert rejected(before, "R1H") == {}
    # Every trust's series exist at 0 before the first rejection (increase() needs them).
    key = ("uecflow_gateway_events_rejected_total",
           (("reason", "contract"), ("site", "RQXM1"), ("trust", "RQX")))  # fmt: skip
    assert before[key] == 0
    bad = {**event("R1H12"), "occurred_at": "yesterday"}
    barts = [bad, bad, event("RF4QH"), "not an object", event("R1HKH")]
    assert client.post("/v1/events", json=barts, headers=bearer("R1H")).status_code == 202
    bhrut = [{**event("RF4DG"), "department_type": 9}]
    assert client.post("/v1/events", json=bhrut, headers=bearer("RF4")).status_code == 422
    after = scraped(client)
    assert rejected(after, "R1H") == {
        ("R1H12", "contract"): 2,
        ("RF4QH", "not_its_site"): 1,
        ("", "contract"): 1,
    }
    assert rejected(after, "RF4") == {("RF4DG", "contract"): 1}
    assert rejected(after, "RQX") == {}
    accepted = after[
        ("uecflow_gateway_events_accepted_total", (("site", "R1HKH"), ("trust", "R1H")))
    ]
    assert accepted == 1
    requests = ("uecflow_gateway_requests_total", (("status", "202"), ("trust", "R1H")))
    assert after[requests] == 1


def test_a_request_without_a_token_is_counted_under_no_trust(client: TestClient) -> None:
    assert client.post("/v1/events", json=event("R1H12")).status_code == 401
    after = scraped(client)
    assert after[("uecflow_gateway_requests_total", (("status", "401"), ("trust", "")))] == 1


def test_nothing_on_metrics_names_a_token_an_event_or_an_id(client: TestClient) -> None:
    client.post("/v1/events", json=[{**event("R1H12"), "attendance_id": ""}], headers=bearer("R1H"))
    text = client.get("/metrics").text
    assert SECRET not in text
    assert "e-1" not in text
    assert "bearer" not in text.lower()
