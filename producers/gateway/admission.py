"""The per-event rules: which events of a batch a trust may send on to Kafka, and why not.

Every event is judged on its own. Rejected, with `status`, `field` and `reason`: 422 the event
breaks the contract (the parser's one-line reason), or is over 16 KiB; 403 its site is not one
the token may post for (another trust's: checked first, so an invalid event for another trust's
site is a 403 too), or its type is not one the token may post (a scoped credential). An
accepted event goes to Kafka as it was sent, keyed by its site, on its feed's topic.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeGuard

from events.parse import EventParser, InvalidEvent
from producers.gateway.body import json_value
from producers.gateway.credentials import Credential
from producers.gateway.settings import GatewaySettings
from producers.kafka.sender import Message
from uecflow.config import Registry


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
    # For counting (not in the answer): the registry site it named, if any, and the kind of
    # reason (one of producers.gateway.metrics.REJECTION_KINDS).
    site: str = ""
    kind: str = "contract"

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
    """Decides, event by event, what one trust may send on."""

    def __init__(self, registry: Registry, settings: GatewaySettings) -> None:
        self._parser = EventParser(registry)
        self._topics = settings.topics
        self._max_event_bytes = settings.max_event_bytes
        self._sites = frozenset(registry.sites)

    def judge(
        self, events: Iterable[tuple[int, bytes]], credential: Credential
    ) -> tuple[list[Accepted], list[Rejected]]:
        """The verdicts on (index, event bytes) pairs posted with `credential`'s token."""
        accepted: list[Accepted] = []
        rejected: list[Rejected] = []
        for index, raw in events:
            verdict = self._judge_one(index, raw, credential)
            if isinstance(verdict, Accepted):
                accepted.append(verdict)
            else:
                rejected.append(verdict)
        return accepted, rejected

    def _judge_one(self, index: int, raw: bytes, credential: Credential) -> Accepted | Rejected:
        if len(raw) > self._max_event_bytes:
            limit = f"over {self._max_event_bytes} bytes"
            return self._refuse(index, raw, credential, None, limit, "too_large")
        try:
            event = self._parser.parse(raw)
        except InvalidEvent as error:
            return self._refuse(index, raw, credential, error.field, error.reason, "contract")
        if event.site not in credential.sites:
            reason = self._not_yours(event.site, credential)
            return Rejected(index, event.event_id, 403, "site", reason, event.site, "not_its_site")
        if not credential.may_post(event.event_type):
            allowed = ", ".join(credential.event_types)
            reason = f"event_type: '{event.event_type}' is not one this token may post ({allowed})"
            kind = "not_its_event_type"
            return Rejected(index, event.event_id, 403, "event_type", reason, event.site, kind)
        message = Message(self._topics.for_event(event), event.site.encode(), raw)
        return Accepted(index, event.event_id, message)

    def _refuse(
        self,
        index: int,
        raw: bytes,
        credential: Credential,
        field: str | None,
        reason: str,
        kind: str,
    ) -> Rejected:
        claimed = _claimed(raw)
        site = claimed.site if claimed.site in self._sites else ""
        if site and site not in credential.sites:
            mine = self._not_yours(site, credential)
            return Rejected(index, claimed.event_id, 403, "site", mine, site, "not_its_site")
        return Rejected(index, claimed.event_id, 422, field, reason, site, kind)

    def _not_yours(self, site: str, credential: Credential) -> str:
        yours = sorted(credential.sites)
        return (
            f"site: '{site}' is not a site of {credential.trust}; this token may post only for "
            f"{', '.join(yours) or 'no site'}"
        )


def _claimed(raw: bytes) -> Claimed:
    try:
        value = json_value(raw)
    except (ValueError, RecursionError):
        return Claimed()
    if not isinstance(value, dict):
        return Claimed()
    event_id, site = value.get("event_id"), value.get("site")
    return Claimed(
        # Echoed back only if it could be an event_id under the contract (1-128 characters).
        event_id if _text(event_id) and 0 < len(event_id) <= 128 else None,
        site if _text(site) else None,
    )


def _text(value: object) -> TypeGuard[str]:
    """A string the answer can carry: Python's JSON reader takes a lone surrogate escape
    (`"\\ud800"`) that no UTF-8 answer can hold; echoing one failed the whole request."""
    if not isinstance(value, str):
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True
