"""The flow state's stores, logged: their changes also go to one changelog, as bytes.

All six stores share one key space, so that everything about a site goes to one changelog
partition (its site's). After each event, `flush` sends what it changed, each key once: day
counters first, then records, then the event's id. A crash leaves, per site, the changes of
every event up to some point and a prefix of the next event's, and the flow core is written so
that re-applying the events after the last committed offset is exact: re-applying an event to
a record that already has it changes nothing; an id in the log means its event's records are
too; a fold is recognised by its day's `..._folded_before` marks.

Not batches of events: coalescing several events' changes lets a crash keep a later event's
record and lose an earlier one's, and no rule of the core can repair that (a later watermark
makes the earlier event too late when it is applied again).

Pure: the changelog is a function passed in (`send(site, key, value or None)`), so the same
stores run under Faust, in a test, or in a simulated crash.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Any, Generic, TypeVar, cast

import orjson

from streams.core.attendance import Attendance, DepartureCounts
from streams.core.flow import DayCounts, Stores
from streams.core.handover import Handover, HandoverCounts
from streams.core.instants import Instant
from streams.core.occupancy import WardHistory, WardSnapshot
from streams.core.opel import Declaration, DeclarationHistory

Send = Callable[[str, bytes, bytes | None], None]  # (site, key, value; None deletes)
K = TypeVar("K")
V = TypeVar("V")

_SEP = "\x1f"  # unit separator: cannot occur in a site code
_VERSION = 1


class LoggedDict(dict[K, V], Generic[K, V]):
    """A dict that remembers which keys changed since the last flush.

    Reads are plain dict reads, and a write costs a set insertion: encoding and sending wait
    for `LoggedStores.flush`, which sends each changed key once, however often it changed.
    """

    def __init__(
        self, kind: str, site_of: Callable[[K], str], encode: Callable[[str, V], bytes]
    ) -> None:
        super().__init__()
        self._kind, self._site_of, self._encode = kind, site_of, encode
        self._dirty: dict[K, None] = {}  # an ordered set

    def __setitem__(self, key: K, value: V) -> None:
        super().__setitem__(key, value)
        self._dirty[key] = None

    def __delitem__(self, key: K) -> None:
        super().__delitem__(key)
        self._dirty[key] = None

    def restore(self, key: K, value: V) -> None:
        """Load a recovered entry without logging it again."""
        super().__setitem__(key, value)

    def changes(self) -> Iterator[tuple[str, bytes, bytes | None]]:
        dirty, self._dirty = self._dirty, {}
        for key in dirty:
            site = self._site_of(key)
            value = self._encode(site, self[key]) if key in self else None
            yield site, encode_key(self._kind, key), value


class SeenIds(dict[str, Instant]):
    """The event ids seen. An id alone does not say its site: each remembers the site that
    applied it, so that its entry and its later deletion go to that site's partition."""

    def __init__(self, current_site: Callable[[], str]) -> None:
        super().__init__()
        self._current_site = current_site
        self._site_of: dict[str, str] = {}
        self._dirty: dict[str, str] = {}  # id -> its site, in the order changed

    def __setitem__(self, event_id: str, at: Instant) -> None:
        super().__setitem__(event_id, at)
        site = self._site_of[event_id] = self._current_site()
        self._dirty.pop(event_id, None)
        self._dirty[event_id] = site

    def __delitem__(self, event_id: str) -> None:
        super().__delitem__(event_id)
        self._dirty.pop(event_id, None)
        self._dirty[event_id] = self._site_of.pop(event_id)

    def restore(self, site: str, event_id: str, at: Instant) -> None:
        super().__setitem__(event_id, at)
        self._site_of[event_id] = site

    def changes(self) -> Iterator[tuple[str, bytes, bytes | None]]:
        dirty, self._dirty = self._dirty, {}
        for event_id, site in dirty.items():
            value = encode_instant(site, self[event_id]) if event_id in self else None
            yield site, encode_key("s", (site, event_id)), value


