"""Each element of an emergency Encounter becomes what the documented mapping says; an Encounter
posted again keeps its ids; and nothing about the patient is read into an event or a reason."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import hl7
import pytest

from events.parse import EventParser
from producers.epr import hl7_mapping
from producers.epr.fhir_mapping import (
    Ignored,
    Invalid,
    Mapped,
    Outcome,
    Unmappable,
    map_encounter,
)
from producers.epr.settings import FHIR_DTA_EXTENSION, AdapterSettings, load_adapter_settings
from uecflow.config import load_registry

KEY = b"f" * 32
NHS_NUMBER = "9990001112"
NAME = "Secretname"
BIRTH_DATE = "1975-02-03"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ODS = "https://fhir.nhs.uk/Id/ods-site-code"


def adapter(directory: Path, extra: str = "") -> AdapterSettings:
    (directory / "rqx.key").write_bytes(KEY)
    path = directory / "rqx.toml"
    path.write_text(
        f'trust = "RQX"\n{extra}\n[locations]\n"HOMERTON" = "RQXM1"\n'
        '[[keys]]\nfrom = "2020-01-01T00:00:00Z"\nfile = "rqx.key"\n',
        encoding="utf-8",
    )
    return load_adapter_settings(path, load_registry(None))


@pytest.fixture
def settings(tmp_path: Path) -> AdapterSettings:
    return adapter(tmp_path)


def encounter(status: str = "finished", **elements: Any) -> dict[str, Any]:
    """A finished UK Core emergency Encounter, with its patient in it, unless `elements` say
    otherwise (None removes an element)."""
    document: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": "enc-1",
        "status": status,
        "class": {"system": ACT_CODE, "code": "EMER"},
        "identifier": [{"system": "https://homerton.nhs.uk/visit", "value": "V100"}],
        "subject": {
            "reference": "#pat",
            "display": NAME,
            "identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": NHS_NUMBER},
        },
        "contained": [
            {
                "resourceType": "Patient",
                "id": "pat",
                "identifier": [
                    {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": NHS_NUMBER}
                ],
                "name": [{"family": NAME, "given": ["Hidden"]}],
                "birthDate": BIRTH_DATE,
            }
        ],
        "period": {"start": "2026-12-05T10:15:00Z", "end": "2026-12-05T13:40:00Z"},
        "location": [{"location": {"identifier": {"value": "HOMERTON"}}}],
        "hospitalization": {
            "dischargeDisposition": {
                "coding": [{"system": "http://snomed.info/sct", "code": "306689006"}]
            }
        },
        "extension": [{"url": FHIR_DTA_EXTENSION, "valueDateTime": "2026-12-05T12:00:00Z"}],
    }
    for name, value in elements.items():
        if value is None:
            document.pop(name)
        else:
            document[name] = value
    return document


def events(outcome: Outcome) -> list[dict[str, object]]:
    assert isinstance(outcome, Mapped), outcome
    return list(outcome.events)


def unmappable(outcome: Outcome) -> Unmappable:
    assert isinstance(outcome, Unmappable), outcome
    return outcome


def test_a_finished_encounter_is_its_arrival_decision_and_departure(
    settings: AdapterSettings,
) -> None:
    arrival, decision, departure = events(map_encounter(encounter(), settings))
    assert [e["event_type"] for e in (arrival, decision, departure)] == [
        "ae.arrival",
        "ae.decision_to_admit",
        "ae.departure",
    ]
    assert [e["occurred_at"] for e in (arrival, decision, departure)] == [
        "2026-12-05T10:15:00Z",
        "2026-12-05T12:00:00Z",
        "2026-12-05T13:40:00Z",
    ]
    assert {e["site"] for e in (arrival, decision, departure)} == {"RQXM1"}
    assert len({e["attendance_id"] for e in (arrival, decision, departure)}) == 1
    assert arrival["department_type"] == 1
    assert departure["outcome"] == "discharged"
    parser = EventParser(load_registry(None))
    for event in (arrival, decision, departure):
        parser.parse(json.dumps(event))  # each one keeps the contract


def test_an_encounter_in_progress_is_its_arrival_and_its_decision_only(
    settings: AdapterSettings,
) -> None:
    for status in ("arrived", "triaged", "in-progress", "onleave"):
        mapped = events(map_encounter(encounter(status), settings))
        assert [e["event_type"] for e in mapped] == ["ae.arrival", "ae.decision_to_admit"]
    without = events(map_encounter(encounter("in-progress", extension=None), settings))
    assert [e["event_type"] for e in without] == ["ae.arrival"]


def test_the_same_encounter_posted_again_or_updated_keeps_its_event_ids(
    settings: AdapterSettings,
) -> None:
    first = events(map_encounter(encounter("in-progress", extension=None), settings))
    again = events(map_encounter(encounter("in-progress", extension=None), settings))
    later = events(map_encounter(encounter("in-progress"), settings))
    finished = events(map_encounter(encounter(), settings))
    assert again == first
    assert later[0] == first[0]
    assert finished[:2] == later
    other_visit = encounter(identifier=[{"value": "V101"}])
    assert (
        events(map_encounter(other_visit, settings))[0]["attendance_id"]
        != first[0]["attendance_id"]
    )


def test_hl7_and_fhir_feeds_give_an_attendance_the_same_ids(settings: AdapterSettings) -> None:
    a04 = hl7.parse(
        "\r".join(
            [
                "MSH|^~\\&|EPR|HOM|UECFLOW|NEL|20261205120000||ADT^A04|1|P|2.5.1",
                "EVN|A04|20261205101500",
                "PV1|1|E|ED^MAJ^3^HOMERTON" + "|" * 16 + "V100" + "|" * 25 + "20261205101500",
            ]
        )
    )
    by_hl7 = hl7_mapping.map_message(a04, settings)
    assert isinstance(by_hl7, hl7_mapping.Mapped), by_hl7
    by_fhir = events(map_encounter(encounter("arrived", extension=None), settings))[0]
    assert by_fhir["attendance_id"] == by_hl7.event["attendance_id"]
    assert by_fhir["event_id"] == by_hl7.event["event_id"]


@pytest.mark.parametrize(
    ("start", "instant"),
    [
        ("2026-03-29T00:30:00+00:00", "2026-03-29T00:30:00Z"),  # GMT, before the clocks go on
        ("2026-03-29T02:30:00+01:00", "2026-03-29T01:30:00Z"),  # BST, just after
        ("2026-10-25T01:30:00+01:00", "2026-10-25T00:30:00Z"),  # the repeated hour, first
        ("2026-10-25T01:30:00+00:00", "2026-10-25T01:30:00Z"),  # the repeated hour, second
        ("2026-07-05T10:15:00.250+01:00", "2026-07-05T09:15:00.250000Z"),
    ],
)
def test_times_are_the_instants_their_offsets_say_across_the_clock_changes(
    settings: AdapterSettings, start: str, instant: str
) -> None:
    period = {"start": start}
    (arrival,) = events(
        map_encounter(encounter("arrived", period=period, extension=None), settings)
    )
    assert arrival["occurred_at"] == instant


def test_the_two_arrivals_of_octobers_repeated_hour_are_two_events(
    settings: AdapterSettings,
) -> None:
    def arrival(start: str, visit: str) -> dict[str, object]:
        document = encounter("arrived", period={"start": start}, extension=None)
        document["identifier"] = [{"value": visit}]
        return events(map_encounter(document, settings))[0]

    first = arrival("2026-10-25T01:30:00+01:00", "V1")
    second = arrival("2026-10-25T01:30:00+00:00", "V2")
    assert first["occurred_at"] != second["occurred_at"]
    assert first["event_id"] != second["event_id"]


@pytest.mark.parametrize(
    ("start", "code"),
    [
        ("2026-12-05", "value"),  # a date alone: when in the day?
        ("2026-12", "value"),
        (None, "required"),
    ],
)
def test_an_arrival_without_a_full_start_time_is_unmappable(
    settings: AdapterSettings, start: str | None, code: str
) -> None:
    period = {"start": start} if start else {"end": "2026-12-05T13:40:00Z"}
    refused = unmappable(map_encounter(encounter(period=period), settings))
    assert refused.code == code
    assert refused.reason.startswith("period.start: ")


def test_a_time_without_an_offset_is_not_valid_fhir(settings: AdapterSettings) -> None:
    outcome = map_encounter(encounter(period={"start": "2026-12-05T10:15:00"}), settings)
    assert outcome == Invalid(
        "not a valid FHIR R4 Encounter: period.start: is not valid (value_error)"
    )


def test_a_finished_encounter_needs_its_end(settings: AdapterSettings) -> None:
    refused = unmappable(
        map_encounter(encounter(period={"start": "2026-12-05T10:15:00Z"}), settings)
    )
    assert (refused.code, refused.reason) == ("required", "period.end: missing")


def test_the_disposition_maps_through_the_trusts_table(tmp_path: Path) -> None:
    local = adapter(tmp_path, '[fhir_dispositions]\n"LOCAL-ADM" = "admitted"')
    coding = [{"system": "https://homerton.nhs.uk/cs", "code": "LOCAL-ADM"}]
    document = encounter(hospitalization={"dischargeDisposition": {"coding": coding}})
    assert events(map_encounter(document, local))[-1]["outcome"] == "admitted"


def test_the_first_known_coding_of_the_disposition_counts(settings: AdapterSettings) -> None:
    coding = [{"code": "X-LOCAL"}, {"system": "http://snomed.info/sct", "code": "306706006"}]
    document = encounter(hospitalization={"dischargeDisposition": {"coding": coding}})
    assert events(map_encounter(document, settings))[-1]["outcome"] == "admitted"


def test_an_unknown_disposition_is_unmappable_quoting_the_code(settings: AdapterSettings) -> None:
    coding = [{"system": "http://snomed.info/sct", "code": "183919006"}]
    document = encounter(hospitalization={"dischargeDisposition": {"coding": coding}})
    refused = unmappable(map_encounter(document, settings))
    assert refused.code == "code-invalid"
    assert refused.reason == (
        "hospitalization.dischargeDisposition: code '183919006' is not in the trust's "
        "fhir_dispositions"
    )


def test_a_missing_disposition_is_the_trusts_missing_disposition(tmp_path: Path) -> None:
    mine = adapter(tmp_path, 'missing_disposition = "discharged"')
    for hospitalization in (None, {"dischargeDisposition": {"text": "went home"}}):
        document = encounter(hospitalization=hospitalization)
        assert events(map_encounter(document, mine))[-1]["outcome"] == "discharged"


def test_a_cancelled_encounter_ends_at_once_as_other(settings: AdapterSettings) -> None:
    for status in ("cancelled", "entered-in-error"):
        departure = events(map_encounter(encounter(status), settings))[-1]
        assert (departure["event_type"], departure["outcome"]) == ("ae.departure", "other")


@pytest.mark.parametrize(
    "kind",
    [{"system": ACT_CODE, "code": "IMP"}, {"system": "https://example.org/local", "code": "EMER"}],
    ids=["inpatient", "another-system"],
)
def test_an_encounter_of_another_class_is_ignored(settings: AdapterSettings, kind: Any) -> None:
    outcome = map_encounter(encounter(**{"class": kind}), settings)
    assert isinstance(outcome, Ignored)
    assert "not an emergency encounter" in outcome.reason


def test_a_planned_encounter_is_ignored_and_an_unknown_status_unmappable(
    settings: AdapterSettings,
) -> None:
    assert isinstance(map_encounter(encounter("planned"), settings), Ignored)
    refused = unmappable(map_encounter(encounter("unknown"), settings))
    assert refused == Unmappable("not-supported", "status: 'unknown' is not one uecflow maps")


def test_the_site_is_an_ods_site_code_or_a_location_of_the_trust(
    settings: AdapterSettings,
) -> None:
    locations = [
        {"location": {"reference": "Location/ward-1"}},  # no identifier: passed over
        {"location": {"identifier": {"system": ODS, "value": "RQXM1"}}},
    ]
    assert events(map_encounter(encounter(location=locations), settings))[0]["site"] == "RQXM1"


def test_another_trusts_ods_site_code_is_kept_for_the_gateway_to_refuse(
    settings: AdapterSettings,
) -> None:
    location = [{"location": {"identifier": {"system": ODS, "value": "R1H12"}}}]
    assert {e["site"] for e in events(map_encounter(encounter(location=location), settings))} == {
        "R1H12"
    }


def test_a_location_the_trust_has_not_mapped_is_unmappable(settings: AdapterSettings) -> None:
    location = [{"location": {"identifier": {"value": "KINGS"}}}]
    refused = unmappable(map_encounter(encounter(location=location), settings))
    assert refused == Unmappable(
        "code-invalid", "location: 'KINGS' is not in the trust's locations"
    )
    none = unmappable(map_encounter(encounter(location=None), settings))
    assert none.reason == "location: no location has an identifier: no site"


def test_an_encounter_without_an_identifier_is_unmappable(settings: AdapterSettings) -> None:
    for identifiers in (None, [{"system": "https://homerton.nhs.uk/visit"}]):
        refused = unmappable(map_encounter(encounter(identifier=identifiers), settings))
        assert refused.reason.startswith("identifier: ")


def test_a_decision_extension_without_a_time_is_unmappable(settings: AdapterSettings) -> None:
    extension = [{"url": FHIR_DTA_EXTENSION, "valueString": "yes"}]
    refused = unmappable(map_encounter(encounter(extension=extension), settings))
    assert refused.reason == "extension (decision to admit).valueDateTime: missing"


def test_a_visit_before_the_oldest_key_is_unmappable(settings: AdapterSettings) -> None:
    period = {"start": "2019-06-01T10:00:00Z", "end": "2019-06-01T11:00:00Z"}
    refused = unmappable(map_encounter(encounter(period=period), settings))
    assert refused.reason.startswith("period.start: no key is in force")


def test_an_instant_past_the_calendars_end_is_unmappable(settings: AdapterSettings) -> None:
    period = {"start": "0001-01-01T00:00:00+14:00"}
    refused = unmappable(map_encounter(encounter("arrived", period=period), settings))
    assert refused.reason == "period.start: out of range"


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ([], "the body is not a FHIR Encounter resource (resourceType 'Encounter')"),
        ({"resourceType": "Patient", "birthDate": BIRTH_DATE}, None),
        ({"status": "finished", "class": {"code": "EMER"}}, None),
    ],
    ids=["array", "patient", "no-resource-type"],
)
def test_what_is_not_an_encounter_is_invalid(
    settings: AdapterSettings, document: object, reason: str | None
) -> None:
    outcome = map_encounter(document, settings)
    assert isinstance(outcome, Invalid)
    assert outcome.reason == (
        reason or "the body is not a FHIR Encounter resource (resourceType 'Encounter')"
    )


def _broken(document: dict[str, Any], where: str, value: object) -> dict[str, Any]:
    broken = copy.deepcopy(document)
    target: Any = broken
    *path, last = where.split(".")
    for part in path:
        target = target[int(part)] if part.isdigit() else target[part]
    target[last] = value
    return broken


@pytest.mark.parametrize(
    ("where", "value", "reason"),
    [
        ("contained.0.birthDate", f"{BIRTH_DATE}X", "contained.0.birthDate: is not valid"),
        ("subject.display", {"text": NAME}, "subject.display: is not valid"),
        (f"contained.0.{NHS_NUMBER}", NAME, "contained.0: has an element FHIR R4 does not"),
        ("class", None, "class: is required"),
        ("status", None, "status: is required"),
    ],
    ids=["birth-date", "subject", "unknown-element", "class", "status"],
)
def test_an_invalid_encounter_names_the_element_never_the_patients_data(
    settings: AdapterSettings, where: str, value: object, reason: str
) -> None:
    outcome = map_encounter(_broken(encounter(), where, value), settings)
    assert isinstance(outcome, Invalid)
    assert outcome.reason.startswith(f"not a valid FHIR R4 Encounter: {reason}")
    for secret in (NHS_NUMBER, NAME, BIRTH_DATE, "Hidden"):
        assert secret not in outcome.reason


def test_nothing_about_the_patient_reaches_an_event(settings: AdapterSettings) -> None:
    text = json.dumps(events(map_encounter(encounter(), settings)))
    for secret in (NHS_NUMBER, NAME, "Hidden", BIRTH_DATE, "1975", "V100", "pat", "enc-1"):
        assert secret not in text


@pytest.mark.parametrize("kind", [None, "", NAME], ids=["null", "empty", "unknown"])
def test_a_contained_resource_of_no_fhir_type_is_invalid_without_quoting_it(
    settings: AdapterSettings, kind: str | None
) -> None:
    document = encounter(contained=[{"resourceType": kind, "birthDate": BIRTH_DATE}])
    outcome = map_encounter(document, settings)
    assert isinstance(outcome, Invalid)
    assert outcome.reason.startswith("not a valid FHIR R4 Encounter: ")
    assert NAME not in outcome.reason


@pytest.mark.parametrize(
    ("code", "mode"), [("A", "ambulance"), ("H", "ambulance"), ("F", "walk_in"), ("X", "other")]
)
def test_the_mode_of_arrival_extension_reads_table_0430_as_pv2_38_does(
    settings: AdapterSettings, code: str, mode: str
) -> None:
    arriving = {
        "url": "http://hl7.org/fhir/StructureDefinition/encounter-modeOfArrival",
        "valueCoding": {"system": "http://terminology.hl7.org/CodeSystem/v2-0430", "code": code},
    }
    arrival, *_ = events(map_encounter(encounter(extension=[arriving]), settings))
    assert arrival["arrival_mode"] == mode
    without, *_ = events(map_encounter(encounter(extension=None), settings))
    assert "arrival_mode" not in without  # the contract's default, walk-in
