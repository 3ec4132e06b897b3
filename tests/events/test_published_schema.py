"""The JSON Schema that trusts integrate against is the contract the code enforces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from events import EventParser, InvalidEvent
from events.schema import json_schema
from uecflow.config import load_registry

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = ROOT / "schemas" / "events-v1.schema.json"

VALID = [
    {"event_type": "ae.arrival", "attendance_id": "a1"},
    {
        "event_type": "ae.arrival",
        "attendance_id": "a1",
        "department_type": 3,
        "arrival_mode": "ambulance",
        "mental_health": True,
    },
    {"event_type": "ae.decision_to_admit", "attendance_id": "a1"},
    {"event_type": "ae.departure", "attendance_id": "a1", "outcome": "left_before_treatment"},
    {
        "event_type": "beds.ward_state",
        "ward": "Ward 7",
        "ward_type": "adult_ga",
        "beds_open_core": 20,
        "beds_open_escalation": 2,
        "beds_occupied": 23,
        "nctr": 3,
    },
    {"event_type": "ambulance.arrival", "handover_id": "h1"},
    {"event_type": "ambulance.handover", "handover_id": "h1"},
]
INVALID = [
    {"event_type": "ae.arrival", "attendance_id": "a1", "nhs_number": "9434765919"},
    {"event_type": "ae.arrival", "attendance_id": ""},
    {"event_type": "ae.arrival", "attendance_id": "a1", "department_type": 4},
    {"event_type": "ae.departure", "attendance_id": "a1", "outcome": "died"},
    {
        "event_type": "beds.ward_state",
        "ward": "w",
        "ward_type": "adult_ga",
        "beds_open_core": -1,
        "beds_occupied": 0,
    },
    {
        "event_type": "beds.ward_state",
        "ward": "w",
        "ward_type": "adult_ga",
        "beds_open_core": True,
        "beds_occupied": 0,
    },
    {
        "event_type": "beds.ward_state",
        "ward": "w",
        "ward_type": "adult_ga",
        "beds_open_core": 1,
        "beds_occupied": 1_000_001,
    },
    {"event_type": "ambulance.handover"},
    {"event_type": "ambulance.handover", "handover_id": "h1", "occurred_at": "2025-11-20T08:00:00"},
    {"event_type": "ambulance.handover", "handover_id": "h1", "occurred_at": "1763625600"},
    {"event_type": "ambulance.handover", "handover_id": "h1", "site": "RAL01"},
    {"event_type": "theatre.booking", "handover_id": "h1"},
]


def _event(fields: dict[str, object]) -> dict[str, object]:
    return {"event_id": "e-1", "occurred_at": "2025-11-20T08:00:00Z", "site": "R1H12", **fields}


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json.loads(PUBLISHED.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_published_schema_is_the_one_the_code_generates() -> None:
    published = json.loads(PUBLISHED.read_text(encoding="utf-8"))
    assert published == json_schema(load_registry()), "run: uecflow schema > " + str(PUBLISHED)


@pytest.mark.parametrize("fields", VALID)
def test_schema_and_parser_both_accept_a_valid_event(
    validator: Draft202012Validator, fields: dict[str, object]
) -> None:
    event = _event(fields)
    assert list(validator.iter_errors(event)) == []
    EventParser(load_registry()).parse(json.dumps(event))


@pytest.mark.parametrize("fields", INVALID)
def test_schema_and_parser_both_refuse_an_invalid_event(
    validator: Draft202012Validator, fields: dict[str, object]
) -> None:
    event = _event(fields)
    assert list(validator.iter_errors(event)) != []
    with pytest.raises(InvalidEvent):
        EventParser(load_registry()).parse(json.dumps(event))
