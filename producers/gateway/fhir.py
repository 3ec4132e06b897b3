"""`POST /fhir/Encounter`: one FHIR R4 (UK Core) Encounter, mapped to contract events at the edge.

The same token, rate, body limits and per-event rules as `POST /v1/events` (the same `Access`,
`read_body`, `BatchJudge` and `Delivery`); the Encounter is mapped with the posting trust's EPR
adapter settings (producers.epr.fhir_mapping). Every answer is an `OperationOutcome`
(`application/fhir+json`), its diagnostics never quoting the patient:

- 200 information: Kafka acknowledged each event listed (or, for an Encounter uecflow does not
  count, nothing was sent and the issue says why);
- 400 not JSON or not an Encounter; 401 token; 403 no mapping for the trust, or another trust's
  site; 408, 413, 415 the body; 422 an Encounter that cannot be mapped, or an event breaking the
  contract; 429 rate (Retry-After); 503 Kafka did not acknowledge (Retry-After).

The Encounter's events go to Kafka together or not at all: a refused event refuses them all.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Mapping

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials

from producers.epr.fhir_mapping import Ignored, Invalid, Unmappable, map_encounter
from producers.epr.settings import AdapterSettings
from producers.gateway.access import Access
from producers.gateway.admission import Accepted, BatchJudge, Rejected
from producers.gateway.body import json_value, read_body
from producers.gateway.credentials import Credential
from producers.gateway.delivery import Delivery
from producers.gateway.metrics import GatewayMetrics
from producers.gateway.refusal import Refusal
from producers.gateway.settings import GatewaySettings
from producers.kafka.sender import Sender
from uecflow.config import Registry

log = logging.getLogger("uecflow.gateway")

FHIR_JSON = "application/fhir+json"
_MEDIA_TYPES = frozenset({FHIR_JSON, "application/json"})
_UTF8 = frozenset({"utf-8", "utf8"})
# http://hl7.org/fhir/issue-type, by the status of a refusal made before the Encounter is read.
_ISSUE_TYPES = {
    400: "structure",
    401: "login",
    403: "forbidden",
    408: "timeout",
    413: "too-costly",
    415: "not-supported",
    422: "processing",
    429: "throttled",
    503: "transient",
}
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)

Issue = dict[str, str]
Summary = dict[str, object]  # what the log line says became of the request


class PostEncounter:
    """The per-request work of POST /fhir/Encounter, in the order a request meets it."""

    def __init__(
        self,
        settings: GatewaySettings,
        registry: Registry,
        sender: Sender,
        metrics: GatewayMetrics,
        access: Access,
    ) -> None:
        self._settings = settings
        self._access = access  # shared with /v1/events: one rate per trust, whichever route
        self._judge = BatchJudge(registry, settings)
        self._delivery = Delivery(sender, settings.retry_after_seconds, metrics)
        self._metrics = metrics

    async def handle(
        self, request: Request, authorization: HTTPAuthorizationCredentials | None
    ) -> Response:
        request_id = uuid.uuid4().hex[:16]
        started = time.perf_counter()
        credential: Credential | None = None
        try:
            source = request.client.host if request.client else "unknown"
            credential = self._access.admit(authorization, source)
            adapter = self._adapter(credential.trust)
            _check_form(
                request.headers.get("content-type"), request.headers.get("content-encoding")
            )
            body = await read_body(
                request, self._settings.max_body_bytes, self._settings.body_timeout_seconds
            )
            response, summary = await self._answer(request_id, body, adapter, credential)
        except Refusal as refusal:
            response = outcome(refusal.status, [_issue(refusal.status, refusal.message)])
            response.headers.update(refusal.headers)
            summary = {"refusal": refusal.message}
        self._record(request_id, credential, response.status_code, summary, started)
        response.headers["X-Request-ID"] = request_id
        return response

    def _adapter(self, trust: str) -> AdapterSettings:
        adapter = self._settings.epr.get(trust)
        if adapter is None:
            raise Refusal(403, f"no FHIR mapping is configured for trust {trust}")
        return adapter

    async def _answer(
        self, request_id: str, body: bytes, adapter: AdapterSettings, credential: Credential
    ) -> tuple[Response, Summary]:
        mapped = map_encounter(_document(body), adapter)
        if isinstance(mapped, Invalid):
            raise Refusal(400, mapped.reason)
        if isinstance(mapped, Unmappable):
            issue = {"severity": "error", "code": mapped.code, "diagnostics": mapped.reason}
            return outcome(422, [issue]), {"refusal": mapped.reason}
        if isinstance(mapped, Ignored):
            diagnostics = f"nothing sent: {mapped.reason}"
            issue = {"severity": "information", "code": "informational", "diagnostics": diagnostics}
            return outcome(200, [issue]), {"ignored": mapped.reason}
        return await self._send(request_id, mapped.events, credential)

    async def _send(
        self, request_id: str, events: tuple[dict[str, object], ...], credential: Credential
    ) -> tuple[Response, Summary]:
        raw = [(index, _COMPACT.encode(event).encode()) for index, event in enumerate(events)]
        accepted, rejected = self._judge.judge(raw, credential)
        if rejected:
            for entry in rejected:
                self._metrics.rejected.labels(credential.trust, entry.site, entry.kind).inc()
            return _refused(rejected), {"accepted": 0, "rejected": len(rejected)}
        answered = await self._delivery.answer(request_id, accepted, [])
        if answered.status_code != 202:
            retry = {"Retry-After": answered.headers["Retry-After"]}
            issue = _issue(
                503,
                "Kafka did not acknowledge the events in time: none was sent; "
                "post the Encounter again after Retry-After seconds",
            )
            return outcome(503, [issue], retry), {"not_acknowledged": len(accepted)}
        for done in accepted:
            self._metrics.accepted.labels(credential.trust, done.message.key.decode()).inc()
        sent = [_sent(entry, events) for entry in accepted]
        return outcome(200, sent), {"accepted": len(accepted)}

    def _record(
        self,
        request_id: str,
        credential: Credential | None,
        status: int,
        summary: Summary,
        started: float,
    ) -> None:
        """Counted and logged as /v1/events requests are: by trust and status, never a value of
        the Encounter."""
        seconds = time.perf_counter() - started
        trust = credential.trust if credential else ""
        self._metrics.requests.labels(trust, str(status)).inc()
        self._metrics.latency.labels(trust).observe(seconds)
        who = {"credential": credential.id, "trust": trust} if credential else {}
        fields = {"request_id": request_id, "route": "/fhir/Encounter", **who, "status": status}
        took = round(seconds * 1000)
        # A trust posting for another's sites is worth a look, as on /v1/events.
        level = logging.WARNING if status == 403 and credential else logging.INFO
        log.log(level, "request answered", extra={**fields, **summary, "duration_ms": took})


class FhirResponse(JSONResponse):
    media_type = FHIR_JSON


def outcome(
    status: int, issues: list[Issue], headers: Mapping[str, str] | None = None
) -> FhirResponse:
    """An OperationOutcome answer."""
    document = {"resourceType": "OperationOutcome", "issue": issues}
    return FhirResponse(document, status, headers=headers)


def _check_form(content_type: str | None, content_encoding: str | None) -> None:
    if content_encoding and content_encoding.strip().lower() != "identity":
        raise Refusal(415, "Content-Encoding is not supported: send the body uncompressed")
    media, _, parameters = (content_type or FHIR_JSON).partition(";")
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in _UTF8:
            raise Refusal(415, "the body must be UTF-8")
    if media.strip().lower() not in _MEDIA_TYPES:
        raise Refusal(415, "Content-Type must be application/fhir+json or application/json")


def _document(body: bytes) -> object:
    if not body.strip():
        raise Refusal(400, "the body is empty: send one Encounter resource")
    try:
        return json_value(body.removeprefix(b"\xef\xbb\xbf"))
    except UnicodeDecodeError:
        raise Refusal(400, "the body is not UTF-8") from None
    except RecursionError:
        raise Refusal(400, "the body is not valid JSON: nested too deeply") from None
    except ValueError as error:
        # A JSONDecodeError says what and where (line, column), never the text around it.
        what = error.args[0] if isinstance(error, json.JSONDecodeError) else str(error)
        raise Refusal(400, f"the body is not valid JSON: {what}") from None


def _issue(status: int, diagnostics: str) -> Issue:
    return {
        "severity": "error",
        "code": _ISSUE_TYPES.get(status, "processing"),
        "diagnostics": diagnostics,
    }


def _refused(rejected: list[Rejected]) -> FhirResponse:
    """Every event of the Encounter is refused when one is: 403 if each was refused for the
    token's scope (another trust's site, an event type it may not post), else 422."""
    status = 403 if all(entry.status == 403 for entry in rejected) else 422
    return outcome(status, [_issue(entry.status, entry.reason) for entry in rejected])


def _sent(entry: Accepted, events: tuple[dict[str, object], ...]) -> Issue:
    event = events[entry.index]
    return {
        "severity": "information",
        "code": "informational",
        "diagnostics": f"sent {event['event_type']} {entry.event_id} at {event['occurred_at']}",
    }
