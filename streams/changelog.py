"""The flow state's stores, logged: every change also goes to one changelog, as bytes.

All five stores share one key space, so that the writes one event causes go to one changelog
partition (its site's) in the order they were made. A crash then leaves a prefix of them, and
the flow core is written so that re-applying the events after that prefix is exact: an event's
id is stored after its record, and a fold is recognised by its day's `..._folded_before` marks.

Pure: the changelog is a function passed in (`send(site, key, value or None)`), so the same
stores run under Faust, in a test, or in a simulated crash.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, Generic, TypeVar, cast

from streams.attendance import Attendance, DepartureCounts
from streams.flow import DayCounts, Stores
from streams.handover import Handover, HandoverCounts
from streams.instants import Instant
from streams.occupancy import WardHistory, WardSnapshot

Send = Callable[[str, bytes, bytes | None], None]  # (site, key, value; None deletes)
K = TypeVar("K")
V = TypeVar("V")

_SEP = "\x1f"  # unit separator: cannot occur in a site code
_VERSION = 1


class LoggedDict(dict[K, V], Generic[K, V]):
    """A dict that sends every assignment and deletion to the changelog.

    Reads are plain dict reads: the flow core's hot path pays only for its writes.
    """

    def __init__(
        self,
        kind: str,
        send: Send,
        site_of: Callable[[K], str],
        encode: Callable[[str, V], bytes],
    ) -> None:
        super().__init__()
        self._kind, self._send, self._site_of, self._encode = kind, send, site_of, encode

    def __setitem__(self, key: K, value: V) -> None:
        super().__setitem__(key, value)
        site = self._site_of(key)
        self._send(site, encode_key(self._kind, key), self._encode(site, value))

    def __delitem__(self, key: K) -> None:
        super().__delitem__(key)
        self._send(self._site_of(key), encode_key(self._kind, key), None)

    def restore(self, key: K, value: V) -> None:
        """Load a recovered entry without logging it again."""
        super().__setitem__(key, value)


class LoggedStores:
    """The flow core's `Stores`, each change sent to the changelog partition of its site.

    `applying(site)` must be called before each event is applied: an event id alone does not
    say its site, and its changelog entry must go where its site's records go.
    """

    def __init__(self, send: Send) -> None:
        self._current_site = ""
        self._id_sites: dict[str, str] = {}  # restored ids: their site, for their deletion
        self.stores = Stores(
            attendances=LoggedDict("a", send, _first, encode_record),
            handovers=LoggedDict("h", send, _first, encode_record),
            wards=LoggedDict("w", send, _first, encode_record),
            days=LoggedDict("d", send, _first, encode_record),
            seen=LoggedDict("s", send, self._site_of_id, encode_seen),
        )
        # Not the flow core's: the worker's record of each site's latest event per stream.
        self.latest: LoggedDict[tuple[str, str], Instant] = LoggedDict(
            "l", send, _first, encode_instant
        )

    def applying(self, site: str) -> None:
        self._current_site = site

    def restore(self, entries: Iterable[tuple[bytes, bytes]]) -> None:
        """Load what the changelog recovered (key and value bytes, as `send` was given)."""
        stores = self.stores
        for raw_key, raw_value in entries:
            kind, key = decode_key(raw_key)
            value = decode_value(kind, raw_value)
            if kind == "s":
                site, at = value
                self._id_sites[key] = site
                _logged(stores.seen).restore(key, at)
            elif kind == "l":
                self.latest.restore(key, value)
            else:
                _logged(getattr(stores, _STORE_OF[kind])).restore(key, value)

    def _site_of_id(self, event_id: str) -> str:
        return self._id_sites.pop(event_id, None) or self._current_site


_STORE_OF = {"a": "attendances", "h": "handovers", "w": "wards", "d": "days"}


def _first(key: tuple[str, Any]) -> str:
    return key[0]


def _logged(store: object) -> LoggedDict[Any, Any]:
    assert isinstance(store, LoggedDict)
    return store


def encode_key(kind: str, key: object) -> bytes:
    if kind == "s":
        return f"s{_SEP}{key}".encode()
    site, name = cast(tuple[str, str | date], key)
    text = name.isoformat() if isinstance(name, date) else name
    return f"{kind}{_SEP}{site}{_SEP}{text}".encode()


def decode_key(raw: bytes) -> tuple[str, Any]:
    kind, rest = raw.decode().split(_SEP, 1)
    if kind == "s":
        return kind, rest
    site, name = rest.split(_SEP, 1)
    return kind, (site, date.fromisoformat(name) if kind == "d" else name)


def encode_record(_site: str, record: Any) -> bytes:
    """A record as compact JSON: [version, [fields...]]."""
    return _json([_VERSION, _ENCODERS[type(record)](record)])


def _flat(record: Any) -> list[Any]:
    # Not dataclasses.astuple: it deep-copies every field, and this runs for every write.
    return [getattr(record, name) for name in record.__slots__]


_ENCODERS: dict[type, Callable[[Any], list[Any]]] = {
    Attendance: _flat,
    Handover: _flat,
    WardHistory: lambda history: [[_flat(snapshot) for snapshot in history.snapshots]],
    DayCounts: lambda day: [
        _flat(day.departed),
        _flat(day.handed_over),
        day.departures_folded_before,
        day.handovers_folded_before,
    ],
}


def encode_seen(site: str, at: Instant) -> bytes:
    """An event id's instant, with its site: where to send the id's deletion after a restart."""
    return _json([_VERSION, [site, at]])


def encode_instant(_site: str, at: Instant) -> bytes:
    return _json([_VERSION, [at]])


_ENCODE_JSON = json.JSONEncoder(separators=(",", ":")).encode  # one encoder, not one a call


def _json(value: object) -> bytes:
    return _ENCODE_JSON(value).encode()


def decode_value(kind: str, raw: bytes) -> Any:
    version, fields = json.loads(raw)
    if version != _VERSION:
        raise ValueError(f"changelog record version {version} is not {_VERSION}")
    return _DECODERS[kind](fields)


def _day_counts(fields: list[Any]) -> DayCounts:
    departed, handed_over, *marks = fields
    return DayCounts(DepartureCounts(*departed), HandoverCounts(*handed_over), *marks)


def _ward_history(fields: list[Any]) -> WardHistory:
    return WardHistory([WardSnapshot(*snapshot) for snapshot in fields[0]])


def _seen(fields: list[Any]) -> tuple[str, Instant]:
    site, at = fields
    return site, at


_DECODERS: dict[str, Callable[[list[Any]], Any]] = {
    "a": lambda fields: Attendance(*fields),
    "h": lambda fields: Handover(*fields),
    "w": _ward_history,
    "d": _day_counts,
    "s": _seen,
    "l": lambda fields: fields[0],
}
