"""Turn one line of bytes into a contract event, or say in one line why it is not one."""

from __future__ import annotations

import re
from typing import get_args

from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from events.contract import EVENT_TYPES, DiscriminatedEvent, Event, on_the_calendar
from uecflow.config import Registry

_EVENT = TypeAdapter[Event](DiscriminatedEvent)
_OFF_CALENDAR = "must fall within years 1 to 9999 both in UTC and in London"


class InvalidEvent(ValueError):
    """An event that breaks the contract. `field` names the first offending field, if any."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


class EventParser:
    """Validates raw JSON against the contract and the site registry."""

    def __init__(self, registry: Registry) -> None:
        self._sites = frozenset(registry.sites)

    def parse(self, raw: bytes | str) -> Event:
        if not raw.strip():
            raise InvalidEvent("empty line: expected one JSON object")
        try:
            event = _EVENT.validate_json(raw)
        except ValidationError as error:
            raise _invalid(error) from None
        if not on_the_calendar(event.occurred_at):
            raise InvalidEvent(f"occurred_at: {_OFF_CALENDAR}", "occurred_at")
        if event.site not in self._sites:
            raise InvalidEvent(
                f"site: '{_printable(event.site)}' is not in the site registry", "site"
            )
        return event


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")  # all that may break a line
_LONGEST_NAME = 64


def _printable(text: str) -> str:
    """What a sender wrote, made safe for a one-line reason (and for the logs it may reach)."""
    if len(text) > _LONGEST_NAME:
        text = text[:_LONGEST_NAME] + "..."
    return _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode(), text)


def _invalid(error: ValidationError) -> InvalidEvent:
    details = error.errors(include_url=False, include_input=False)
    if not details:
        return InvalidEvent("invalid event")
    first = details[0]
    if first["type"] == "json_invalid":
        return InvalidEvent(f"not valid JSON: {first['ctx']['error']}")
    if first["type"] in ("dict_type", "model_type"):
        return InvalidEvent("an event must be a JSON object")
    if first["type"] == "union_tag_not_found":
        return InvalidEvent("event_type: missing", "event_type")
    if first["type"] == "union_tag_invalid":
        return InvalidEvent(f"event_type: not one of {', '.join(_event_types())}", "event_type")
    parts = [_describe(detail) for detail in details]
    field = _field(details[0]["loc"])
    return InvalidEvent("; ".join(parts), field)


def _describe(detail: ErrorDetails) -> str:
    field = _field(detail["loc"]) or "event"
    if detail["type"] == "string_pattern_mismatch":
        return f"{field}: must be an RFC 3339 timestamp with an offset, e.g. 2025-01-31T08:00:00Z"
    message = str(detail["msg"]).removeprefix("Value error, ")
    return f"{field}: {message}"


def _field(loc: tuple[int | str, ...]) -> str | None:
    # The first element of a discriminated union's location is the event type, not a field.
    names = [_printable(str(part)) for part in loc[1:]]
    return ".".join(names) if names else None


def _event_types() -> list[str]:
    return [get_args(model.model_fields["event_type"].annotation)[0] for model in EVENT_TYPES]
