"""The ingestion gateway: trusts POST events over HTTPS, and 202 means Kafka has them.

    uecflow gateway --credentials FILE [--bootstrap HOST:PORT] [--tls-cert F --tls-key F]
    uecflow gateway new-token --trust R1H --id NAME      make a token and its credentials entry
    uecflow gateway hash-token < token.txt               the token_sha256 of an existing token
    uecflow gateway --openapi                            print the OpenAPI document

`POST /v1/events` with `Authorization: Bearer <token>` (see producers.credentials for the
file of tokens). The body is one event object, a JSON array of event objects, or JSON Lines:
`Content-Type: application/x-ndjson` (or application/jsonl) is always read as JSON Lines;
`application/json` or no Content-Type is an array if the body starts with `[`, else one object
if the whole body is one JSON value, else JSON Lines. An event's `index` is its position in the
array, or its line number less one (blank lines are skipped but counted).

The request is refused whole, before any event is looked at, with `{"error": "..."}`:
401 no, wrong or revoked token (with WWW-Authenticate); 429 the trust's rate is exceeded (a
token bucket per trust, default 50 requests/s with bursts of 100; Retry-After); 415 another
Content-Type, a charset other than UTF-8, or a Content-Encoding; 413 a body over 1 MiB or over
1,000 events; 408 a body slower than 30 s; 400 an empty body, or an array that is not JSON.

Otherwise every event is judged on its own. Rejected, with `status`, `field` and `reason`:
422 the event breaks the contract (the parser's one-line reason), or is over 16 KiB;
403 its site belongs to another trust (this is checked first, so an invalid event for another
trust's site is a 403 too). The answer:
- 202 `{"accepted": [{"index", "event_id"}], "rejected": [...]}`: Kafka acknowledged every
  accepted event (acks=all) before this answer; rejections, if any, are listed.
- 403 or 422 with the same body when nothing was accepted: 403 if every event was for another
  trust's site, else 422.
- 503 with Retry-After when Kafka did not acknowledge in time: nothing of the batch counts as
  accepted (`accepted` is empty, `not_acknowledged` lists the valid events to send again).
Never a 500: an unexpected error is a 503 too, without details.

Idempotence: re-posting an event_id is accepted and sent again; the worker drops duplicates by
event_id, and so the gateway keeps no memory of ids (a cache could not be trusted after a 503
anyway, when an unacknowledged event may still reach Kafka).

Logs carry request ids, credential ids, trust codes and counts; never a token or an event.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import ssl
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol

import uvicorn
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from kafka.errors import KafkaError as AdminError
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.types import Message as AsgiMessage

from events.contract import CONTRACT_VERSION
from events.parse import EventParser, InvalidEvent
from events.registry import ConfigError, Registry, load_registry
from events.schema import json_schema
from producers.credentials import (
    MIN_TOKEN_LENGTH,
    Credential,
    Credentials,
    CredentialsError,
    CredentialsFile,
    hash_token,
    new_token,
)
from producers.kafka_sender import DEFAULT_TIMEOUT, KafkaSender, Message, Sender, SendFailed
from streams.topics import DEFAULT_PARTITIONS, Topics, ensure_topics
from uecflow.logs import logging_config

log = logging.getLogger("uecflow.gateway")

MiB = 1024 * 1024
_BOM = b"\xef\xbb\xbf"
_JSON_TYPES = frozenset({"application/json"})
_LINES_TYPES = frozenset({"application/x-ndjson", "application/jsonl", "application/x-jsonlines"})
_UTF8 = frozenset({"utf-8", "utf8"})
# One encoder for every element: json.dumps builds a new one per call with custom separators.
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


class CredentialSource(Protocol):
    def current(self) -> Credentials: ...


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    credentials: CredentialSource
    topics: Topics = field(default_factory=Topics)
    max_body_bytes: int = MiB
    max_events: int = 1_000
    max_event_bytes: int = 16 * 1024
    rate_per_second: float = 50.0
    rate_burst: int = 100
    retry_after_seconds: int = 5
    body_timeout_seconds: float = 30.0
    clock: Callable[[], float] = time.monotonic


# ------------------------------------------------------------------------------- the verdicts


class Refusal(Exception):
    """The whole request is refused before any event in it is looked at."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass(frozen=True, slots=True)
