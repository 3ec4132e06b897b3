"""The event contract v1: every event type, its defaults and every rejection."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from events import (
    AeArrival,
    AeDecisionToAdmit,
    AeDeparture,
    AmbulanceArrival,
    AmbulanceHandover,
    EventParser,
    InvalidEvent,
    WardState,
)

BASE: dict[str, Any] = {
    "event_id": "evt-1",
    "occurred_at": "2025-01-15T10:00:00Z",
    "site": "R1H12",
}

MINIMAL: dict[str, dict[str, Any]] = {
    "ae.arrival": {**BASE, "event_type": "ae.arrival", "attendance_id": "att-1"},
    "ae.decision_to_admit": {
        **BASE,
        "event_type": "ae.decision_to_admit",
        "attendance_id": "att-1",
    },
    "ae.departure": {
        **BASE,
        "event_type": "ae.departure",
        "attendance_id": "att-1",
        "outcome": "admitted",
    },
    "beds.ward_state": {
        **BASE,
        "event_type": "beds.ward_state",
        "ward": "Ward 1",
        "ward_type": "adult_ga",
        "beds_open_core": 20,
        "beds_occupied": 18,
    },
    "ambulance.arrival": {**BASE, "event_type": "ambulance.arrival", "handover_id": "h-1"},
    "ambulance.handover": {**BASE, "event_type": "ambulance.handover", "handover_id": "h-1"},
}

FULL: dict[str, dict[str, Any]] = {
    **MINIMAL,
    "ae.arrival": {
        **MINIMAL["ae.arrival"],
        "department_type": 3,
        "arrival_mode": "ambulance",
        "mental_health": True,
    },
    "beds.ward_state": {
        **MINIMAL["beds.ward_state"],
        "beds_open_escalation": 4,
        "nctr": 7,
    },
}

MODELS = {
    "ae.arrival": AeArrival,
    "ae.decision_to_admit": AeDecisionToAdmit,
    "ae.departure": AeDeparture,
    "beds.ward_state": WardState,
    "ambulance.arrival": AmbulanceArrival,
    "ambulance.handover": AmbulanceHandover,
}

REQUIRED: dict[str, tuple[str, ...]] = {
    "ae.arrival": ("event_id", "occurred_at", "site", "attendance_id"),
    "ae.decision_to_admit": ("event_id", "occurred_at", "site", "attendance_id"),
    "ae.departure": ("event_id", "occurred_at", "site", "attendance_id", "outcome"),
    "beds.ward_state": (
        "event_id",
        "occurred_at",
        "site",
        "ward",
        "ward_type",
        "beds_open_core",
        "beds_occupied",
    ),
    "ambulance.arrival": ("event_id", "occurred_at", "site", "handover_id"),
    "ambulance.handover": ("event_id", "occurred_at", "site", "handover_id"),
}


def with_(kind: str, /, **changes: Any) -> dict[str, Any]:
    return {**MINIMAL[kind], **changes}


def without(event_type: str, field: str) -> dict[str, Any]:
    fields = dict(FULL[event_type])
    del fields[field]
    return fields


def reject(parser: EventParser, raw: dict[str, Any] | str | bytes) -> InvalidEvent:
    text = raw if isinstance(raw, str | bytes) else json.dumps(raw)
    with pytest.raises(InvalidEvent) as caught:
        parser.parse(text)
    error = caught.value
    assert isinstance(error, ValueError)
    assert error.reason, "a rejection must say why"
    assert "\n" not in error.reason, "the reason must be one line"
    assert "\r" not in error.reason, "the reason must be one line"
    return error


# --- valid events -------------------------------------------------------------------------


@pytest.mark.parametrize("event_type", sorted(MINIMAL))
def test_minimal_event_of_each_type_is_valid(parser: EventParser, event_type: str) -> None:
    event = parser.parse(json.dumps(MINIMAL[event_type]))
    assert isinstance(event, MODELS[event_type])
    assert event.event_type == event_type
    assert event.event_id == "evt-1"
    assert event.site == "R1H12"
    assert event.occurred_at == datetime(2025, 1, 15, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("event_type", sorted(FULL))
def test_full_event_of_each_type_is_valid(parser: EventParser, event_type: str) -> None:
    event = parser.parse(json.dumps(FULL[event_type]))
    assert isinstance(event, MODELS[event_type])
    for name, value in FULL[event_type].items():
        if name != "occurred_at":
            assert getattr(event, name) == value


def test_parse_accepts_bytes(parser: EventParser) -> None:
    event = parser.parse(json.dumps(MINIMAL["ae.arrival"]).encode())
    assert isinstance(event, AeArrival)


def test_arrival_defaults(parser: EventParser) -> None:
    event = parser.parse(json.dumps(MINIMAL["ae.arrival"]))
    assert isinstance(event, AeArrival)
    assert event.department_type == 1
    assert event.arrival_mode == "walk_in"
    assert event.mental_health is False


def test_ward_state_defaults(parser: EventParser) -> None:
    event = parser.parse(json.dumps(MINIMAL["beds.ward_state"]))
    assert isinstance(event, WardState)
    assert event.beds_open_escalation == 0
    assert event.nctr == 0


def test_full_arrival_values(parser: EventParser) -> None:
    event = parser.parse(json.dumps(FULL["ae.arrival"]))
    assert isinstance(event, AeArrival)
    assert event.department_type == 3
    assert event.arrival_mode == "ambulance"
    assert event.mental_health is True


@pytest.mark.parametrize(
    "outcome", ["admitted", "discharged", "transferred", "left_before_treatment", "other"]
)
def test_every_departure_outcome_is_valid(parser: EventParser, outcome: str) -> None:
    event = parser.parse(json.dumps(with_("ae.departure", outcome=outcome)))
    assert isinstance(event, AeDeparture)
    assert event.outcome == outcome


@pytest.mark.parametrize(
    "ward_type",
    [
        "adult_ga",
        "paediatric_ga",
        "adult_critical_care",
        "maternity",
        "mental_health",
        "other",
    ],
)
def test_every_ward_type_is_valid(parser: EventParser, ward_type: str) -> None:
    event = parser.parse(json.dumps(with_("beds.ward_state", ward_type=ward_type)))
    assert isinstance(event, WardState)
    assert event.ward_type == ward_type


@pytest.mark.parametrize("department_type", [1, 2, 3])
def test_department_types(parser: EventParser, department_type: int) -> None:
    event = parser.parse(json.dumps(with_("ae.arrival", department_type=department_type)))
    assert isinstance(event, AeArrival)
    assert event.department_type == department_type


@pytest.mark.parametrize("arrival_mode", ["ambulance", "walk_in", "other"])
def test_arrival_modes(parser: EventParser, arrival_mode: str) -> None:
    event = parser.parse(json.dumps(with_("ae.arrival", arrival_mode=arrival_mode)))
    assert isinstance(event, AeArrival)
    assert event.arrival_mode == arrival_mode


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01-15T10:00:00Z", datetime(2025, 1, 15, 10, 0, tzinfo=UTC)),
        ("2025-01-15T10:00:00+00:00", datetime(2025, 1, 15, 10, 0, tzinfo=UTC)),
        ("2025-07-15T11:00:00+01:00", datetime(2025, 7, 15, 10, 0, tzinfo=UTC)),
        ("2025-01-15T05:00:00-05:00", datetime(2025, 1, 15, 10, 0, tzinfo=UTC)),
        ("2025-01-15T10:00:00.5Z", datetime(2025, 1, 15, 10, 0, 0, 500_000, tzinfo=UTC)),
        ("2025-01-15T10:00:00.000001Z", datetime(2025, 1, 15, 10, 0, 0, 1, tzinfo=UTC)),
    ],
)
def test_rfc3339_timestamps_with_offset_are_valid(
    parser: EventParser, text: str, expected: datetime
) -> None:
    event = parser.parse(json.dumps(with_("ae.arrival", occurred_at=text)))
    assert event.occurred_at == expected
    assert event.occurred_at.utcoffset() is not None


def test_offset_is_kept_as_an_instant(parser: EventParser) -> None:
    event = parser.parse(json.dumps(with_("ae.arrival", occurred_at="2025-07-15T11:00:00+01:00")))
    assert event.occurred_at.utcoffset() == timedelta(hours=1)
    assert event.occurred_at == datetime(2025, 7, 15, 11, 0, tzinfo=timezone(timedelta(hours=1)))


def test_event_id_of_128_characters_is_valid(parser: EventParser) -> None:
    event = parser.parse(json.dumps(with_("ae.arrival", event_id="x" * 128)))
    assert event.event_id == "x" * 128


def test_nctr_equal_to_beds_occupied_is_valid(parser: EventParser) -> None:
    event = parser.parse(json.dumps(with_("beds.ward_state", beds_occupied=5, nctr=5)))
    assert isinstance(event, WardState)
    assert event.nctr == 5


def test_beds_occupied_may_exceed_beds_open(parser: EventParser) -> None:
    event = parser.parse(json.dumps(with_("beds.ward_state", beds_open_core=10, beds_occupied=12)))
    assert isinstance(event, WardState)
    assert event.beds_occupied == 12


def test_zero_counts_are_valid(parser: EventParser) -> None:
    event = parser.parse(
        json.dumps(
            with_(
                "beds.ward_state",
                beds_open_core=0,
                beds_open_escalation=0,
                beds_occupied=0,
                nctr=0,
            )
        )
    )
    assert isinstance(event, WardState)


@pytest.mark.parametrize("site", ["R1H12", "R1HKH", "R1HNH", "RF4QH", "RF4DG", "RQXM1"])
def test_every_registry_site_is_valid(parser: EventParser, site: str) -> None:
    assert parser.parse(json.dumps(with_("ae.arrival", site=site))).site == site


# --- rejections ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_type", "field"),
    [(event_type, field) for event_type, fields in REQUIRED.items() for field in fields],
)
def test_missing_required_field_is_rejected(
    parser: EventParser, event_type: str, field: str
) -> None:
    error = reject(parser, without(event_type, field))
    assert error.field == field


@pytest.mark.parametrize("event_type", sorted(MINIMAL))
def test_missing_event_type_is_rejected(parser: EventParser, event_type: str) -> None:
    error = reject(parser, without(event_type, "event_type"))
    assert error.field == "event_type"


@pytest.mark.parametrize("event_type", sorted(MINIMAL))
@pytest.mark.parametrize("extra", ["nhs_number", "patient_name", "mrn"])
def test_unknown_extra_field_is_rejected(parser: EventParser, event_type: str, extra: str) -> None:
    error = reject(parser, with_(event_type, **{extra: "9434765919"}))
    assert error.field == extra


@pytest.mark.parametrize(
    "text",
    [
        "2025-01-15T10:00:00",  # no offset
        "2025-01-15T10:00:00.123",  # no offset
        "1700000000",
        "2025-01-01",
        "2025-01-01T10:00Z",  # no seconds
        "2025-01-15T10:00:00+0100",  # offset without colon
        "2025-01-15T10:00:00+01",
        "2025-01-15 10:00",
        "20250115T100000Z",
        "Wed, 15 Jan 2025 10:00:00 GMT",
        "",
        "2025-02-30T10:00:00Z",  # no such day
        "2025-01-15T25:00:00Z",  # no such hour
    ],
)
def test_non_rfc3339_timestamp_is_rejected(parser: EventParser, text: str) -> None:
    error = reject(parser, with_("ae.arrival", occurred_at=text))
    assert error.field == "occurred_at"


@pytest.mark.parametrize("value", [1700000000, 1700000000.5, None, True, ["2025-01-15T10:00:00Z"]])
def test_non_string_timestamp_is_rejected(parser: EventParser, value: Any) -> None:
    error = reject(parser, with_("ae.arrival", occurred_at=value))
    assert error.field == "occurred_at"


@pytest.mark.parametrize(
    ("event_type", "field", "value"),
    [
        ("beds.ward_state", "beds_open_core", True),
        ("beds.ward_state", "beds_open_core", False),
        ("beds.ward_state", "beds_open_escalation", True),
        ("beds.ward_state", "beds_occupied", True),
        ("beds.ward_state", "nctr", False),
        ("ae.arrival", "department_type", True),
    ],
)
def test_boolean_as_integer_is_rejected(
    parser: EventParser, event_type: str, field: str, value: bool
) -> None:
    error = reject(parser, with_(event_type, **{field: value}))
    assert error.field == field


@pytest.mark.parametrize("value", [1, 0, "true", "false"])
def test_non_boolean_mental_health_is_rejected(parser: EventParser, value: Any) -> None:
    error = reject(parser, with_("ae.arrival", mental_health=value))
    assert error.field == "mental_health"


@pytest.mark.parametrize(
    ("event_type", "field", "value"),
    [
        ("beds.ward_state", "beds_open_core", "5"),
        ("beds.ward_state", "beds_open_escalation", "1"),
        ("beds.ward_state", "beds_occupied", "18"),
        ("beds.ward_state", "nctr", "0"),
        ("ae.arrival", "department_type", "1"),
    ],
)
def test_string_as_integer_is_rejected(
    parser: EventParser, event_type: str, field: str, value: str
) -> None:
    error = reject(parser, with_(event_type, **{field: value}))
    assert error.field == field


@pytest.mark.parametrize("field", ["beds_open_core", "beds_occupied", "beds_open_escalation"])
def test_float_as_integer_is_rejected(parser: EventParser, field: str) -> None:
    error = reject(parser, with_("beds.ward_state", **{field: 5.0}))
    assert error.field == field


@pytest.mark.parametrize(
    "field", ["beds_open_core", "beds_open_escalation", "beds_occupied", "nctr"]
)
def test_negative_integer_is_rejected(parser: EventParser, field: str) -> None:
    error = reject(parser, with_("beds.ward_state", **{field: -1}))
    assert error.field == field


def test_nctr_above_beds_occupied_is_rejected(parser: EventParser) -> None:
    error = reject(parser, with_("beds.ward_state", beds_occupied=5, nctr=6))
    assert error.field == "nctr"


def test_nctr_above_beds_occupied_is_rejected_whatever_the_key_order(
    parser: EventParser,
) -> None:
    fields = with_("beds.ward_state", beds_occupied=2)
    text = json.dumps({"nctr": 3, **fields})  # nctr before beds_occupied in the JSON
    error = reject(parser, text)
    assert error.field == "nctr"


@pytest.mark.parametrize("department_type", [0, 4, -1])
def test_department_type_out_of_range_is_rejected(
    parser: EventParser, department_type: int
) -> None:
    error = reject(parser, with_("ae.arrival", department_type=department_type))
    assert error.field == "department_type"


@pytest.mark.parametrize(
    ("event_type", "field", "value"),
    [
        ("ae.departure", "outcome", "died"),
        ("ae.arrival", "arrival_mode", "helicopter"),
        ("beds.ward_state", "ward_type", "adult"),
    ],
)
def test_value_outside_enumeration_is_rejected(
    parser: EventParser, event_type: str, field: str, value: str
) -> None:
    error = reject(parser, with_(event_type, **{field: value}))
    assert error.field == field


@pytest.mark.parametrize("site", ["XXX01", "r1h12", "", "R1H"])
def test_site_not_in_registry_is_rejected(parser: EventParser, site: str) -> None:
    error = reject(parser, with_("ae.arrival", site=site))
    assert error.field == "site"


@pytest.mark.parametrize("event_id", ["", "x" * 129, "x" * 1000])
def test_event_id_empty_or_too_long_is_rejected(parser: EventParser, event_id: str) -> None:
    error = reject(parser, with_("ae.arrival", event_id=event_id))
    assert error.field == "event_id"


@pytest.mark.parametrize("event_id", [1, None, True])
def test_non_string_event_id_is_rejected(parser: EventParser, event_id: Any) -> None:
    error = reject(parser, with_("ae.arrival", event_id=event_id))
    assert error.field == "event_id"


@pytest.mark.parametrize("event_type", ["ae.arrival", "ae.decision_to_admit", "ae.departure"])
def test_empty_attendance_id_is_rejected(parser: EventParser, event_type: str) -> None:
    error = reject(parser, with_(event_type, attendance_id=""))
    assert error.field == "attendance_id"


@pytest.mark.parametrize("event_type", ["ae.admission", "AE.ARRIVAL", "arrival", "", "beds.ward"])
def test_unknown_event_type_is_rejected(parser: EventParser, event_type: str) -> None:
    error = reject(parser, with_("ae.arrival", event_type=event_type))
    assert error.field == "event_type"


def test_non_string_event_type_is_rejected(parser: EventParser) -> None:
    error = reject(parser, with_("ae.arrival", event_type=1))
    assert error.field == "event_type"


@pytest.mark.parametrize("raw", ["[]", "[{}]", '"ae.arrival"', "42", "null", "true"])
def test_not_a_json_object_is_rejected(parser: EventParser, raw: str) -> None:
    error = reject(parser, raw)
    assert error.field is None


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "{",
        "{'event_id': 'x'}",
        '{"event_id": "x",}',
        "not json",
        b"\xff\xfe",
        json.dumps(MINIMAL["ae.arrival"])[:-1],
        json.dumps(MINIMAL["ae.arrival"]) + "\n" + json.dumps(MINIMAL["ae.arrival"]),
    ],
)
def test_invalid_json_is_rejected(parser: EventParser, raw: str | bytes) -> None:
    error = reject(parser, raw)
    assert error.field is None


def test_reason_of_many_errors_is_one_line(parser: EventParser) -> None:
    raw = with_(
        "beds.ward_state",
        event_id="",
        occurred_at="yesterday",
        beds_open_core=-1,
        beds_occupied="x",
        nhs_number="9434765919",
    )
    reject(parser, raw)


def test_invalid_event_carries_reason_and_field() -> None:
    error = InvalidEvent("site: unknown", "site")
    assert error.reason == "site: unknown"
    assert error.field == "site"
    assert str(error) == "site: unknown"
    assert InvalidEvent("bad").field is None


@pytest.mark.parametrize("site", ["R1H12\nX", "R1H12\r\nX", "X\rY"])
def test_reason_is_one_line_for_site_with_line_break(parser: EventParser, site: str) -> None:
    error = reject(parser, with_("ae.arrival", site=site))
    assert error.field == "site"


@pytest.mark.parametrize("extra", ["nhs\nnumber", "nhs_number\r"])
def test_reason_is_one_line_for_unknown_field_name_with_line_break(
    parser: EventParser, extra: str
) -> None:
    reject(parser, with_("ae.arrival", **{extra: "9434765919"}))


def test_reason_is_one_line_for_multi_line_invalid_json(parser: EventParser) -> None:
    error = reject(parser, '{\n  "event_id": \n}\n')
    assert error.field is None


# --- the reason names the field (docs/contract.md examples) --------------------------------------


def test_reason_for_timestamp_without_offset(parser: EventParser) -> None:
    error = reject(parser, with_("ae.arrival", occurred_at="2025-01-31T08:00:00"))
    assert error.reason == (
        "occurred_at: must be an RFC 3339 timestamp with an offset, e.g. 2025-01-31T08:00:00Z"
    )


def test_reason_for_unknown_field(parser: EventParser) -> None:
    error = reject(parser, with_("ae.arrival", nhs_number="9434765919"))
    assert error.reason == "nhs_number: Extra inputs are not permitted"


def test_reason_for_site_not_in_registry(parser: EventParser) -> None:
    error = reject(parser, with_("ae.arrival", site="RAL01"))
    assert error.reason == "site: 'RAL01' is not in the site registry"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (without("ae.departure", "outcome"), "outcome"),
        (with_("beds.ward_state", beds_open_core=True), "beds_open_core"),
        (with_("beds.ward_state", beds_occupied="18"), "beds_occupied"),
        (with_("beds.ward_state", nctr=-1), "nctr"),
        (with_("beds.ward_state", beds_occupied=2, nctr=3), "nctr"),
        (with_("ae.arrival", event_id=""), "event_id"),
        (with_("ae.arrival", attendance_id=""), "attendance_id"),
        (with_("ae.arrival", event_type="ae.nope"), "event_type"),
        (without("ae.arrival", "event_type"), "event_type"),
        (with_("ae.arrival", occurred_at="1700000000"), "occurred_at"),
    ],
)
def test_reason_names_the_field(parser: EventParser, raw: dict[str, Any], field: str) -> None:
    error = reject(parser, raw)
    assert error.field == field
    assert error.reason.startswith(f"{field}: ")


def test_empty_ward_is_rejected(parser: EventParser) -> None:
    error = reject(parser, with_("beds.ward_state", ward=""))
    assert error.field == "ward"
