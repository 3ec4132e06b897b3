"""The answer to a batch, once its events are judged: Kafka acknowledges first, then 202.

- 202 `{"accepted": [{"index", "event_id"}], "rejected": [...]}`: Kafka acknowledged every
  accepted event (acks=all) before this answer; rejections, if any, are listed.
- 403 or 422 with the same body when nothing was accepted: 403 if every event was for another
  trust's site, else 422.
- 503 with Retry-After when Kafka did not acknowledge in time: nothing of the batch counts as
  accepted (`accepted` is empty, `not_acknowledged` lists the valid events to send again).

Idempotence: re-posting an event_id is accepted and sent again; the worker drops duplicates by
event_id, and so the gateway keeps no memory of ids (a cache could not be trusted after a 503
anyway, when an unacknowledged event may still reach Kafka).
"""

from __future__ import annotations

import logging
import time

from fastapi.responses import JSONResponse

from producers.gateway.admission import Accepted, Rejected
from producers.gateway.metrics import GatewayMetrics
from producers.kafka.sender import Sender, SendFailed

log = logging.getLogger("uecflow.gateway")


class Delivery:
    """Sends a batch's accepted events to Kafka and answers with what became of each event."""

    def __init__(self, sender: Sender, retry_after_seconds: int, metrics: GatewayMetrics) -> None:
        self._sender = sender
        self._retry_after = str(retry_after_seconds)
        self._kafka = metrics.kafka

    async def answer(
        self, request_id: str, accepted: list[Accepted], rejected: list[Rejected]
    ) -> JSONResponse:
        refused = [entry.as_json() for entry in rejected]
        if not accepted:
            every_one_foreign = all(entry.status == 403 for entry in rejected)
            status = 403 if every_one_foreign else 422
            return JSONResponse({"accepted": [], "rejected": refused}, status)
        started = time.perf_counter()
        try:
            await self._sender.send_all([entry.message for entry in accepted])
        except SendFailed as failure:
            log.warning(
                "Kafka did not acknowledge",
                extra={"request_id": request_id, "error_type": str(failure)},
            )
            body = {
                "error": "Kafka did not acknowledge the events in time: none of this batch is "
                "accepted; send it again after Retry-After seconds",
                "accepted": [],
                "rejected": refused,
                "not_acknowledged": [entry.as_json() for entry in accepted],
            }
            return JSONResponse(body, 503, headers={"Retry-After": self._retry_after})
        self._kafka.observe(time.perf_counter() - started)
        body = {"accepted": [entry.as_json() for entry in accepted], "rejected": refused}
        return JSONResponse(body, 202)
