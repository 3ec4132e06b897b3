"""What the live worker lets into the flow core, and why it refuses the rest.

Pure: the worker's clock comes in as `now`. Each refusal has a one-line reason for the
dead-letter topic; nothing is dropped silently.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import get_args

from events.contract import (
    AeArrival,
    AeDecisionToAdmit,
    AeDeparture,
    AmbulanceArrival,
    AmbulanceHandover,
    Event,
    EventBase,
    OpelDeclared,
    WardState,
    rfc3339,
)
from events.parse import EventParser, InvalidEvent
from uecflow.config import Registry


class Stream(Enum):
    """The three feeds, one Kafka topic each. The beds feed also carries OPEL declarations: the
    site's capacity picture, from the same site team."""

    AE = "ae"
    BEDS = "beds"
    AMBULANCE = "ambulance"


# How the boards and the report name each feed (by its `stream` label) to people.
FEED_NAMES = {
    Stream.AE.value: "A&E",
    Stream.BEDS.value: "beds",
    Stream.AMBULANCE.value: "ambulance",
}

STREAM_OF: dict[type[EventBase], Stream] = {
    AeArrival: Stream.AE,
    AeDecisionToAdmit: Stream.AE,
    AeDeparture: Stream.AE,
    WardState: Stream.BEDS,
    AmbulanceArrival: Stream.AMBULANCE,
    AmbulanceHandover: Stream.AMBULANCE,
    OpelDeclared: Stream.BEDS,
}
# By the `event_type` a message says it has, for tools that route lines without parsing them.
STREAM_OF_TYPE: dict[str, Stream] = {
    get_args(model.model_fields["event_type"].annotation)[0]: stream
    for model, stream in STREAM_OF.items()
}


# Every label `Refused.kind` takes: the exporter shows each at 0 from the start, so that the first
# refusal is an increase Prometheus can see.
REFUSAL_KINDS = ("contract", "wrong_stream", "wrong_key", "wrong_partition", "future", "too_late")


class Keys(Enum):
    """A message read from a file, not Kafka: it has no key to check."""

    UNCHECKED = "unchecked"


@dataclass(frozen=True, slots=True)
class Refused:
    reason: str  # one line, for the dead-letter topic
    field: str | None = None
    # A bounded label for counting (one of REFUSAL_KINDS); the reason says it.
    kind: str = dataclasses.field(default="contract", compare=False)


class Intake:
    def __init__(self, registry: Registry) -> None:
        self._parser = EventParser(registry)
        self._tolerance = registry.future_tolerance

    def admit(self, raw: bytes | None, stream: Stream, now: datetime) -> Event | Refused:
        if raw is None:  # a tombstone: someone treated the topic as compacted
            return Refused("message has no value: expected one JSON object")
        try:
            event = self._parser.parse(raw)
        except InvalidEvent as invalid:
            return Refused(invalid.reason, invalid.field)
        belongs = STREAM_OF[type(event)]
        if belongs is not stream:
            return Refused(
                f"event_type: '{event.event_type}' belongs on the {belongs.value} stream,"
                f" not the {stream.value} stream",
                "event_type",
                "wrong_stream",
            )
        if event.occurred_at > now + self._tolerance:
            return Refused(
                f"occurred_at: {rfc3339(event.occurred_at)} is more than"
                f" {_hours(self._tolerance.total_seconds())} ahead of the clock"
                f" ({rfc3339(now)}): check the sender's clock",
                "occurred_at",
                "future",
            )
        return event


def misrouted(event: Event, key: bytes | Keys | None) -> Refused | None:
    """A message on Kafka must be keyed by its site: the site's partition, and so the worker
    that holds its state, follow from the key. The key is never quoted: it may be anything."""
    if key is Keys.UNCHECKED or key == event.site.encode():
        return None
    said = "has no Kafka key" if key is None else "has a Kafka key other than its site"
    return Refused(
        f"the message {said}: key each message by its site ('{event.site}') so that all of a"
        " site's events reach the worker that counts them",
        None,
        "wrong_key",
    )


def strayed(event: Event) -> Refused:
    """A message keyed by its site but on a partition other than its site's: counting it here
    would put the site's state on two workers."""
    return Refused(
        f"the message is on a partition other than its site's ('{event.site}'): send it with"
        " Kafka's default partitioner, which puts every message keyed by a site on one partition",
        None,
        "wrong_partition",
    )


def too_late(event: Event, horizon: timedelta) -> Refused:
    """The reason for an event older than its site's event time minus the lateness horizon."""
    return Refused(
        f"occurred_at: {rfc3339(event.occurred_at)} is more than"
        f" {_hours(horizon.total_seconds())}"
        f" older than the latest event of site {event.site}: too late to count exactly",
        "occurred_at",
        "too_late",
    )


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:g} h"
