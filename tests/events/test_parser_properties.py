"""The parser never crashes: any line is an event or an InvalidEvent with a one-line reason."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import EventParser, InvalidEvent
from tests.streams.core.flow_events import PARSER, SITES, SPRING, any_event

FIELDS = (
    "event_id",
    "event_type",
    "occurred_at",
    "site",
    "attendance_id",
    "department_type",
    "arrival_mode",
    "mental_health",
    "outcome",
    "ward",
    "ward_type",
    "beds_open_core",
    "beds_open_escalation",
    "beds_occupied",
    "nctr",
    "handover_id",
)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)

# Values that are wrong for some field of the contract, or right for another one.
odd_values: st.SearchStrategy[Any] = st.sampled_from(
    (
        None,
        True,
        False,
        0,
        1,
        4,
        -1,
        1.0,
        2.5,
        "1",
        "",
        " ",
        "x" * 129,
        [],
        {},
        "2025-01-15T10:00:00",
        "2025-01-15T10:00:00+0100",
        "2025-01-15 10:00:00Z",
        "2025-01-15T10:00Z",
        "2025-01-15",
        "1736935200",
        "2025-02-30T10:00:00Z",
        "2025-01-15T25:00:00Z",
        "9999-12-31T23:59:59-23:59",
        "0001-01-01T00:00:00+23:59",
        "R1H12 ",
        "r1h12",
        "ambulance ",
        "ADULT_GA",
        "ae.arrival",
        "beds.ward_state",
    )
)


@st.composite
def valid_events(draw: st.DrawFn) -> dict[str, Any]:
    event: dict[str, Any] = draw(any_event(SPRING, timedelta(days=3), SITES))
    event["event_id"] = draw(st.text(min_size=1, max_size=128))
    return event


@st.composite
def mutated_events(draw: st.DrawFn) -> bytes:
    """A valid event with one thing wrong (or, rarely, still right)."""
    event = draw(valid_events())
    how = draw(st.sampled_from(("retype", "odd", "delete", "extra", "nctr")))
    if how == "retype":
        event[draw(st.sampled_from(FIELDS))] = draw(json_values)
    elif how == "odd":
        event[draw(st.sampled_from(FIELDS))] = draw(odd_values)
    elif how == "delete":
        del event[draw(st.sampled_from(sorted(event)))]
    elif how == "extra":
        event[draw(st.text(max_size=12).filter(lambda name: name not in FIELDS))] = draw(
            json_values
        )
    else:
        event.update(event_type="beds.ward_state", ward="w", ward_type="adult_ga", beds_open_core=1)
        event.update(beds_occupied=draw(st.integers(0, 5)), nctr=draw(st.integers(0, 10)))
    return json.dumps(event, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")


@st.composite
def truncated_events(draw: st.DrawFn) -> bytes:
    line = json.dumps(draw(valid_events())).encode()
    return line[: draw(st.integers(0, len(line) - 1))]


@st.composite
def flipped_bytes(draw: st.DrawFn) -> bytes:
    line = bytearray(json.dumps(draw(valid_events())).encode())
    line[draw(st.integers(0, len(line) - 1))] = draw(st.integers(0, 255))
    return bytes(line)


def as_text(line: bytes) -> str:
    return line.decode("utf-8", "surrogateescape")


any_lines: st.SearchStrategy[bytes | str] = st.one_of(
    st.binary(max_size=120),
    st.text(max_size=60),
    st.text(st.characters(categories=["Cs", "Zl", "Zp", "Cc"]), max_size=10).map(
        lambda text: '{"event_id": "' + text + '"}'
    ),
    json_values.map(lambda value: json.dumps(value).encode()),
    mutated_events(),
    mutated_events().map(as_text),
    truncated_events(),
    flipped_bytes(),
    st.sampled_from(
        (
            b"",
            b"\n",
            b"\r\n",
            b"null",
            b"[]",
            b"{}",
            b"[" * 5000,
            b'{"a":' * 5000,
            b"\xef\xbb\xbf{}",
            b'{"event_type": ["ae.arrival"]}',
            b'{"event_type": {"ae.arrival": 1}}',
            b'{"event_type": "ae.arrival", "event_type": 5}',
            b'{"occurred_at": "\\ud800"}',
        )
    ),
)

BATCH = 25
EXAMPLES = 400  # 400 batches of 25: 10,000 lines


def parse_error(parser: EventParser, line: bytes | str) -> InvalidEvent | None:
    """None if the line parsed; else the InvalidEvent. Any other exception propagates."""
    try:
        parser.parse(line)
    except InvalidEvent as error:
        return error
    return None


def parse_or_reason(parser: EventParser, line: bytes | str) -> str | None:
    error = parse_error(parser, line)
    return None if error is None else error.reason


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(lines=st.lists(any_lines, min_size=BATCH, max_size=BATCH))
def test_parsing_any_line_returns_an_event_or_raises_invalid_event(
    lines: list[bytes | str],
) -> None:
    for line in lines:
        error = parse_error(PARSER, line)
        if error is not None:
            assert isinstance(error.reason, str)
            assert error.reason.strip(), line
            assert error.field is None or isinstance(error.field, str)


def echoes_no_line_break(line: bytes | str) -> bool:
    """True if no string in the line can decode to a line break (so none can be echoed)."""
    text = line if isinstance(line, str) else line.decode("utf-8", "replace")
    breaks = ("\n", "\r", "\\n", "\\r", "\\u", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85")
    return not any(mark in text for mark in (*breaks, "\u2028", "\u2029"))


@settings(
    max_examples=EXAMPLES // 2,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(lines=st.lists(any_lines, min_size=BATCH, max_size=BATCH))
def test_every_reason_for_a_line_without_line_breaks_is_a_single_line(
    lines: list[bytes | str],
) -> None:
    for line in lines:
        if not echoes_no_line_break(line):
            continue
        reason = parse_or_reason(PARSER, line)
        if reason is not None:
            assert len(reason.splitlines()) == 1, (line, reason)


def arrival(**changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_id": "e-1",
        "event_type": "ae.arrival",
        "occurred_at": "2025-01-15T10:00:00Z",
        "site": "R1H12",
        "attendance_id": "att-1",
    }
    event.update(changes)
    return event


LINE_BREAKS = [
    pytest.param("\n", id="line feed"),
    pytest.param("\r", id="carriage return"),
    pytest.param("\r\n", id="carriage return line feed"),
    pytest.param("\u2028", id="line separator"),
    pytest.param("\x85", id="next line"),
]


def assert_one_line(reason: str | None) -> None:
    assert reason is not None
    assert "\n" not in reason
    assert "\r" not in reason
    assert len(reason.splitlines()) == 1, reason


@pytest.mark.parametrize("line_break", LINE_BREAKS)
def test_the_reason_for_an_unknown_site_containing_a_line_break_is_one_line(
    line_break: str,
) -> None:
    assert_one_line(parse_or_reason(PARSER, json.dumps(arrival(site=f"R1H12{line_break}R1HKH"))))


@pytest.mark.parametrize("line_break", LINE_BREAKS)
def test_the_reason_for_an_unknown_field_named_with_a_line_break_is_one_line(
    line_break: str,
) -> None:
    line = json.dumps(arrival(**{f"nhs{line_break}number": "943 476 5919"}))
    assert_one_line(parse_or_reason(PARSER, line))


@pytest.mark.parametrize("line_break", LINE_BREAKS)
def test_the_reason_for_a_bad_value_of_a_field_named_with_a_line_break_is_one_line(
    line_break: str,
) -> None:
    event = arrival()
    event[f"ward{line_break}"] = {"beds": [1, 2]}
    assert_one_line(parse_or_reason(PARSER, json.dumps(event, ensure_ascii=False)))


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(json.dumps(arrival(occurred_at="2025-01-15T10:00:00")), id="no offset"),
        pytest.param(json.dumps(arrival(department_type=True)), id="boolean department type"),
        pytest.param(json.dumps(arrival(department_type=4)), id="department type 4"),
        pytest.param(json.dumps(arrival(event_id="")), id="empty event id"),
        pytest.param(json.dumps(arrival(event_id="x" * 129)), id="129 character event id"),
        pytest.param(json.dumps(arrival(attendance_id="")), id="empty attendance id"),
        pytest.param(json.dumps(arrival(site="XXX99")), id="site not in the registry"),
        pytest.param(json.dumps(arrival(extra="field")), id="unknown field"),
        pytest.param(json.dumps(arrival(mental_health=1)), id="integer as boolean"),
        pytest.param(json.dumps(arrival(arrival_mode="helicopter")), id="unknown arrival mode"),
    ],
)
def test_each_contract_violation_is_rejected_with_a_one_line_reason(line: str) -> None:
    assert_one_line(parse_or_reason(PARSER, line))
