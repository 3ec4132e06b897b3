"""What the gateway's OpenAPI document says: the answers' shapes, the texts and the event schema.

The routes answer with JSONResponse (built in producers.gateway.delivery and
producers.gateway.refusal); the models here only document those answers. The published
document is schemas/gateway-openapi.json (`uecflow gateway --openapi`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from events.schema import json_schema
from producers.gateway.settings import GatewaySettings
from uecflow.config import Registry


class AcceptedEvent(BaseModel):
    index: int
    event_id: str


class RejectedEvent(BaseModel):
    index: int
    event_id: str | None
    status: Literal[403, 422]
    field: str | None
    reason: str


class BatchResult(BaseModel):
    accepted: list[AcceptedEvent]
    rejected: list[RejectedEvent]


class NotAcknowledged(BatchResult):
    error: str
    not_acknowledged: list[AcceptedEvent]


class ErrorBody(BaseModel):
    error: str


class Health(BaseModel):
    status: Literal["ok"]


class OutcomeIssue(BaseModel):
    severity: Literal["information", "error"]
    code: str
    diagnostics: str


class OperationOutcome(BaseModel):
    """The FHIR answer of POST /fhir/Encounter (the elements it uses)."""

    resourceType: Literal["OperationOutcome"]  # FHIR's own name
    issue: list[OutcomeIssue]


def api_description(settings: GatewaySettings) -> str:
    return (
        "Trusts send urgent and emergency care events here. A 202 means Kafka has every "
        "accepted event. Each token may post only for its own trust's sites. Limits per trust: "
        f"{settings.rate_per_second:g} requests/s (bursts of {settings.rate_burst}), "
        f"{settings.max_body_bytes:,} bytes and {settings.max_events:,} events a request, "
        f"{settings.max_event_bytes:,} bytes an event."
    )


def events_description(settings: GatewaySettings) -> str:
    return (
        "The body is one event object, a JSON array of event objects, or JSON Lines "
        "(Content-Type application/x-ndjson). Each event is judged on its own: the answer lists "
        "the accepted and the rejected ones by `index` (array position, or line number less "
        "one). 202: Kafka acknowledged every accepted event; rejections, if any, are listed. "
        "403/422: nothing accepted (403 when every event was for another trust's site). 503: "
        "Kafka did not acknowledge; nothing of the batch is accepted, send it again after "
        f"Retry-After seconds ({settings.retry_after_seconds} s). Re-posting an event_id is "
        "harmless: duplicates are dropped downstream."
    )


def events_responses() -> dict[int | str, dict[str, Any]]:
    """The answers of POST /v1/events other than 202."""

    def error(description: str) -> dict[str, Any]:
        return {"model": ErrorBody, "description": description}

    return {
        400: error("Empty body, or an array that is not valid JSON"),
        401: error("No, wrong or revoked bearer token"),
        403: {"model": BatchResult, "description": "Every event was for another trust's site"},
        408: error("The body did not arrive in time"),
        413: error("Body or batch too large"),
        415: error("Unsupported Content-Type, charset or Content-Encoding"),
        422: {"model": BatchResult, "description": "No event was accepted"},
        429: error("Rate limit exceeded: see Retry-After"),
        503: {
            "model": NotAcknowledged,
            "description": "Kafka did not acknowledge: nothing accepted, see Retry-After",
        },
    }


def events_request_body(settings: GatewaySettings) -> dict[str, Any]:
    event = {"$ref": "#/components/schemas/Event"}
    batch = {"type": "array", "items": event, "minItems": 1, "maxItems": settings.max_events}
    return {
        "required": True,
        "content": {
            "application/json": {"schema": {"oneOf": [event, batch]}},
            "application/x-ndjson": {
                "schema": {"type": "string", "description": "One event object per line"}
            },
        },
    }


def event_schemas(registry: Registry) -> dict[str, Any]:
    """The published event contract (events-v1), as OpenAPI components with an `Event` root."""
    schema = _rebased(json_schema(registry))
    definitions: dict[str, Any] = schema.pop("$defs")
    schema.pop("$schema", None)
    schema.pop("$id", None)
    return {**definitions, "Event": schema}


def _rebased(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _rebased(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_rebased(value) for value in node]
    if isinstance(node, str) and node.startswith("#/$defs/"):
        return "#/components/schemas/" + node.removeprefix("#/$defs/")
    return node


def fhir_encounter_description(settings: GatewaySettings) -> str:
    return (
        "One FHIR R4 (UK Core) Encounter of class EMER, with the same token, rate and limits "
        "as /v1/events, mapped to ae.arrival (period.start), ae.decision_to_admit (the trust's "
        "extension) and ae.departure (period.end of a finished Encounter, outcome from "
        "hospitalization.dischargeDisposition) with the trust's EPR adapter settings; then judged "
        "as /v1/events judges events, all of them sent or none. The subject and every Patient "
        "element are never read. 200: Kafka acknowledged each event the OperationOutcome "
        "lists, or the Encounter is not one uecflow counts (nothing sent). 503: post it again "
        f"after Retry-After seconds ({settings.retry_after_seconds} s). Posting an Encounter "
        "again, or its later versions, is harmless: the same events keep their ids."
    )


def fhir_encounter_responses() -> dict[int | str, dict[str, Any]]:
    """The answers of POST /fhir/Encounter other than 200."""

    def outcome(description: str) -> dict[str, Any]:
        return {"model": OperationOutcome, "description": description}

    return {
        400: outcome("Not JSON, or not a FHIR R4 Encounter"),
        401: outcome("No, wrong or revoked bearer token"),
        403: outcome("No FHIR mapping for the trust, or another trust's site"),
        408: outcome("The body did not arrive in time"),
        413: outcome("Body too large"),
        415: outcome("Unsupported Content-Type, charset or Content-Encoding"),
        422: outcome("The Encounter cannot be mapped, or an event breaks the contract"),
        429: outcome("Rate limit exceeded: see Retry-After"),
        503: outcome("Kafka did not acknowledge: nothing sent, see Retry-After"),
    }


def fhir_encounter_request_body() -> dict[str, Any]:
    schema = {
        "type": "object",
        "description": "A FHIR R4 Encounter resource (UK Core)",
        "required": ["resourceType", "status", "class"],
        "properties": {"resourceType": {"const": "Encounter"}},
    }
    return {
        "required": True,
        "content": {
            "application/fhir+json": {"schema": schema},
            "application/json": {"schema": schema},
        },
    }
