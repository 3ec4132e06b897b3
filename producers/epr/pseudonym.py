"""Pseudonyms made at the edge: what leaves the adapter in place of a visit number.

The attendance id is HMAC-SHA-256 of the visit number under the trust's own key, so the same
visit always gets the same id (its arrival, decision and departure meet in the worker), no one
without the key can go back from the id to the visit, and two trusts' ids never collide. Keys
rotate by date: a visit uses the key in force when it started (PV1-44, the Encounter's period
start), so a visit that spans a rotation keeps one id. Event ids are hashes of what the event
says, so a message sent twice gives the same event id and the worker drops the copy.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from producers.epr.settings import AdapterSettings

ID_HEX = 32  # 128 bits: no collision among a trust's visits in any lifetime


class NoKeyInForce(ValueError):
    """The visit started before the oldest key's `from`."""


def attendance_id(settings: AdapterSettings, visit_number: str, visit_start: datetime) -> str:
    key = key_in_force(settings, visit_start)
    return f"{settings.trust}-{_digest(key, visit_number)}"


def event_id(attendance: str, kind: str, occurred_at: str) -> str:
    """The same event (attendance, kind, instant) always gets the same id, under any key: the
    attendance id is already keyed, so a plain hash of it reveals nothing more."""
    text = "\x1f".join((attendance, kind, occurred_at)).encode()
    return f"{kind}-{hashlib.sha256(text).hexdigest()[:ID_HEX]}"


def key_in_force(settings: AdapterSettings, at: datetime) -> bytes:
    for starts, key in settings.keys:
        if starts <= at:
            return key
    raise NoKeyInForce(f"no key is in force at {at.isoformat()}: the oldest starts later")


def _digest(key: bytes, visit_number: str) -> str:
    return hmac.new(key, visit_number.encode(), hashlib.sha256).hexdigest()[:ID_HEX]
