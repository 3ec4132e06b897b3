"""The ingestion gateway: trusts POST events over HTTPS, and 202 means Kafka has them.

    uecflow gateway --credentials FILE [--bootstrap HOST:PORT] [--tls-cert F --tls-key F]
    uecflow gateway new-token --trust R1H --id NAME      make a token and its credentials entry
    uecflow gateway hash-token < token.txt               the token_sha256 of an existing token
    uecflow gateway --openapi                            print the OpenAPI document

`POST /v1/events` with `Authorization: Bearer <token>` (see producers.gateway.credentials for the
file of tokens). The body is one event object, a JSON array of event objects, or JSON Lines.

The request is refused whole, before any event is looked at, with `{"error": "..."}`:
401 no, wrong or revoked token; 429 the trust's rate is exceeded (Retry-After); 415 a body it
cannot read; 413 a body too large; 408 a body too slow; 400 an empty body or bad JSON array.
Otherwise every event is judged on its own: 422 it breaks the contract, 403 its site belongs
to another trust. The answer is 202 once Kafka has acknowledged every accepted event (with the
rejections listed), 403 or 422 if nothing was accepted, and 503 with Retry-After if Kafka did
not acknowledge in time (then nothing of the batch counts as accepted). Never a 500. Re-posting
an event_id is harmless: the worker drops duplicates.

Logs carry request ids, credential ids, trust codes and counts; never a token or an event.

The parts, in the order a request meets them:
- producers.gateway.settings: the limits and what else a gateway is set up with
- producers.gateway.access: the bearer token (401) and the per-trust rate limit (429)
- producers.gateway.body: Content-Type, reading the body within limits, splitting it into events
- producers.gateway.admission: the per-event rules (403, 422)
- producers.gateway.delivery: Kafka's acknowledgement, and the 202/403/422/503 answer
- producers.gateway.refusal: a request refused whole, and its `{"error"}` answer
- producers.gateway.app: the FastAPI app and its routes (`create_app`)
- producers.gateway.openapi: what the OpenAPI document says
- producers.gateway.cli and producers.gateway.tokens: the commands (`add_arguments`)
"""

from __future__ import annotations

from producers.gateway.app import create_app, openapi_document
from producers.gateway.settings import GatewaySettings

__all__ = ["GatewaySettings", "create_app", "openapi_document"]
