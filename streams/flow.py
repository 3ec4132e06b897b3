"""The flow state: events in, metrics as of any instant out. Pure: no I/O, no clock.

State is a handful of small keyed records (an attendance, a handover, a ward's recent snapshots,
a site-day counter, an event id seen), held in mappings that the live worker may back with
Faust tables. Finished attendances and handovers are folded into their day's counters once
the lateness horizon (in event time) has passed them, so state stays bounded; an event later
than the horizon allows (older than the watermark minus the horizon) is refused, since
counting it could no longer be exact.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any

from events.contract import (
    AeArrival,
    AeDecisionToAdmit,
    AeDeparture,
    AmbulanceArrival,
    AmbulanceEvent,
    AmbulanceHandover,
    AttendanceEvent,
    Event,
    EventBase,
    WardState,
)
from events.registry import Registry
from streams.attendance import Attendance, DepartureCounts
from streams.expiry import ExpiryIndex
from streams.handover import Handover, HandoverCounts
from streams.instants import HOUR, NEVER, Instant, london_day, same_month, to_duration, to_instant
from streams.metrics import FlowParts
from streams.occupancy import WardHistory, WardSnapshot
from streams.snapshot import FlowSnapshot

_ATTENDANCE_STEP: dict[type[EventBase], Callable[[Attendance, Any, Instant], None]] = {
    AeArrival: Attendance.arrive,
    AeDecisionToAdmit: Attendance.decide_to_admit,
    AeDeparture: Attendance.depart,
}

RecordKey = tuple[str, str]  # (site, attendance / handover / ward id)
DayKey = tuple[str, date]  # (site, London day)
_NEVER = NEVER  # the watermark of a state that has applied nothing
_FOREVER = 1 << 62


class Outcome(Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    TOO_LATE = "too_late"  # older than the watermark minus the lateness horizon
    AFTER_AS_OF = "after_as_of"  # later than the `until` instant of a replay


@dataclass(slots=True)
class DayCounts:
    """What a site's folded (finished, past the horizon) attendances and handovers added up to."""

    departed: DepartureCounts = field(default_factory=DepartureCounts)
    handed_over: HandoverCounts = field(default_factory=HandoverCounts)


@dataclass(slots=True)
class Stores:
    attendances: MutableMapping[RecordKey, Attendance] = field(default_factory=dict)
    handovers: MutableMapping[RecordKey, Handover] = field(default_factory=dict)
    wards: MutableMapping[RecordKey, WardHistory] = field(default_factory=dict)
    days: MutableMapping[DayKey, DayCounts] = field(default_factory=dict)
    seen: MutableMapping[str, Instant] = field(default_factory=dict)


