"""What the live worker refuses before the flow core sees it, and the reasons it gives."""

from __future__ import annotations

from datetime import timedelta

import pytest

from events import Event
from streams.core.intake import Intake, Refused, Stream
from tests.events_builder import REGISTRY, ambulance_arrival, arrival, at, ward

NOW = at("2025-11-20T12:00:00Z")
INTAKE = Intake(REGISTRY)


def raw(event: Event) -> bytes:
    return event.model_dump_json().encode()


@pytest.mark.parametrize(
    ("event", "stream"),
    [
        (arrival("a1", NOW), Stream.AE),
        (ward("w1", NOW, beds_open_core=10, beds_open_escalation=0, beds_occupied=5, nctr=1),
         Stream.BEDS),
        (ambulance_arrival("h1", NOW), Stream.AMBULANCE),
    ],
)  # fmt: skip
def test_a_valid_event_on_its_own_stream_is_admitted(event: Event, stream: Stream) -> None:
    assert INTAKE.admit(raw(event), stream, NOW) == event


def test_an_event_on_another_streams_topic_is_refused_with_where_it_belongs() -> None:
    refused = INTAKE.admit(raw(ambulance_arrival("h1", NOW)), Stream.AE, NOW)
    assert refused == Refused(
        "event_type: 'ambulance.arrival' belongs on the ambulance stream, not the ae stream",
        "event_type",
    )


def test_an_event_exactly_at_the_future_tolerance_is_admitted() -> None:
    event = arrival("a1", NOW + REGISTRY.future_tolerance)
    assert INTAKE.admit(raw(event), Stream.AE, NOW) == event


def test_an_event_beyond_the_future_tolerance_is_refused_as_a_clock_error() -> None:
    event = arrival("a1", NOW + REGISTRY.future_tolerance + timedelta(microseconds=1))
    refused = INTAKE.admit(raw(event), Stream.AE, NOW)
    assert isinstance(refused, Refused)
    assert refused.field == "occurred_at"
    assert "ahead of the clock" in refused.reason


@pytest.mark.parametrize(
    "line", [None, b"", b"{", b'{"event_type":"ae.arrival"}', b"\xff\xfe", b"[]", b"null"]
)
def test_bad_bytes_are_refused_with_a_one_line_reason(line: bytes | None) -> None:
    refused = INTAKE.admit(line, Stream.AE, NOW)
    assert isinstance(refused, Refused)
    assert refused.reason
    assert "\n" not in refused.reason
