"""What a trust's integration engine sees when it posts an Encounter to /fhir/Encounter, and what
reaches Kafka: the same tokens, limits and site rules as /v1/events, answered in FHIR."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.operationoutcome import OperationOutcome

from events import EventParser
from producers.epr.settings import FHIR_DTA_EXTENSION, AdapterSettings, load_adapter_settings
from producers.gateway import openapi_document
from producers.gateway.credentials import Credential, Credentials, hash_token
from tests.producers.gateway.conftest import TOKENS, FakeSender, MakeClient, bearer, event
from uecflow.cli import main as uecflow
from uecflow.config import Registry, load_registry
from uecflow.logs import JsonFormatter

NHS_NUMBER = "9990001112"
NAME = "Secretname"
BIRTH_DATE = "1975-02-03"
VISIT = "V-HOM-100"
SECRETS = (NHS_NUMBER, NAME, BIRTH_DATE, VISIT)
FHIR = {"Content-Type": "application/fhir+json"}
ODS = "https://fhir.nhs.uk/Id/ods-site-code"


def write_adapter(directory: Path, trust: str = "RQX", location: str = "RQXM1") -> Path:
    (directory / f"{trust}.key").write_bytes(b"g" * 32)
    path = directory / f"{trust}.toml"
    path.write_text(
        f'trust = "{trust}"\n[locations]\n"ED" = "{location}"\n'
        f'[[keys]]\nfrom = "2020-01-01T00:00:00Z"\nfile = "{trust}.key"\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def adapter(tmp_path: Path, registry: Registry) -> AdapterSettings:
    return load_adapter_settings(write_adapter(tmp_path), registry)


@pytest.fixture
def client(make_client: MakeClient, adapter: AdapterSettings) -> TestClient:
    return make_client(epr={"RQX": adapter})


def encounter(**elements: Any) -> dict[str, Any]:
    """Homerton's finished emergency Encounter, with its patient, unless `elements` differ."""
    return {
        "resourceType": "Encounter",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "EMER"},
        "identifier": [{"value": VISIT}],
        "subject": {
            "display": NAME,
            "identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": NHS_NUMBER},
        },
        "contained": [{"resourceType": "Patient", "id": "p", "birthDate": BIRTH_DATE}],
        "period": {"start": "2026-12-05T10:15:00Z", "end": "2026-12-05T13:40:00Z"},
        "location": [{"location": {"identifier": {"value": "ED"}}}],
        "hospitalization": {"dischargeDisposition": {"coding": [{"code": "306706006"}]}},
        "extension": [{"url": FHIR_DTA_EXTENSION, "valueDateTime": "2026-12-05T12:00:00Z"}],
        **elements,
    }


def post(client: TestClient, document: object, trust: str = "RQX", **headers: str) -> Any:
    body = json.dumps(document).encode()
    return client.post(
        "/fhir/Encounter", content=body, headers={**bearer(trust), **FHIR, **headers}
    )


def issues(response: Any) -> list[dict[str, str]]:
    """The answer's issues, once it is known to be a valid FHIR OperationOutcome."""
    assert response.headers["content-type"] == "application/fhir+json"
    document = response.json()
    OperationOutcome.model_validate(document)
    for secret in SECRETS:
        assert secret not in response.text
    return list(document["issue"])


def test_an_encounter_becomes_its_events_on_kafka_and_a_200_outcome_lists_them(
    client: TestClient, sender: FakeSender, registry: Registry
) -> None:
    response = post(client, encounter())
    assert response.status_code == 200
    sent = [json.loads(message.value) for message in sender.sent]
    assert [e["event_type"] for e in sent] == ["ae.arrival", "ae.decision_to_admit", "ae.departure"]
    assert {(m.topic, m.key) for m in sender.sent} == {("uecflow.ae", b"RQXM1")}
    assert sent[-1]["outcome"] == "admitted"
    parser = EventParser(registry)
    assert all(parser.parse(message.value) for message in sender.sent)
    assert [(i["severity"], i["code"]) for i in issues(response)] == [
        ("information", "informational")
    ] * 3
    assert issues(response)[0]["diagnostics"] == (
        f"sent ae.arrival {sent[0]['event_id']} at 2026-12-05T10:15:00Z"
    )
    assert response.headers["X-Request-ID"]
    for message in sender.sent:
        for secret in SECRETS:
            assert secret.encode() not in message.value