class FlowState:
    """Apply contract events in any order; read the metrics as of an instant.

    `horizon=None` keeps every record (a replay of a file: exact for any order of lines).
    `until` makes events after that instant count as not yet happened (a replay "as of T").

    `snapshot(as_of)` is exact for an `as_of` at or after every applied event (and, with a
    horizon, no earlier than watermark - horizon). Before some applied event, wards are still
    exact (each keeps its recent snapshots), but an attendance or conveyance keeps only the
    winning event of each kind: so a replay as of T passes `until=T` instead.
    """

    def __init__(
        self,
        registry: Registry,
        *,
        horizon: timedelta | None,
        until: datetime | None = None,
        stores: Stores | None = None,
    ) -> None:
        self.registry = registry
        self.stores = stores if stores is not None else Stores()
        self._horizon = None if horizon is None else to_duration(horizon)
        self._until = None if until is None else to_instant(until)
        # The hot path's stores, bound once (the Stores object never changes).
        self._attendances = self.stores.attendances
        self._seen = self.stores.seen
        self._watermark = _NEVER
        self._next_sweep = _NEVER if horizon is not None else _FOREVER
        self.unmatched_expired = 0
        self._expiring: ExpiryIndex[RecordKey] = ExpiryIndex()
        self._expiring_handovers: ExpiryIndex[RecordKey] = ExpiryIndex()
        self._expiring_ids: ExpiryIndex[str] = ExpiryIndex()
        self._route: dict[type[EventBase], Callable[[Any, Instant], None]] = {
            AeArrival: self._attend,
            AeDecisionToAdmit: self._attend,
            AeDeparture: self._attend,
            AmbulanceArrival: self._hand_over,
            AmbulanceHandover: self._hand_over,
            WardState: self._ward,
        }
        if stores is not None and self._horizon is not None:
            self._recover()

    def _recover(self) -> None:
        """Rebuild what is derived from the stores (watermark, expiry indexes) after a restart,
        so that records restored from a changelog still fold and expire."""
        self._watermark = max(self._seen.values(), default=_NEVER)
        for event_id, at in self._seen.items():
            self._expiring_ids.add(event_id, at)
        for key, visit in self._attendances.items():
            if visit.arrived_at is None or visit.departed_at is not None:
                self._expiring.add(key, visit.last_event_at)
        for key, handover in self.stores.handovers.items():
            if handover.arrived_at is None or handover.handed_over_at is not None:
                self._expiring_handovers.add(key, handover.last_event_at)
        if self._watermark != _NEVER:
            self._sweep()

    @property
    def watermark(self) -> Instant | None:
        """The latest occurred_at applied, if any."""
        return None if self._watermark == _NEVER else self._watermark

    def apply(self, event: Event) -> Outcome:
        # The hot path of replay and of the live worker: kept flat on purpose.
        event_id = event.event_id
        seen = self._seen
        if event_id in seen:
            return Outcome.DUPLICATE
        at = to_instant(event.occurred_at)
        if self._until is not None and at > self._until:
            seen[event_id] = at
            return Outcome.AFTER_AS_OF
        if self._horizon is not None:
            if at < self._watermark - self._horizon:
                return Outcome.TOO_LATE
            self._expiring_ids.add(event_id, at)
        seen[event_id] = at
        self._route[type(event)](event, at)
        if at > self._watermark:
            self._watermark = at
            if at >= self._next_sweep:
                self._sweep()
        return Outcome.APPLIED

    def _attend(self, event: AttendanceEvent, at: Instant) -> None:
        key = (event.site, event.attendance_id)
        visit = self._attendances.get(key) or Attendance()
        before = visit.last_event_at
        _ATTENDANCE_STEP[type(event)](visit, event, at)
        self._attendances[key] = visit  # reassigned, so a changelogged table sees it
        # Only a finished or unmatched record can expire: a patient in the department cannot.
        if (
            self._horizon is not None
            and visit.last_event_at != before
            and (visit.arrived_at is None or visit.departed_at is not None)
        ):
            self._expiring.add(key, visit.last_event_at)

    def _hand_over(self, event: AmbulanceEvent, at: Instant) -> None:
        key = (event.site, event.handover_id)
        handover = self.stores.handovers.get(key) or Handover()
        before = handover.last_event_at
        if type(event) is AmbulanceArrival:
            handover.arrive(at)
        else:
            handover.hand_over(at)
        self.stores.handovers[key] = handover
        if (
            self._horizon is not None
            and handover.last_event_at != before
            and (handover.arrived_at is None or handover.handed_over_at is not None)
        ):
            self._expiring_handovers.add(key, handover.last_event_at)

    def _ward(self, event: WardState, at: Instant) -> None:
        key = (event.site, event.ward)
        history = self.stores.wards.get(key) or WardHistory()
        history.add(WardSnapshot.of(event, at), self._cutoff())
        self.stores.wards[key] = history

    def _cutoff(self) -> Instant | None:
        """Events before this instant are too late; nothing before it can be asked about."""
        if self._horizon is None or self._watermark == _NEVER:
            return None
        return self._watermark - self._horizon

    def _sweep(self) -> None:
        cutoff = self._cutoff()
        if cutoff is None:
            return
        # The expiry index works in whole hours: nothing more expires before the next one.
        self._next_sweep = self._watermark + ((cutoff // HOUR + 1) * HOUR - cutoff)
        for key in self._expiring.expired(cutoff):
            self._fold_attendance(key, cutoff)
        for key in self._expiring_handovers.expired(cutoff):
            self._fold_handover(key, cutoff)
        seen = self.stores.seen
        for event_id in self._expiring_ids.expired(cutoff):
            if seen.get(event_id, cutoff) < cutoff:
                del seen[event_id]
        self._forget_old_days(london_day(cutoff))

    def _fold_attendance(self, key: RecordKey, cutoff: Instant) -> None:
        visit = self.stores.attendances.get(key)
        if visit is None or visit.last_event_at >= cutoff:
            return
        if visit.arrived_at is not None and visit.departed_at is not None:
            counts = self._day(key[0], london_day(visit.departed_at))
            counts.departed.count(visit, visit.arrived_at, visit.dta_at, visit.departed_at)
            self.stores.days[(key[0], london_day(visit.departed_at))] = counts
        elif visit.arrived_at is not None:
            return  # still in the department, however long: never folded
        else:
            self.unmatched_expired += 1
        del self.stores.attendances[key]

    def _fold_handover(self, key: RecordKey, cutoff: Instant) -> None:
        handover = self.stores.handovers.get(key)
        if handover is None or handover.last_event_at >= cutoff:
            return
        arrived, handed_over = handover.arrived_at, handover.handed_over_at
        if arrived is not None and handed_over is not None:
            counts = self._day(key[0], london_day(handed_over))
            counts.handed_over.count(arrived, handed_over)
            self.stores.days[(key[0], london_day(handed_over))] = counts
        elif arrived is not None:
            return
        else:
            self.unmatched_expired += 1
        del self.stores.handovers[key]

    def _day(self, site: str, day: date) -> DayCounts:
        return self.stores.days.get((site, day)) or DayCounts()

    def _forget_old_days(self, cutoff_day: date) -> None:
        # Only the month containing the cutoff and later can still be asked about.
        first_kept = cutoff_day.replace(day=1)
        for key in [key for key in self.stores.days if key[1] < first_kept]:
            del self.stores.days[key]

    def snapshot(self, as_of: datetime) -> FlowSnapshot:
        t = to_instant(as_of)
        today = london_day(t)
        parts = {site: FlowParts() for site in self.registry.sites}
        for (site, _), history in self.stores.wards.items():
            ward = history.as_of(t)
            if site in parts and ward is not None:
                parts[site].beds.count(ward)
        for (site, _), visit in self.stores.attendances.items():
            if site in parts:
                _count_attendance(parts[site], visit, t, today)
        for (site, _), handover in self.stores.handovers.items():
            if site in parts:
                _count_handover(parts[site], handover, t, today)
        for (site, day), counts in self.stores.days.items():
            if site in parts and day <= today and same_month(day, today):
                parts[site].departed_month.add(counts.departed)
                if day == today:
                    parts[site].departed_today.add(counts.departed)
                    parts[site].handed_over_today.add(counts.handed_over)
        return FlowSnapshot(as_of=as_of, sites=parts, registry=self.registry)


def _count_attendance(part: FlowParts, visit: Attendance, t: Instant, today: date) -> None:
    arrived = visit.arrived_at
    if arrived is None or arrived > t:
        return  # held: its arrival has not been seen (as of t)
    dta = visit.dta_at if visit.dta_at is not None and visit.dta_at <= t else None
    departed = visit.departed_at
    if departed is None or departed > t:
        part.department.count(visit, arrived, dta, t)
        return
    day = london_day(departed)
    if same_month(day, today):
        part.departed_month.count(visit, arrived, dta, departed)
        if day == today:
            part.departed_today.count(visit, arrived, dta, departed)


def _count_handover(part: FlowParts, handover: Handover, t: Instant, today: date) -> None:
    arrived = handover.arrived_at
    if arrived is None or arrived > t:
        return
    handed_over = handover.handed_over_at
    if handed_over is None or handed_over > t:
        part.ambulances.count(arrived, t)
    elif london_day(handed_over) == today:
        part.handed_over_today.count(arrived, handed_over)