class Accepted:
    index: int
    event_id: str
    message: Message

    def as_json(self) -> dict[str, Any]:
        return {"index": self.index, "event_id": self.event_id}


@dataclass(frozen=True, slots=True)
class Rejected:
    index: int
    event_id: str | None
    status: int  # 403 or 422
    field: str | None
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "event_id": self.event_id,
            "status": self.status,
            "field": self.field,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Claimed:
    """What an event that failed the contract says about itself, if it says it readably."""

    event_id: str | None = None
    site: str | None = None


class BatchJudge:
    """Splits a body into events and decides, event by event, what one trust may send on."""

    def __init__(self, registry: Registry, settings: GatewaySettings) -> None:
        self._parser = EventParser(registry)
        self._topics = settings.topics
        self._max_events = settings.max_events
        self._max_event_bytes = settings.max_event_bytes
        self._site_trust = {code: site.trust for code, site in registry.sites.items()}

    def judge(
        self, body: bytes, lines_only: bool, trust: str
    ) -> tuple[list[Accepted], list[Rejected]]:
        accepted: list[Accepted] = []
        rejected: list[Rejected] = []
        for index, raw in self._pieces(body, lines_only):
            verdict = self._judge_one(index, raw, trust)
            if isinstance(verdict, Accepted):
                accepted.append(verdict)
            else:
                rejected.append(verdict)
        return accepted, rejected

    def _pieces(self, body: bytes, lines_only: bool) -> list[tuple[int, bytes]]:
        text = body.removeprefix(_BOM).strip()
        if not text:
            raise Refusal(400, "the body has no events")
        if not lines_only and text.startswith(b"["):
            elements = _array(text)
            self._check_count(len(elements))
            return [(index, _compact(element)) for index, element in enumerate(elements)]
        pieces = [(0, text)] if not lines_only and _one_json_value(text) else _lines(text)
        self._check_count(len(pieces))
        return pieces

    def _check_count(self, count: int) -> None:
        if count == 0:
            raise Refusal(400, "the body has no events")
        if count > self._max_events:
            raise Refusal(413, f"at most {self._max_events:,} events in one request")

    def _judge_one(self, index: int, raw: bytes, trust: str) -> Accepted | Rejected:
        if len(raw) > self._max_event_bytes:
            return self._refuse(index, raw, trust, None, f"over {self._max_event_bytes} bytes")
        try:
            event = self._parser.parse(raw)
        except InvalidEvent as error:
            return self._refuse(index, raw, trust, error.field, error.reason)
        if self._site_trust[event.site] != trust:
            return Rejected(index, event.event_id, 403, "site", self._not_yours(event.site, trust))
        message = Message(self._topics.for_event(event), event.site.encode(), raw)
        return Accepted(index, event.event_id, message)

    def _refuse(
        self, index: int, raw: bytes, trust: str, field: str | None, reason: str
    ) -> Rejected:
        claimed = _claimed(raw)
        site = claimed.site
        if site is not None and self._site_trust.get(site, trust) != trust:
            return Rejected(index, claimed.event_id, 403, "site", self._not_yours(site, trust))
        return Rejected(index, claimed.event_id, 422, field, reason)

    def _not_yours(self, site: str, trust: str) -> str:
        yours = sorted(code for code, owner in self._site_trust.items() if owner == trust)
        return (
            f"site: '{site}' is not a site of {trust}; this token may post only for "
            f"{', '.join(yours) or 'no site'}"
        )


def _lines(text: bytes) -> list[tuple[int, bytes]]:
    pieces = ((index, line.strip()) for index, line in enumerate(text.split(b"\n")))
    return [(index, line) for index, line in pieces if line]