def test_posting_the_encounter_again_sends_the_same_event_ids(
    client: TestClient, sender: FakeSender
) -> None:
    in_progress = encounter(status="in-progress")
    del in_progress["extension"]
    for document in (in_progress, in_progress, encounter()):
        assert post(client, document, **{"Content-Type": "application/json"}).status_code == 200
    ids = [json.loads(message.value)["event_id"] for message in sender.sent]
    assert ids[0] == ids[1] == ids[2]  # the arrival, three times: the worker keeps one
    assert len(set(ids)) == 3


def test_another_class_is_a_200_that_says_nothing_was_sent(
    client: TestClient, sender: FakeSender
) -> None:
    response = post(client, encounter(**{"class": {"code": "IMP"}}))
    assert response.status_code == 200
    (issue,) = issues(response)
    assert issue["diagnostics"] == "nothing sent: class 'IMP': not an emergency encounter"
    assert sender.sent == []


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (None, "a bearer token is required"),
        ("x" * 40, "the token is not valid or has been revoked"),
    ],
    ids=["none", "wrong"],
)
def test_a_missing_or_wrong_token_is_401(
    client: TestClient, sender: FakeSender, token: str | None, reason: str
) -> None:
    headers = {**FHIR, **({"Authorization": f"Bearer {token}"} if token else {})}
    response = client.post("/fhir/Encounter", content=json.dumps(encounter()), headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert issues(response) == [{"severity": "error", "code": "login", "diagnostics": reason}]
    assert sender.sent == []


def test_a_trust_without_a_fhir_mapping_is_403(client: TestClient, sender: FakeSender) -> None:
    response = post(client, encounter(), trust="RF4")
    assert response.status_code == 403
    assert issues(response) == [
        {
            "severity": "error",
            "code": "forbidden",
            "diagnostics": "no FHIR mapping is configured for trust RF4",
        }
    ]
    assert sender.sent == []


def test_an_encounter_at_another_trusts_site_is_403_and_nothing_is_sent(
    client: TestClient, sender: FakeSender
) -> None:
    location = [{"location": {"identifier": {"system": ODS, "value": "R1H12"}}}]
    response = post(client, encounter(location=location))
    assert response.status_code == 403
    found = issues(response)
    assert len(found) == 3
    assert found[0]["code"] == "forbidden"
    assert found[0]["diagnostics"].startswith("site: 'R1H12' is not a site of RQX")
    assert sender.sent == []


def test_a_token_scoped_to_other_event_types_is_403(
    make_client: MakeClient, adapter: AdapterSettings, registry: Registry, sender: FakeSender
) -> None:
    token = "homerton-beds-" + "w" * 40
    digest = bytes.fromhex(hash_token(token))
    sites = frozenset(registry.sites_of_trust("RQX"))
    beds_only = Credential("rqx-beds", "RQX", digest, sites=sites, event_types=("beds.*",))
    client = make_client(epr={"RQX": adapter}, credentials=Credentials((beds_only,)))
    headers = {"Authorization": f"Bearer {token}", **FHIR}
    response = client.post("/fhir/Encounter", content=json.dumps(encounter()), headers=headers)
    assert response.status_code == 403
    assert issues(response)[0]["diagnostics"].startswith(
        "event_type: 'ae.arrival' is not one this token may post"
    )
    assert sender.sent == []


def test_an_ods_code_no_registry_knows_is_422(client: TestClient, sender: FakeSender) -> None:
    location = [{"location": {"identifier": {"system": ODS, "value": "RAL01"}}}]
    response = post(client, encounter(location=location))
    assert response.status_code == 422
    assert "site: 'RAL01' is not in the site registry" in issues(response)[0]["diagnostics"]
    assert sender.sent == []


def test_an_unknown_disposition_is_422_quoting_the_code(
    client: TestClient, sender: FakeSender
) -> None:
    document = encounter(hospitalization={"dischargeDisposition": {"coding": [{"code": "X9"}]}})
    response = post(client, document)
    assert response.status_code == 422
    assert issues(response) == [
        {
            "severity": "error",
            "code": "code-invalid",
            "diagnostics": "hospitalization.dischargeDisposition: code 'X9' is not in the trust's "
            "fhir_dispositions",
        }
    ]
    assert sender.sent == []


@pytest.mark.parametrize(
    ("body", "diagnostics"),
    [
        (b"{not json", "the body is not valid JSON: Expecting property name enclosed in double"),
        (b"", "the body is empty: send one Encounter resource"),
        (json.dumps({"resourceType": "Patient", "birthDate": BIRTH_DATE}).encode(), "the body is"),
        (json.dumps(encounter(period={"start": "2026-12-05T10:15:00"})).encode(), "not a valid"),
        (b"\xff", "the body is not UTF-8"),
    ],
    ids=["not-json", "empty", "patient", "no-offset", "not-utf8"],
)
def test_what_is_not_an_encounter_is_400(
    client: TestClient, sender: FakeSender, body: bytes, diagnostics: str
) -> None:
    response = client.post("/fhir/Encounter", content=body, headers={**bearer("RQX"), **FHIR})
    assert response.status_code == 400
    (issue,) = issues(response)
    assert (issue["severity"], issue["code"]) == ("error", "structure")
    assert issue["diagnostics"].startswith(diagnostics)
    assert sender.sent == []


def test_another_content_type_is_415(client: TestClient) -> None:
    response = post(client, encounter(), **{"Content-Type": "application/fhir+xml"})
    assert response.status_code == 415
    assert issues(response)[0]["code"] == "not-supported"


def test_a_body_over_the_limit_is_413(make_client: MakeClient, adapter: AdapterSettings) -> None:
    client = make_client(epr={"RQX": adapter}, max_body_bytes=200)
    response = post(client, encounter())
    assert response.status_code == 413
    assert issues(response)[0]["code"] == "too-costly"


def test_the_trusts_rate_is_shared_with_v1_events(
    make_client: MakeClient, adapter: AdapterSettings
) -> None:
    client = make_client(epr={"RQX": adapter}, rate_burst=1, rate_per_second=0.5)
    assert client.post("/v1/events", json=event("RQXM1"), headers=bearer("RQX")).status_code == 202
    response = post(client, encounter())
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert issues(response)[0]["code"] == "throttled"


def test_kafka_not_acknowledging_is_503_with_retry_after(
    client: TestClient, sender: FakeSender
) -> None:
    sender.failing = True
    response = post(client, encounter())
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    (issue,) = issues(response)
    assert issue["code"] == "transient"
    assert "post the Encounter again" in issue["diagnostics"]


def test_requests_and_events_are_counted_by_trust_and_site(client: TestClient) -> None:
    post(client, encounter())
    post(
        client,
        encounter(location=[{"location": {"identifier": {"system": ODS, "value": "R1H12"}}}]),
    )
    text = client.get("/metrics").text
    assert 'uecflow_gateway_requests_total{status="200",trust="RQX"} 1.0' in text
    assert 'uecflow_gateway_requests_total{status="403",trust="RQX"} 1.0' in text
    assert 'uecflow_gateway_events_accepted_total{site="RQXM1",trust="RQX"} 3.0' in text
    rejected = (
        'uecflow_gateway_events_rejected_total{reason="not_its_site",site="R1H12",trust="RQX"}'
    )
    assert f"{rejected} 3.0" in text
    for secret in SECRETS:
        assert secret not in text


def test_the_log_says_who_posted_and_what_became_of_it_never_the_patient(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "uecflow.gateway")
    broken = encounter(contained=[{"resourceType": "Patient", "birthDate": f"{BIRTH_DATE}X"}])
    for document in (encounter(), broken, encounter(hospitalization=None, status="nope")):
        post(client, document)
    lines = [JsonFormatter().format(record) for record in caplog.records]
    answered = [json.loads(line) for line in lines if "request answered" in line]
    assert [(a["route"], a["trust"], a["status"]) for a in answered] == [
        ("/fhir/Encounter", "RQX", 200),
        ("/fhir/Encounter", "RQX", 400),
        ("/fhir/Encounter", "RQX", 422),
    ]
    assert answered[0]["accepted"] == 3
    for line in lines:
        for secret in SECRETS:
            assert secret not in line


def test_a_bad_epr_settings_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    credentials = tmp_path / "credentials.toml"
    credentials.write_text(
        f'[[credentials]]\nid = "h"\ntrust = "RQX"\ntoken_sha256 = "{hash_token(TOKENS["RQX"])}"\n'
    )
    wrong_site = write_adapter(tmp_path, location="R1H12")
    serve = ["gateway", "--credentials", str(credentials), "--epr-settings"]
    assert uecflow([*serve, str(wrong_site)]) == 2
    assert "--epr-settings: " in capsys.readouterr().err
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = write_adapter(tmp_path / "a"), write_adapter(tmp_path / "b")
    assert uecflow([*serve, str(first), "--epr-settings", str(second)]) == 2
    assert "is a second file for trust RQX" in capsys.readouterr().err


def test_the_openapi_document_describes_the_route() -> None:
    route = openapi_document(registry=load_registry(None))["paths"]["/fhir/Encounter"]["post"]
    assert route["security"] == [{"HTTPBearer": []}]
    assert set(route["requestBody"]["content"]) == {"application/fhir+json", "application/json"}
