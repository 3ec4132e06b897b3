"""The gateway's FastAPI app: its routes, and a request's way through them.

`POST /v1/events` meets, in order: the token and the trust's rate (producers.gateway.access),
the body's form, size and arrival (producers.gateway.body), the per-event rules
(producers.gateway.admission), and Kafka (producers.gateway.delivery). `POST /fhir/Encounter`
(producers.gateway.fhir) meets the same, with the Encounter mapped to events before the per-event
rules, and answers with FHIR OperationOutcomes. `GET /health` answers
`{"status": "ok"}`. Every other refusal and error is `{"error": "..."}`, Starlette's 404 and
405 included. Never a 500: an unexpected error is a 503 with Retry-After, without details.

Each request is logged once, with its request id (also sent as X-Request-ID), credential id,
trust code and counts; never a token or an event.
"""

from __future__ import annotations

import logging
import time
import traceback
import uuid
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.types import Message as AsgiMessage

from events.contract import CONTRACT_VERSION
from producers.gateway.access import Access
from producers.gateway.admission import Accepted, BatchJudge, Rejected
from producers.gateway.body import lines_only, read_body, split_events
from producers.gateway.credentials import Credential, Credentials
from producers.gateway.delivery import Delivery
from producers.gateway.fhir import FhirResponse, PostEncounter
from producers.gateway.metrics import GatewayMetrics
from producers.gateway.openapi import (
    BatchResult,
    Health,
    OperationOutcome,
    api_description,
    event_schemas,
    events_description,
    events_request_body,
    events_responses,
    fhir_encounter_description,
    fhir_encounter_request_body,
    fhir_encounter_responses,
)
from producers.gateway.refusal import Refusal, error_response
from producers.gateway.settings import GatewaySettings
from producers.kafka.sender import KafkaSender, Sender
from uecflow.config import Registry, load_registry

log = logging.getLogger("uecflow.gateway")

_BEARER = HTTPBearer(
    auto_error=False, description="The trust's token (`uecflow gateway new-token`)"
)


def create_app(settings: GatewaySettings, registry: Registry, sender: Sender) -> FastAPI:
    """The gateway, sending to Kafka through `sender` (started and stopped with the app)."""

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
        description=api_description(settings),
        lifespan=lifespan,
        redoc_url=None,
    )
    app.event_schemas = event_schemas(registry)
    metrics = CollectorRegistry(auto_describe=True)
    counted = GatewayMetrics(metrics, registry)
    access = Access(settings)  # one rate per trust, whichever route it posts to
    events = _PostEvents(settings, registry, sender, counted, access)
    encounters = PostEncounter(settings, registry, sender, counted, access)

    @app.post(
        "/v1/events",
        status_code=202,
        response_model=BatchResult,
        summary="Send one event or a batch",
        description=events_description(settings),
        responses=events_responses(),
        openapi_extra={"requestBody": events_request_body(settings)},
    )
    async def post_events(
        request: Request,
        authorization: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
    ) -> Response:
        return await events.handle(request, authorization)

    @app.post(
        "/fhir/Encounter",
        status_code=200,
        response_model=OperationOutcome,
        response_class=FhirResponse,
        summary="Send one FHIR Encounter (UK Core, class emergency)",
        response_description="Kafka has each event listed, or nothing was to be sent",
        description=fhir_encounter_description(settings),
        responses=fhir_encounter_responses(),
        openapi_extra={"requestBody": fhir_encounter_request_body()},
    )
    async def post_encounter(
        request: Request,
        authorization: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
    ) -> Response:
        return await encounters.handle(request, authorization)

    @app.get("/health", response_model=Health, summary="The gateway is up")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        # Counts by trust, site and reason only: no token, no event, no id.
        return Response(generate_latest(metrics), media_type=CONTENT_TYPE_LATEST)

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, error: HTTPException) -> Response:
        # Starlette's own answers (404, 405), in the gateway's error shape.
        return error_response(error.status_code, str(error.detail), error.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, _invalid: RequestValidationError) -> Response:
        return error_response(400, "the request is not one this gateway understands")

    app.add_middleware(_NothingLeaks)
    return app


def openapi_document(
    settings: GatewaySettings | None = None, registry: Registry | None = None
) -> dict[str, Any]:
    """The OpenAPI document of a gateway with these settings and this configuration (default:
    the published one)."""
    chosen = settings or GatewaySettings(credentials=Credentials(()))
    return create_app(chosen, registry or load_registry(), KafkaSender("unused")).openapi()


class _PostEvents:
    """The per-request work of POST /v1/events, in the order a request meets it."""

    def __init__(
        self,
        settings: GatewaySettings,
        registry: Registry,
        sender: Sender,
        metrics: GatewayMetrics,
        access: Access,
    ) -> None:
        self._settings = settings
        self._access = access
        self._judge = BatchJudge(registry, settings)
        self._delivery = Delivery(sender, settings.retry_after_seconds, metrics)
        self._metrics = metrics

    async def handle(
        self, request: Request, authorization: HTTPAuthorizationCredentials | None
    ) -> Response:
        request_id = uuid.uuid4().hex[:16]
        started = time.perf_counter()
        credential: Credential | None = None
        level = logging.INFO
        try:
            source = request.client.host if request.client else "unknown"
            credential = self._access.admit(authorization, source)
            headers = request.headers
            form = lines_only(headers.get("content-type"), headers.get("content-encoding"))
            body = await read_body(
                request, self._settings.max_body_bytes, self._settings.body_timeout_seconds
            )
            events = split_events(body, form, self._settings.max_events)
            accepted, rejected = self._judge.judge(events, credential)
        except Refusal as refusal:
            response: Response = error_response(refusal.status, refusal.message, refusal.headers)
            outcome: dict[str, object] = {"refusal": refusal.message}
        else:
            response = await self._delivery.answer(request_id, accepted, rejected)
            self._count(credential.trust, response.status_code, accepted, rejected)
            foreign = sum(1 for entry in rejected if entry.status == 403)
            outcome = {"accepted": len(accepted), "rejected": len(rejected), "foreign": foreign}
            if foreign:
                level = logging.WARNING  # a trust posting for another's sites is worth a look
        who = {"credential": credential.id, "trust": credential.trust} if credential else {}
        seconds = time.perf_counter() - started
        trust = credential.trust if credential else ""
        self._metrics.requests.labels(trust, str(response.status_code)).inc()
        self._metrics.latency.labels(trust).observe(seconds)
        took = round(seconds * 1000)
        fields = {"request_id": request_id, **who, "status": response.status_code, **outcome}
        log.log(level, "request answered", extra={**fields, "duration_ms": took})
        response.headers["X-Request-ID"] = request_id
        return response

    def _count(
        self, trust: str, status: int, accepted: list[Accepted], rejected: list[Rejected]
    ) -> None:
        for entry in rejected:
            self._metrics.rejected.labels(trust, entry.site, entry.kind).inc()
        if status == 202:  # acknowledged by Kafka; after a 503 none of them counts
            for done in accepted:
                self._metrics.accepted.labels(trust, done.message.key.decode()).inc()


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
            log.error(
                "unexpected error", extra={"error_type": type(error).__name__, "where": where}
            )
            if not started:
                response = error_response(
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