def _array(text: bytes) -> list[Any]:
    try:
        elements = json.loads(text.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise Refusal(400, "the body is not UTF-8") from None
    except RecursionError:
        raise Refusal(400, "the body is not valid JSON: nested too deeply") from None
    except ValueError as error:
        raise Refusal(400, f"the body is not valid JSON: {_json_error(error)}") from None
    if not isinstance(elements, list):  # `[1] 2` fails above; this is for the type checker
        raise Refusal(400, "the body is not a JSON array")
    return elements


def _compact(element: Any) -> bytes:
    """One array element as it goes to Kafka: compact JSON, its characters as sent."""
    try:
        return _COMPACT.encode(element).encode("utf-8")
    except (ValueError, RecursionError):
        # A lone surrogate escape ("\\ud800") or absurd nesting: the parser refuses the stand-in.
        return b"null"


def _one_json_value(text: bytes) -> bool:
    try:
        json.loads(text.decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return False
    return True


def _claimed(raw: bytes) -> Claimed:
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return Claimed()
    if not isinstance(value, dict):
        return Claimed()
    event_id, site = value.get("event_id"), value.get("site")
    return Claimed(
        # Echoed back only if it could be an event_id under the contract (1-128 characters).
        event_id if isinstance(event_id, str) and 0 < len(event_id) <= 128 else None,
        site if isinstance(site, str) else None,
    )


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json_error(error: ValueError) -> str:
    # A JSONDecodeError says what and where (line, column), never the text around it.
    return error.args[0] if isinstance(error, json.JSONDecodeError) else str(error)


# ---------------------------------------------------------------------------- request gates


class RateLimiter:
    """A token bucket per trust: `rate` requests a second on average, bursts of up to `burst`."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float]) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # trust: (tokens, when)

    def wait_needed(self, trust: str) -> float:
        """0 and one token taken if the request may go ahead, else seconds until it may."""
        now = self._clock()
        tokens, then = self._buckets.get(trust, (self._burst, now))
        tokens = min(self._burst, tokens + (now - then) * self._rate)
        if tokens >= 1:
            self._buckets[trust] = (tokens - 1, now)
            return 0.0
        self._buckets[trust] = (tokens, now)
        return (1 - tokens) / self._rate


def lines_only(content_type: str | None, content_encoding: str | None) -> bool:
    """Whether the body is JSON Lines whatever it looks like; refuses what cannot be read."""
    if content_encoding and content_encoding.strip().lower() != "identity":
        raise Refusal(415, "Content-Encoding is not supported: send the body uncompressed")
    if not content_type or not content_type.strip():
        return False
    media, _, parameters = content_type.partition(";")
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in _UTF8:
            raise Refusal(415, "the body must be UTF-8")
    media = media.strip().lower()
    if media in _JSON_TYPES:
        return False
    if media in _LINES_TYPES:
        return True
    raise Refusal(415, "Content-Type must be application/json or application/x-ndjson")


async def read_body(request: Request, limit: int, timeout: float) -> bytes:
    """The body, refused as soon as it is known to be over `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Refusal(413, f"the body is over {limit:,} bytes")
    body = bytearray()
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                body += chunk
                if len(body) > limit:
                    raise Refusal(413, f"the body is over {limit:,} bytes")
    except TimeoutError:
        raise Refusal(408, f"the body did not arrive within {timeout:g} s") from None
    except ClientDisconnect:
        raise Refusal(400, "the client went away before the body arrived") from None
    return bytes(body)


# ------------------------------------------------------------------------------- the HTTP API


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


_BEARER = HTTPBearer(
    auto_error=False, description="The trust's token (`uecflow gateway new-token`)"
)
_NEEDS_TOKEN = {"WWW-Authenticate": 'Bearer realm="uecflow"'}
_BAD_TOKEN = {"WWW-Authenticate": 'Bearer realm="uecflow", error="invalid_token"'}


class _Gateway:
    """The per-request work of POST /v1/events, in the order a request meets it."""

    def __init__(self, settings: GatewaySettings, registry: Registry, sender: Sender) -> None:
        self._settings = settings
        self._judge = BatchJudge(registry, settings)
        self._limiter = RateLimiter(settings.rate_per_second, settings.rate_burst, settings.clock)
        self._sender = sender

    async def handle(
        self, request: Request, authorization: HTTPAuthorizationCredentials | None
    ) -> Response:
        request_id = uuid.uuid4().hex[:16]
        started = time.perf_counter()
        credential: Credential | None = None
        level = logging.INFO
        try:
            credential = self._authenticate(authorization)
            self._limit(credential)
            headers = request.headers
            form = lines_only(headers.get("content-type"), headers.get("content-encoding"))
            body = await read_body(
                request, self._settings.max_body_bytes, self._settings.body_timeout_seconds
            )
            accepted, rejected = self._judge.judge(body, form, credential.trust)
        except Refusal as refusal:
            response: Response = _error(refusal.status, refusal.message, refusal.headers)
            outcome = f"refused: {refusal.status} {refusal.message}"
        else:
            response = await self._deliver(request_id, accepted, rejected)
            foreign = sum(1 for entry in rejected if entry.status == 403)
            outcome = (
                f"{response.status_code}, {len(accepted)} accepted, {len(rejected)} rejected "
                f"({foreign} for another trust's site)"
            )
            if foreign:
                level = logging.WARNING  # a trust posting for another's sites is worth a look
        who = f"credential {credential.id} (trust {credential.trust})" if credential else "nobody"
        took = (time.perf_counter() - started) * 1000
        log.log(level, "request %s from %s: %s in %.0f ms", request_id, who, outcome, took)
        response.headers["X-Request-ID"] = request_id
        return response

    def _authenticate(self, authorization: HTTPAuthorizationCredentials | None) -> Credential:
        if authorization is None:
            raise Refusal(401, "a bearer token is required", _NEEDS_TOKEN)
        credential = self._settings.credentials.current().identify(authorization.credentials)
        if credential is None:
            raise Refusal(401, "the token is not valid or has been revoked", _BAD_TOKEN)
        if credential.revoked:
            log.warning(
                "revoked credential %s (trust %s) was used", credential.id, credential.trust
            )
            raise Refusal(401, "the token is not valid or has been revoked", _BAD_TOKEN)
        return credential

    def _limit(self, credential: Credential) -> None:
        wait = self._limiter.wait_needed(credential.trust)
        if wait > 0:
            seconds = str(max(1, math.ceil(wait)))
            raise Refusal(429, "too many requests for this trust", {"Retry-After": seconds})

    async def _deliver(
        self, request_id: str, accepted: list[Accepted], rejected: list[Rejected]
    ) -> Response:
        refused = [entry.as_json() for entry in rejected]
        if not accepted:
            every_one_foreign = all(entry.status == 403 for entry in rejected)
            status = 403 if every_one_foreign else 422
            return JSONResponse({"accepted": [], "rejected": refused}, status)
        try:
            await self._sender.send_all([entry.message for entry in accepted])
        except SendFailed as failure:
            log.warning("request %s: Kafka did not acknowledge (%s)", request_id, failure)
            body = {
                "error": "Kafka did not acknowledge the events in time: none of this batch is "
                "accepted; send it again after Retry-After seconds",
                "accepted": [],
                "rejected": refused,
                "not_acknowledged": [entry.as_json() for entry in accepted],
            }
            retry = str(self._settings.retry_after_seconds)
            return JSONResponse(body, 503, headers={"Retry-After": retry})
        body = {"accepted": [entry.as_json() for entry in accepted], "rejected": refused}
        return JSONResponse(body, 202)


def _error(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status, headers=headers)


class _NothingLeaks:
    """Turns any unexpected error into a bare 503: no traceback or message reaches a trust, and
    the log gets where it happened, not the error's text (which might quote an event)."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = False

        async def watching(message: AsgiMessage) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._app(scope, receive, watching)
        except Exception as error:
            frames = traceback.extract_tb(error.__traceback__)
            where = " < ".join(f"{Path(f.filename).name}:{f.lineno}" for f in reversed(frames))
            log.error("unexpected %s at %s", type(error).__name__, where)
            if not started:
                response = _error(
                    503,
                    "the gateway could not handle this request; nothing in "
                    "it was accepted: send it again later",
                    {"Retry-After": "5"},
                )
                await response(scope, receive, send)


class _GatewayApp(FastAPI):
    """FastAPI, with the event contract's own JSON Schema in the OpenAPI components."""

    event_schemas: dict[str, Any]

    def openapi(self) -> dict[str, Any]:
        if not self.openapi_schema:
            document = super().openapi()
            document.setdefault("components", {}).setdefault("schemas", {}).update(
                self.event_schemas
            )
        return self.openapi_schema  # type: ignore[return-value]  # set by super().openapi()


def create_app(settings: GatewaySettings, registry: Registry, sender: Sender) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> Any:
        await sender.start()
        try:
            yield
        finally:
            await sender.stop()

    app = _GatewayApp(
        title="uecflow ingestion gateway",
        version=f"{CONTRACT_VERSION}",
        description=_api_description(settings),
        lifespan=lifespan,
        redoc_url=None,
    )
    app.event_schemas = _event_schemas(registry)
    gateway = _Gateway(settings, registry, sender)

    @app.post(
        "/v1/events",
        status_code=202,
        response_model=BatchResult,
        summary="Send one event or a batch",
        description=_events_description(settings),
        responses=_responses(),
        openapi_extra={"requestBody": _request_body(settings)},
    )
    async def post_events(
        request: Request,
        authorization: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
    ) -> Response:
        return await gateway.handle(request, authorization)

    @app.get("/health", response_model=Health, summary="The gateway is up")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, error: HTTPException) -> Response:
        # Starlette's own answers (404, 405), in the gateway's error shape.
        return _error(error.status_code, str(error.detail), error.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, _invalid: RequestValidationError) -> Response:
        return _error(400, "the request is not one this gateway understands")

    app.add_middleware(_NothingLeaks)
    return app


# ----------------------------------------------------------------------------- OpenAPI parts


def _api_description(settings: GatewaySettings) -> str:
    return (
        "Trusts send urgent and emergency care events here. A 202 means Kafka has every "
        "accepted event. Each token may post only for its own trust's sites. Limits per trust: "
        f"{settings.rate_per_second:g} requests/s (bursts of {settings.rate_burst}), "
        f"{settings.max_body_bytes:,} bytes and {settings.max_events:,} events a request, "
        f"{settings.max_event_bytes:,} bytes an event."
    )


def _events_description(settings: GatewaySettings) -> str:
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


def _responses() -> dict[int | str, dict[str, Any]]:
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


def _request_body(settings: GatewaySettings) -> dict[str, Any]:
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


def _event_schemas(registry: Registry) -> dict[str, Any]:
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


def openapi_document(settings: GatewaySettings | None = None) -> dict[str, Any]:
    """The OpenAPI document of a gateway with these settings (default: the published one)."""
    chosen = settings or GatewaySettings(credentials=Credentials(()))
    return create_app(chosen, load_registry(None), KafkaSender("unused")).openapi()


# ------------------------------------------------------------------------------ the command


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["new-token"]:
        return _new_token(args[1:])
    if args[:1] == ["hash-token"]:
        return _hash_token(args[1:])
    return _serve(args)


def _serve(argv: list[str]) -> int:
    parser = _arguments()
    args = parser.parse_args(argv)
    if args.openapi:
        json.dump(openapi_document(_settings(args, Credentials(()))), sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if args.credentials is None:
        parser.error("--credentials FILE is required")
    if (args.tls_cert is None) != (args.tls_key is None):
        parser.error("--tls-cert and --tls-key go together")
    if args.tls_client_ca and args.tls_cert is None:
        parser.error("--tls-client-ca needs --tls-cert and --tls-key")
    try:
        registry = load_registry(None)
        credentials = CredentialsFile(args.credentials, registry)
    except (ConfigError, CredentialsError) as error:
        print(f"uecflow gateway: {error}", file=sys.stderr)
        return 2
    settings = _settings(args, credentials)
    return _run(args, settings, registry)


def _settings(args: argparse.Namespace, credentials: CredentialSource) -> GatewaySettings:
    return GatewaySettings(
        credentials=credentials,
        topics=Topics(args.topic_prefix, args.partitions),
        max_body_bytes=args.max_body_bytes,
        max_events=args.max_events,
        rate_per_second=args.rate_limit,
        rate_burst=args.rate_burst,
        retry_after_seconds=max(1, math.ceil(args.kafka_timeout)),
    )


def _run(args: argparse.Namespace, settings: GatewaySettings, registry: Registry) -> int:
    try:
        ensure_topics(args.bootstrap, settings.topics)
    except AdminError as error:
        print(f"uecflow gateway: cannot reach Kafka at {args.bootstrap}: {error}", file=sys.stderr)
        return 1
    sender = KafkaSender(args.bootstrap, timeout=args.kafka_timeout)
    config = uvicorn.Config(
        create_app(settings, registry, sender),
        host=args.host,
        port=args.port,
        log_config=logging_config(args.log_level),
        access_log=False,  # the gateway logs each request itself, with its verdict
        server_header=False,
        ssl_certfile=args.tls_cert,
        ssl_keyfile=args.tls_key,
        ssl_ca_certs=args.tls_client_ca,
        ssl_cert_reqs=ssl.CERT_REQUIRED if args.tls_client_ca else ssl.CERT_NONE,
        timeout_graceful_shutdown=int(args.kafka_timeout) + 5,
    )
    for handler in logging.getLogger().handlers:  # as configured by uvicorn.Config
        handler.addFilter(QuietRepeats())
    server = uvicorn.Server(config)
    server.run()
    return 0 if server.started else 1


class QuietRepeats(logging.Filter):
    """Lets each kind of aiokafka message through at most once per `interval` seconds: with the
    broker down, aiokafka logs the same failed connection thousands of times a second."""

    def __init__(self, interval: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._interval = interval
        self._clock = clock
        self._last: dict[tuple[str, str], float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("aiokafka"):
            return True
        kind = (record.name, str(record.msg))  # the format string: one kind whatever its values
        now = self._clock()
        last = self._last.get(kind)
        if last is not None and now - last < self._interval:
            return False
        self._last[kind] = now
        return True


def _arguments() -> argparse.ArgumentParser:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="uecflow gateway",
        description="Run the HTTP(S) ingestion gateway: trusts POST events, Kafka gets them. "
        "Also: `uecflow gateway new-token --trust CODE --id NAME`, `uecflow gateway hash-token`.",
    )
    parser.add_argument("--credentials", type=Path, help="TOML file of token hashes")
    parser.add_argument(
        "--bootstrap",
        default=env("UECFLOW_KAFKA", "127.0.0.1:9092"),
        help="Kafka bootstrap servers (default: $UECFLOW_KAFKA or 127.0.0.1:9092)",
    )
    parser.add_argument(
        "--topic-prefix", default=env("UECFLOW_TOPIC_PREFIX", "uecflow"), help="topic names"
    )
    parser.add_argument(
        "--partitions", type=_positive, default=DEFAULT_PARTITIONS, help="partitions of new topics"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on")
    parser.add_argument("--tls-cert", help="PEM certificate chain: serve HTTPS")
    parser.add_argument("--tls-key", help="PEM private key of --tls-cert")
    parser.add_argument("--tls-client-ca", help="also require client certificates from this CA")
    parser.add_argument("--max-body-bytes", type=_positive, default=MiB, help="default 1 MiB")
    parser.add_argument("--max-events", type=_positive, default=1_000, help="per request")
    parser.add_argument(
        "--rate-limit", type=_positive_float, default=50.0, help="requests/s per trust"
    )
    parser.add_argument("--rate-burst", type=_positive, default=100, help="requests at once")
    parser.add_argument(
        "--kafka-timeout",
        type=_positive_float,
        default=DEFAULT_TIMEOUT,
        help="seconds to wait for Kafka's acknowledgement before answering 503 (default 5)",
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    parser.add_argument("--openapi", action="store_true", help="print the OpenAPI document")
    return parser


def _new_token(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="uecflow gateway new-token",
        description="Make a token for a trust; print it once, with its credentials entry.",
    )
    parser.add_argument("--trust", required=True, help="trust code, e.g. R1H")
    parser.add_argument("--id", required=True, help="a name for the credential, e.g. barts-ie-1")
    args = parser.parse_args(argv)
    try:
        registry = load_registry(None)
    except ConfigError as error:
        print(f"uecflow gateway: {error}", file=sys.stderr)
        return 2
    if args.trust not in registry.trusts:
        parser.error(f"--trust must be one of {', '.join(registry.trusts)}")
    token = new_token()
    print(f"# token for {args.trust} (give it to the trust; it is stored nowhere): {token}")
    print(_entry(args.id, args.trust, hash_token(token)))
    return 0


def _hash_token(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="uecflow gateway hash-token",
        description="Read a token on standard input; print its token_sha256.",
    )
    parser.parse_args(argv)
    token = sys.stdin.readline().strip()
    if len(token) < MIN_TOKEN_LENGTH:
        print(
            f"uecflow gateway hash-token: a token must be at least {MIN_TOKEN_LENGTH} characters",
            file=sys.stderr,
        )
        return 2
    print(hash_token(token))
    return 0


def _entry(ident: str, trust: str, digest: str) -> str:
    return "\n".join(
        [
            "[[credentials]]",
            f"id = {json.dumps(ident)}",
            f'trust = "{trust}"',
            f'token_sha256 = "{digest}"',
            "revoked = false",
        ]
    )


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError("must be a positive number")
    return value


if __name__ == "__main__":
    raise SystemExit(main())
