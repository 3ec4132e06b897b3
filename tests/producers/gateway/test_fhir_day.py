"""The generated day as the trust's FHIR feed posts it, Encounter by Encounter, through the
gateway: each answered as its truth says, the events sent equal to the events the HL7 mapping
defines for the same day (with the same attendance ids as the HL7 feed), and no patient
identifier in any answer, event or log line."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from producers.epr.settings import load_adapter_settings
from tests.producers.gateway.conftest import FakeSender, MakeClient, bearer
from tools.adt_corpus import adapter_settings, counted, generate
from uecflow.config import Registry
from uecflow.logs import JsonFormatter

KEY = b"fhir-day-key-" + b"f" * 24
DAY = generate(datetime(2026, 10, 24, 12, 0, tzinfo=UTC), seed=5)  # across the clock change


def test_a_day_of_encounters_gives_the_days_events_and_no_patient_data(
    make_client: MakeClient,
    sender: FakeSender,
    registry: Registry,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    dispositions = (
        '[fhir_dispositions]\n"306689006" = "discharged"\n"19712007" = "transferred"\n'
        '"306706006" = "admitted"\n"LBT" = "left_before_treatment"'
    )
    path = adapter_settings(tmp_path, KEY, dispositions)
    settings = load_adapter_settings(path, registry)
    client = make_client(epr={"RQX": settings}, rate_per_second=1e6, rate_burst=10**6)
    answers = []
    for bundle in DAY.bundles():
        for entry in bundle["entry"]:  # type: ignore[attr-defined]
            body = json.dumps(entry["resource"]).encode()
            headers = {**bearer("RQX"), "Content-Type": "application/fhir+json"}
            answers.append(client.post("/fhir/Encounter", content=body, headers=headers))
    assert [answer.status_code for answer in answers] == [post.status for post in DAY.encounters]
    events = [json.loads(message.value) for message in sender.sent]
    assert counted(events) == counted(DAY.events)
    visits = {str(event["attendance_id"]).removeprefix("truth-") for event in DAY.events}
    assert {event["attendance_id"] for event in events} == {_hl7_id(visit) for visit in visits}
    written = b"\n".join(
        [answer.content for answer in answers]
        + [message.value for message in sender.sent]
        + [JsonFormatter().format(record).encode() for record in caplog.records]
    )
    for patient in DAY.patients:
        for secret in patient.identifiers():
            assert secret.encode() not in written, secret


def _hl7_id(visit: str) -> str:
    """The attendance id the HL7 feed gives the visit (docs/epr-adapters.md, pseudonyms)."""
    return "RQX-" + hmac.new(KEY, visit.encode(), hashlib.sha256).hexdigest()[:32]
