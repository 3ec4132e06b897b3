"""Turn one line of bytes into a contract event, or say in one line why it is not one."""

from __future__ import annotations

from pydantic import TypeAdapter, ValidationError

from events.contract import DiscriminatedEvent, Event
from events.registry import Registry

_EVENT = TypeAdapter[Event](DiscriminatedEvent)


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
        try:
            event = _EVENT.validate_json(raw)
        except ValidationError as error:
            raise _invalid(error) from None
        if event.site not in self._sites:
            raise InvalidEvent(f"site: '{event.site}' is not in the site registry", "site")
        return event


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


def _describe(detail: object) -> str:
    assert isinstance(detail, dict)
    field = _field(detail["loc"]) or "event"
    message = str(detail["msg"]).removeprefix("Value error, ")
    return f"{field}: {message}"


def _field(loc: tuple[int | str, ...]) -> str | None:
    # The first element of a discriminated union's location is the event type, not a field.
    names = [str(part) for part in loc[1:]]
    return ".".join(names) if names else None


def _event_types() -> list[str]:
    from events.contract import EVENT_TYPES

    return [model.model_fields["event_type"].annotation.__args__[0] for model in EVENT_TYPES]  # type: ignore[union-attr]