class LoggedStores:
    """The flow core's `Stores`, whose changes `flush()` sends to the changelog partition of
    their site.

    `applying(site)` must be called before each event is applied: an event id alone does not
    say its site, and its changelog entry must go where its site's records go. `flush()` must
    be called after every event, before its source offset is committed: the log is then the
    sequence of single events' changes that the crash-recovery argument needs (module doc).
    """

    def __init__(self, send: Send) -> None:
        self._send = send
        self._current_site = ""
        self._seen = SeenIds(lambda: self._current_site)
        self.stores = Stores(
            attendances=LoggedDict("a", _first, encode_record),
            handovers=LoggedDict("h", _first, encode_record),
            wards=LoggedDict("w", _first, encode_record),
            declarations=LoggedDict("o", _first, encode_record),
            days=LoggedDict("d", _first, encode_record),
            seen=self._seen,
        )
        # Not the flow core's: the worker's record of each site's latest event per stream.
        self.latest: LoggedDict[tuple[str, str], Instant] = LoggedDict("l", _first, encode_instant)
        stores = self.stores
        # The order that makes a cut anywhere recoverable: day counters before the records
        # they folded, records before the ids of the events that changed them.
        self._in_order: tuple[LoggedDict[Any, Any] | SeenIds, ...] = (
            _logged(stores.days),
            _logged(stores.attendances),
            _logged(stores.handovers),
            _logged(stores.wards),
            _logged(stores.declarations),
            self.latest,
            self._seen,
        )
        self._in_order_but_latest = tuple(
            store for store in self._in_order if store is not self.latest
        )

    def applying(self, site: str) -> None:
        self._current_site = site

    def flush(self, *, latest: bool = True) -> int:
        """Send every change since the last flush; return how many messages that took.

        `latest=False` keeps each site's latest event times for a later flush, before the
        batch's commit: they need not go with each event, since every event re-read after a
        crash, a duplicate too, moves them on again. A quarter of the changelog fewer.
        """
        sent = 0
        for store in self._in_order if latest else self._in_order_but_latest:
            for site, key, value in store.changes():
                self._send(site, key, value)
                sent += 1
        return sent

    def restore(self, entries: Iterable[tuple[bytes, bytes]]) -> None:
        """Load what the changelog recovered (key and value bytes, as `send` was given)."""
        for raw_key, raw_value in entries:
            kind, key = decode_key(raw_key)
            value = decode_value(kind, raw_value)
            if kind == "s":
                site, event_id = key
                self._seen.restore(site, event_id, value)
            elif kind == "l":
                self.latest.restore(key, value)
            else:
                _logged(getattr(self.stores, _STORE_OF[kind])).restore(key, value)


_STORE_OF = {
    "a": "attendances",
    "h": "handovers",
    "w": "wards",
    "o": "declarations",
    "d": "days",
}


def _first(key: tuple[str, Any]) -> str:
    return key[0]


def _logged(store: object) -> LoggedDict[Any, Any]:
    assert isinstance(store, LoggedDict)
    return store


def encode_key(kind: str, key: object) -> bytes:
    site, name = cast(tuple[str, str | date], key)
    text = name.isoformat() if isinstance(name, date) else name
    return f"{kind}{_SEP}{site}{_SEP}{text}".encode()


def site_of(raw: bytes) -> str:
    """The site of a changelog key, without decoding the rest."""
    return raw.split(_SEP.encode(), 2)[1].decode()


def decode_key(raw: bytes) -> tuple[str, Any]:
    kind, rest = raw.decode().split(_SEP, 1)
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
    DeclarationHistory: lambda history: [[_flat(declared) for declared in history.snapshots]],
    DayCounts: lambda day: [
        _flat(day.departed),
        _flat(day.handed_over),
        day.departures_folded_before,
        day.handovers_folded_before,
        day.ae_arrivals,
        day.ambulance_arrivals,
        day.ae_arrivals_folded_before,
        day.ambulance_arrivals_folded_before,
    ],
}


def encode_instant(_site: str, at: Instant) -> bytes:
    return _json([_VERSION, [at]])


# Compact JSON in UTF-8, as json.dumps(separators=(",", ":")) wrote it except that text outside
# ASCII is no longer escaped: both decode alike, so changelogs written before still recover.
_json = orjson.dumps


def decode_value(kind: str, raw: bytes) -> Any:
    version, fields = orjson.loads(raw)
    if version != _VERSION:
        raise ValueError(f"changelog record version {version} is not {_VERSION}")
    return _DECODERS[kind](fields)


def _day_counts(fields: list[Any]) -> DayCounts:
    # Counters written before a field was added end before it: the field keeps its default.
    departed, handed_over, *rest = fields
    return DayCounts(DepartureCounts(*departed), HandoverCounts(*handed_over), *rest)


def _ward_history(fields: list[Any]) -> WardHistory:
    return WardHistory([WardSnapshot(*snapshot) for snapshot in fields[0]])


_DECODERS: dict[str, Callable[[list[Any]], Any]] = {
    "a": lambda fields: Attendance(*fields),
    "h": lambda fields: Handover(*fields),
    "w": _ward_history,
    "o": lambda fields: DeclarationHistory([Declaration(*declared) for declared in fields[0]]),
    "d": _day_counts,
    "s": lambda fields: fields[0],
    "l": lambda fields: fields[0],
}
