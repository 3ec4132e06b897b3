"""What a trust's integration engine sees for each kind of body, and what reaches Kafka."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient

from events import EventParser
from tests.producers.gateway.conftest import (
    SECRET,
    TOKENS,
    FakeClock,
    FakeSender,
    MakeClient,
    bearer,
    event,
)
from uecflow.config import load_registry
from uecflow.logs import JsonFormatter

NDJSON = {"Content-Type": "application/x-ndjson"}


def _lines(*events: dict[str, object]) -> bytes:
    return b"".join(json.dumps(one).encode() + b"\n" for one in events)


def test_one_event_goes_to_its_streams_topic_keyed_by_site_as_sent(
    client: TestClient, sender: FakeSender
) -> None:
    body = json.dumps(event("R1HKH", "one"), indent=2).encode()
    headers = {**bearer("R1H"), "Content-Type": "application/json"}
    response = client.post("/v1/events", content=body, headers=headers)
    assert response.status_code == 202
    assert response.json() == {"accepted": [{"index": 0, "event_id": "one"}], "rejected": []}
    (message,) = sender.sent
    assert (message.topic, message.key, message.value) == ("uecflow.ae", b"R1HKH", body)


def test_an_array_goes_to_kafka_one_compact_event_per_message(
    client: TestClient, sender: FakeSender
) -> None:
    ward = event(
        "RF4DG",
        "w",
        event_type="beds.ward_state",
        ward="Ward 3A",
        ward_type="adult_ga",
        beds_open_core=20,
        beds_occupied=19,
    )
    del ward["attendance_id"]
    batch = [event("RF4QH", "a"), ward]
    response = client.post("/v1/events", json=batch, headers=bearer("RF4"))
    assert response.status_code == 202
    assert [(m.topic, m.key) for m in sender.sent] == [
        ("uecflow.ae", b"RF4QH"),
        ("uecflow.beds", b"RF4DG"),
    ]
    assert [json.loads(m.value) for m in sender.sent] == batch
    assert all(b" " not in m.value.replace(b"Ward 3A", b"") for m in sender.sent)


@pytest.mark.parametrize(
    "headers",
    [NDJSON, {"Content-Type": "application/jsonl"}, {"Content-Type": "application/json"}, {}],
    ids=["ndjson", "jsonl", "json-sniffed", "none-sniffed"],
)
def test_json_lines_are_read_line_by_line(
    client: TestClient, sender: FakeSender, headers: dict[str, str]
) -> None:
    body = _lines(event(event_id="a")) + b"\r\n" + _lines(event(event_id="b"))
    response = client.post("/v1/events", content=body, headers={**bearer("R1H"), **headers})
    assert response.status_code == 202
    assert response.json()["accepted"] == [
        {"index": 0, "event_id": "a"},
        {"index": 2, "event_id": "b"},  # the line number less one: blank lines count
    ]
    assert [m.value for m in sender.sent] == [json.dumps(event(event_id=i)).encode() for i in "ab"]


def test_a_broken_event_is_422_with_the_field_and_the_reason(client: TestClient) -> None:
    bad = event(occurred_at="2025-11-20T08:00:00")
    response = client.post("/v1/events", json=bad, headers=bearer("R1H"))
    assert response.status_code == 422
    assert response.json() == {
        "accepted": [],
        "rejected": [
            {
                "index": 0,
                "event_id": "e-1",
                "status": 422,
                "field": "occurred_at",
                "reason": "occurred_at: must be an RFC 3339 timestamp with an offset, "
                "e.g. 2025-01-31T08:00:00Z",
            }
        ],
    }


def test_valid_events_of_a_batch_are_accepted_and_broken_ones_listed(
    client: TestClient, sender: FakeSender
) -> None:
    body = _lines(event(event_id="ok")) + b'{"event_id": "cut", "site": "R1H12"\n'
    body += _lines(event(event_id="extra", nhs_number="9990000001"), event(site="RAL01"))
    response = client.post("/v1/events", content=body, headers={**bearer("R1H"), **NDJSON})
    assert response.status_code == 202
    rejected = response.json()["rejected"]
    assert [(r["index"], r["event_id"], r["field"]) for r in rejected] == [
        (1, None, None),
        (2, "extra", "nhs_number"),
        (3, "e-1", "site"),
    ]
    assert rejected[0]["reason"].startswith("not valid JSON")
    assert "not in the site registry" in rejected[2]["reason"]
    assert [m.value for m in sender.sent] == [json.dumps(event(event_id="ok")).encode()]


def test_re_posting_the_same_event_is_accepted_again(
    client: TestClient, sender: FakeSender
) -> None:
    for _ in range(2):
        assert client.post("/v1/events", json=event(), headers=bearer("R1H")).status_code == 202
    assert len(sender.sent) == 2  # the worker drops the second by its event_id


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"", 400),
        (b" \n\r\n ", 400),
        (b"[]", 400),
        (b'[{"event_id": "a",]', 400),
        (b"[" * 50_000, 400),
        (b'[{"a": NaN}]', 400),
        (b"[\xff\xfe]", 400),
        (b"null", 422),
        (b'"an event"', 422),
        (b"{not json", 422),
        (b"\x00\x01\x02", 422),
        (b"{" * 50_000, 422),
    ],
)
def test_malformed_bodies_are_4xx_and_send_nothing(
    client: TestClient, sender: FakeSender, body: bytes, status: int
) -> None:
    response = client.post("/v1/events", content=body, headers=bearer("R1H"))
    assert response.status_code == status
    assert sender.sent == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "text/plain"},
        {"Content-Type": "application/x-www-form-urlencoded"},
        {"Content-Type": "application/json; charset=latin-1"},
        {"Content-Type": "application/json", "Content-Encoding": "gzip"},
    ],
)
def test_a_body_in_another_form_is_415(
    client: TestClient, sender: FakeSender, headers: dict[str, str]
) -> None:
    response = client.post(
        "/v1/events", content=_lines(event()), headers={**bearer("R1H"), **headers}
    )
    assert response.status_code == 415
    assert sender.sent == []


def test_a_utf8_charset_is_fine(client: TestClient) -> None:
    headers = {**bearer("R1H"), "Content-Type": 'application/json; charset="UTF-8"'}
    assert client.post("/v1/events", content=_lines(event()), headers=headers).status_code == 202


def test_a_body_over_the_limit_is_413_whether_declared_or_streamed(
    make_client: MakeClient, sender: FakeSender
) -> None:
    client = make_client(max_body_bytes=1_000)
    body = _lines(*(event(event_id=str(n)) for n in range(10)))
    assert len(body) > 1_000
    assert client.post("/v1/events", content=body, headers=bearer("R1H")).status_code == 413
    chunks = iter([body[:600], body[600:]])  # no Content-Length: chunked transfer
    response = client.post("/v1/events", content=chunks, headers=bearer("R1H"))
    assert response.status_code == 413
    assert sender.sent == []


def test_more_events_than_allowed_is_413(make_client: MakeClient, sender: FakeSender) -> None:
    client = make_client(max_events=3)
    batch = [event(event_id=str(n)) for n in range(4)]
    assert client.post("/v1/events", json=batch, headers=bearer("R1H")).status_code == 413
    assert client.post("/v1/events", json=batch[:3], headers=bearer("R1H")).status_code == 202
    assert len(sender.sent) == 3


def test_an_oversized_event_is_rejected_on_its_own(
    make_client: MakeClient, sender: FakeSender
) -> None:
    client = make_client(max_event_bytes=400)
    batch = [event(event_id="big", attendance_id="x" * 400), event(event_id="small")]
    response = client.post("/v1/events", json=batch, headers=bearer("R1H"))
    assert response.status_code == 202
    (rejected,) = response.json()["rejected"]
    assert (rejected["event_id"], rejected["status"]) == ("big", 422)
    assert "400 bytes" in rejected["reason"]
    assert len(sender.sent) == 1


def test_each_trust_has_its_own_rate_limit(make_client: MakeClient, clock: FakeClock) -> None:
    client = make_client(rate_per_second=2.0, rate_burst=3)
    statuses = [client.post("/v1/events", json=event(), headers=bearer("R1H")) for _ in range(4)]
    assert [response.status_code for response in statuses] == [202, 202, 202, 429]
    assert statuses[-1].headers["Retry-After"] == "1"
    other = client.post("/v1/events", json=event("RQXM1"), headers=bearer("RQX"))
    assert other.status_code == 202
    clock.now += 0.5  # one request's worth at 2 a second
    assert client.post("/v1/events", json=event(), headers=bearer("R1H")).status_code == 202
    assert client.post("/v1/events", json=event(), headers=bearer("R1H")).status_code == 429


def test_when_kafka_does_not_acknowledge_it_is_503_and_nothing_is_accepted(
    client: TestClient, sender: FakeSender
) -> None:
    sender.failing = True
    batch = [event(event_id="a"), event(event_id="b", department_type=7)]
    response = client.post("/v1/events", json=batch, headers=bearer("R1H"))
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) >= 1
    body = response.json()
    assert body["accepted"] == []
    assert body["not_acknowledged"] == [{"index": 0, "event_id": "a"}]
    assert [entry["event_id"] for entry in body["rejected"]] == ["b"]
    assert "none of this batch is accepted" in body["error"]


def test_an_unexpected_error_is_a_bare_503_and_the_logs_keep_its_text_out(
    client: TestClient, sender: FakeSender, caplog: pytest.LogCaptureFixture
) -> None:
    sender.crash = RuntimeError(f"boom while holding {SECRET}")
    with caplog.at_level(logging.DEBUG):
        response = client.post("/v1/events", json=event(), headers=bearer("R1H"))
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert set(response.json()) == {"error"}
    assert "Traceback" not in response.text
    assert SECRET not in response.text
    (unexpected,) = [line for line in shipped(caplog) if line["message"] == "unexpected error"]
    assert unexpected["error_type"] == "RuntimeError"
    assert SECRET not in json.dumps(shipped(caplog))


def test_logs_name_requests_and_counts_never_event_content(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    batch = [event(event_id="a"), event("RF4QH", "b"), event(event_id="c", ward="x")]
    with caplog.at_level(logging.DEBUG):
        response = client.post("/v1/events", json=batch, headers=bearer("R1H"))
    (answered,) = [line for line in shipped(caplog) if line["message"] == "request answered"]
    assert answered["request_id"] == response.headers["X-Request-ID"]
    assert (answered["credential"], answered["trust"]) == ("R1H-main", "R1H")
    assert answered["status"] == 202
    assert (answered["accepted"], answered["rejected"], answered["foreign"]) == (1, 2, 1)
    assert answered["level"] == "warning"  # one event was for another trust's site
    text = json.dumps(shipped(caplog))
    assert SECRET not in text
    assert not any(token in text for token in TOKENS.values())


def shipped(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The log lines as the gateway writes them on stderr."""
    formatter = JsonFormatter()
    return [json.loads(formatter.format(record)) for record in caplog.records]


