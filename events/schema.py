"""The contract published as JSON Schema, for trusts' integration teams."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from events.contract import CONTRACT_VERSION, DiscriminatedEvent
from uecflow.config import Registry

_DESCRIPTION = (
    "One event, sent as one JSON object (one line of JSON Lines). Unknown fields are rejected. "
    "Beyond this schema: integers are written without a fraction (1, not 1.0); nctr must not "
    "exceed beds_occupied; an event_id already seen is a duplicate and is ignored."
)


def json_schema(registry: Registry) -> dict[str, Any]:
    """JSON Schema (2020-12) of one event; site codes are the registry's."""
    schema = TypeAdapter(DiscriminatedEvent).json_schema(ref_template="#/$defs/{model}")
    sites = sorted(registry.sites)
    for definition in schema.get("$defs", {}).values():
        if "site" in definition.get("properties", {}):
            definition["properties"]["site"]["enum"] = sites
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:uecflow:events:v{CONTRACT_VERSION}",
        "title": f"uecflow event, contract v{CONTRACT_VERSION}",
        "description": _DESCRIPTION,
        **schema,
    }