def test_unknown_paths_and_methods_answer_in_the_error_shape(client: TestClient) -> None:
    assert client.get("/v1/nothing").json() == {"error": "Not Found"}
    response = client.get("/v1/events")
    assert response.status_code == 405
    assert set(response.json()) == {"error"}


def test_health_answers_without_a_token(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}


def test_every_message_sent_parses_as_the_worker_parses_it(
    client: TestClient, sender: FakeSender
) -> None:
    batch = [event(event_id=f"é-{n}", attendance_id=f"a-ü-{n}") for n in range(5)]
    client.post("/v1/events", json=batch, headers=bearer("R1H"))
    parser = EventParser(load_registry())
    assert [parser.parse(m.value).event_id for m in sender.sent] == [e["event_id"] for e in batch]


def test_an_event_id_no_utf8_can_carry_is_refused_alone_and_the_rest_accepted(
    client: TestClient, sender: FakeSender
) -> None:
    # Python's JSON reader takes a lone surrogate escape; the answer could not echo it.
    bad = json.dumps(event(event_id="x")).replace('"x"', '"\\ud800"').encode()
    body = _lines(event(event_id="ok")) + bad + b"\n"
    response = client.post("/v1/events", content=body, headers={**bearer("R1H"), **NDJSON})
    assert response.status_code == 202
    assert response.json()["accepted"] == [{"index": 0, "event_id": "ok"}]
    (rejected,) = response.json()["rejected"]
    assert (rejected["index"], rejected["event_id"], rejected["status"]) == (1, None, 422)
    assert len(sender.sent) == 1


def test_a_huge_integer_in_an_array_is_refused_in_terms_of_the_body_not_of_python(
    client: TestClient, sender: FakeSender
) -> None:
    one = json.dumps(event(event_id="big")).encode()[:-1] + b', "n": ' + b"9" * 5001 + b"}"
    headers = {**bearer("R1H"), "Content-Type": "application/json"}
    response = client.post("/v1/events", content=b"[" + one + b"]", headers=headers)
    assert response.status_code == 400
    assert response.json() == {
        "error": "the body is not valid JSON: number out of range (5,001 digits)"
    }
    assert sender.sent == []
