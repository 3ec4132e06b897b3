"""The flow state: events in, metrics as of any instant out. Pure: no I/O, no clock.

State is a handful of small keyed records (an attendance, a handover, a ward's recent snapshots,
a site-day counter, an event id seen), held in mappings that the live worker may back with
Faust tables. Finished attendances and handovers are folded into their day's counters once
the lateness horizon (in event time) has passed them, so state stays bounded; an event later
than the horizon allows (older than the watermark minus the horizon) is refused, since
counting it could no longer be exact.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import Enum
from functools import partial
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
    OpelDeclared,
    WardState,
)
from streams.core.attendance import Attendance, DepartureCounts
from streams.core.expiry import ExpiryIndex, SiteClock
from streams.core.handover import Handover, HandoverCounts
from streams.core.instants import (
    HOUR,
    NEVER,
    Instant,
    london_day,
    same_month,
    to_duration,
    to_instant,
)
from streams.core.intake import Stream
from streams.core.metrics import FlowParts
from streams.core.occupancy import WardHistory, WardSnapshot
from streams.core.opel import Declaration, DeclarationHistory
from streams.core.snapshot import FlowSnapshot
from uecflow.config import Registry

RecordKey = tuple[str, str]  # (site, attendance / handover / ward id, or OPEL scope)
Handler = Callable[[Any, Instant, SiteClock], None]
AE, BEDS, AMBULANCE = (stream.value for stream in Stream)  # the feeds: one Kafka topic each
DayKey = tuple[str, date]  # (site, London day)
_NEVER = NEVER  # the watermark of a site that has applied nothing


class Outcome(Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    TOO_LATE = "too_late"  # older than the watermark minus the lateness horizon
    AFTER_AS_OF = "after_as_of"  # later than the `until` instant of a replay


@dataclass(slots=True)
class DayCounts:
    """What a site's folded (finished, past the horizon) attendances and handovers added up to.

    `departures_folded_before` (`handovers_folded_before`): every finished attendance (handover)
    of this day that ended before it is counted here; the arrival marks alike, for those that
    arrived on this day. One that is still in the stores though it
    ended before it was counted by a sweep whose deletions a crash cut short: it is deleted
    again, not counted twice. One mark per feed, as each feed's clock sweeps on its own.
    """

    departed: DepartureCounts = field(default_factory=DepartureCounts)
    handed_over: HandoverCounts = field(default_factory=HandoverCounts)
    departures_folded_before: Instant = NEVER
    handovers_folded_before: Instant = NEVER
    # By the day of arrival, not of departure or handover; each with its own mark. Last: the
    # changelog holds day counters by position, and older ones end before these.
    ae_arrivals: int = 0
    ambulance_arrivals: int = 0
    ae_arrivals_folded_before: Instant = NEVER
    ambulance_arrivals_folded_before: Instant = NEVER


@dataclass(slots=True)
class Stores:
    attendances: MutableMapping[RecordKey, Attendance] = field(default_factory=dict)
    handovers: MutableMapping[RecordKey, Handover] = field(default_factory=dict)
    wards: MutableMapping[RecordKey, WardHistory] = field(default_factory=dict)
    declarations: MutableMapping[RecordKey, DeclarationHistory] = field(default_factory=dict)
    days: MutableMapping[DayKey, DayCounts] = field(default_factory=dict)
    seen: MutableMapping[str, Instant] = field(default_factory=dict)


class FlowState:
    """Apply contract events in any order; read the metrics as of an instant.

    `horizon=None` keeps every record (a replay of a file: exact for any order of lines).
    `until` makes events after that instant count as not yet happened (a replay "as of T").

    Event time is kept per site and feed (A&E, beds, ambulance: a Kafka topic each, keyed by
    site): each has its own watermark, and its lateness horizon is measured against that.

    `snapshot(as_of)` is exact for an `as_of` at or after every applied event (and, with a
    horizon, no earlier than any site's watermark - horizon). Before some applied event, wards
    are still exact (each keeps its recent snapshots), but an attendance or conveyance keeps
    only the winning event of each kind: so a replay as of T passes `until=T` instead.
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
        # One clock per site and feed: each feed is its own Kafka topic, read at its own pace, so
        # a worker catching up on a backlog may be days ahead on one feed of a site.
        self._clocks: dict[tuple[str, str], SiteClock] = {}
        self._restored_ids: ExpiryIndex[str] = ExpiryIndex()
        self.unmatched_expired = 0
        self._route: dict[type[EventBase], tuple[Handler, str]] = {
            AeArrival: (partial(self._attend, Attendance.arrive), AE),
            AeDecisionToAdmit: (partial(self._attend, Attendance.decide_to_admit), AE),
            AeDeparture: (partial(self._attend, Attendance.depart), AE),
            AmbulanceArrival: (self._hand_over, AMBULANCE),
            AmbulanceHandover: (self._hand_over, AMBULANCE),
            WardState: (self._ward, BEDS),
            OpelDeclared: (self._declare, BEDS),
        }
        if stores is not None and self._horizon is not None:
            self._recover(self._horizon)

    @property
    def watermark(self) -> Instant | None:
        """The latest occurred_at applied at any site, if any."""
        latest = max((clock.watermark for clock in self._clocks.values()), default=_NEVER)
        return None if latest == _NEVER else latest

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
        handle, feed = self._route[type(event)]
        key = (event.site, feed)
        clock = self._clocks.get(key) or self._clocks.setdefault(key, SiteClock())
        if self._horizon is not None:
            if at < clock.watermark - self._horizon:
                return Outcome.TOO_LATE
            clock.event_ids.add(event_id, at)
        handle(event, at, clock)
        # Written after the record it changed: a changelog cut short by a crash holds the id
        # only if it holds the change too, so re-applying an event after a restart is exact.
        seen[event_id] = at
        if at > clock.watermark:
            clock.watermark = at
            if self._horizon is not None and at >= clock.next_sweep:
                self._sweep(event.site, clock, self._horizon)
        return Outcome.APPLIED

    def _attend(
        self,
        step: Callable[[Attendance, Any, Instant], None],
        event: AttendanceEvent,
        at: Instant,
        clock: SiteClock,
    ) -> None:
        key = (event.site, event.attendance_id)
        visit = self._attendances.get(key) or Attendance()
        before = (visit.last_event_at, visit.may_expire)
        step(visit, event, at)
        self._attendances[key] = visit  # reassigned, so a changelogged table sees it
        if self._horizon is not None and (visit.last_event_at, True) != before and visit.may_expire:
            clock.attendances.add(key, visit.last_event_at)

    def _hand_over(self, event: AmbulanceEvent, at: Instant, clock: SiteClock) -> None:
        key = (event.site, event.handover_id)
        handover = self.stores.handovers.get(key) or Handover()
        before = (handover.last_event_at, handover.may_expire)
        if type(event) is AmbulanceArrival:
            handover.arrive(at)
        else:
            handover.hand_over(at)
        self.stores.handovers[key] = handover
        changed = (handover.last_event_at, True) != before
        if self._horizon is not None and changed and handover.may_expire:
            clock.handovers.add(key, handover.last_event_at)

    def _ward(self, event: WardState, at: Instant, clock: SiteClock) -> None:
        key = (event.site, event.ward)
        history = self.stores.wards.get(key) or WardHistory()
        history.add(WardSnapshot.of(event, at), self._cutoff(clock))
        self.stores.wards[key] = history

    def _declare(self, event: OpelDeclared, at: Instant, clock: SiteClock) -> None:
        key = (event.site, event.scope)
        history = self.stores.declarations.get(key) or DeclarationHistory()
        history.add(Declaration.of(event, at), self._cutoff(clock))
        self.stores.declarations[key] = history

    def _cutoff(self, clock: SiteClock) -> Instant | None:
        """How far back a history of snapshots must still answer "as of" (None: for ever)."""
        return None if self._horizon is None else clock.watermark - self._horizon

    def _sweep(self, site: str, clock: SiteClock, horizon: Instant) -> None:
        cutoff = clock.watermark - horizon
        # The expiry index works in whole hours: nothing more expires before the next one.
        clock.next_sweep = clock.watermark + ((cutoff // HOUR + 1) * HOUR - cutoff)
        fold = _Fold(site, cutoff // HOUR * HOUR, self.stores.days)
        # A key may sit in several hours of an index: each is folded once.
        expired = dict.fromkeys(clock.attendances.expired(cutoff))
        attendances = [key for key in expired if self._fold_visit(key, fold)]
        expired = dict.fromkeys(clock.handovers.expired(cutoff))
        handovers = [key for key in expired if self._fold_handover(key, fold)]
        # Every day first, then the records: a crash in between leaves records that the next
        # sweep recognises (by `folded_before`) as counted already.
        fold.write()
        for key in attendances:
            del self.stores.attendances[key]
        for key in handovers:
            del self.stores.handovers[key]
        self._forget_ids(clock.event_ids, cutoff)
        if self._restored_ids:
            # Restored ids do not say their site: they wait for the slowest site's cutoff.
            slowest = min(other.watermark for other in self._clocks.values()) - horizon
            self._forget_ids(self._restored_ids, slowest)
        # Day counters hold A&E and ambulance counts: kept for the slower of the two feeds.
        feeds = [
            self._clocks[site, feed] for feed in (AE, AMBULANCE) if (site, feed) in self._clocks
        ]
        if feeds:
            self._forget_old_days(site, london_day(min(c.watermark for c in feeds) - horizon))

    def _forget_ids(self, index: ExpiryIndex[str], cutoff: Instant) -> None:
        seen = self._seen
        for event_id in index.expired(cutoff):
            if seen.get(event_id, cutoff) < cutoff:
                del seen[event_id]

    def _recover(self, horizon: Instant) -> None:
        """Rebuild what is derived from the stores (each site's watermark, the expiry indexes)
        after a restart, so that records restored from a changelog still fold and expire."""
        for (site, _), history in self.stores.wards.items():
            self._advance(site, BEDS, history.snapshots[-1].occurred_at)
        for (site, _), declared in self.stores.declarations.items():
            self._advance(site, BEDS, declared.snapshots[-1].occurred_at)
        for key, visit in self._attendances.items():
            clock = self._advance(key[0], AE, visit.last_event_at)
            if visit.may_expire:
                clock.attendances.add(key, visit.last_event_at)
        for key, handover in self.stores.handovers.items():
            clock = self._advance(key[0], AMBULANCE, handover.last_event_at)
            if handover.may_expire:
                clock.handovers.add(key, handover.last_event_at)
        for event_id, at in self._seen.items():
            self._restored_ids.add(event_id, at)
        for (site, _), clock in self._clocks.items():
            self._sweep(site, clock, horizon)

    def _advance(self, site: str, feed: str, at: Instant) -> SiteClock:
        clock = self._clocks.setdefault((site, feed), SiteClock())
        clock.watermark = max(clock.watermark, at)
        return clock

    def _fold_visit(self, key: RecordKey, fold: _Fold) -> bool:
        """Count a finished attendance into its day; say whether the record may go."""
        visit = self.stores.attendances.get(key)
        if visit is None or visit.last_event_at >= fold.before:
            return False
        if visit.arrived_at is None:
            self.unmatched_expired += 1
            return True
        if visit.departed_at is None:
            return False  # still in the department, however long: never folded
        counts = fold.day(london_day(visit.departed_at), visit.last_event_at, DEPARTURES)
        if counts is not None:
            counts.departed.count(visit, visit.arrived_at, visit.dta_at, visit.departed_at)
        counts = fold.day(london_day(visit.arrived_at), visit.last_event_at, AE_ARRIVALS)
        if counts is not None:
            counts.ae_arrivals += 1
        return True

    def _fold_handover(self, key: RecordKey, fold: _Fold) -> bool:
        handover = self.stores.handovers.get(key)
        if handover is None or handover.last_event_at >= fold.before:
            return False
        arrived, handed_over = handover.arrived_at, handover.handed_over_at
        if arrived is None:
            self.unmatched_expired += 1
            return True
        if handed_over is None:
            return False
        counts = fold.day(london_day(handed_over), handover.last_event_at, HANDOVERS)
        if counts is not None:
            counts.handed_over.count(arrived, handed_over)
        counts = fold.day(london_day(arrived), handover.last_event_at, AMBULANCE_ARRIVALS)
        if counts is not None:
            counts.ambulance_arrivals += 1
        return True

    def _forget_old_days(self, site: str, cutoff_day: date) -> None:
        # Only the month containing the cutoff and later can still be asked about.
        first_kept = cutoff_day.replace(day=1)
        for key in [key for key in self.stores.days if key[0] == site and key[1] < first_kept]:
            del self.stores.days[key]

    def snapshot(self, as_of: datetime, sites: Iterable[str] | None = None) -> FlowSnapshot:
        """The metrics of every registry site, or of `sites` (those a worker holds)."""
        t = to_instant(as_of)
        today = london_day(t)
        wanted = None if sites is None else set(sites)
        shown = [code for code in self.registry.sites if wanted is None or code in wanted]
        parts = {site: FlowParts() for site in shown}
        for (site, _), history in self.stores.wards.items():
            ward = history.as_of(t)
            if site in parts and ward is not None:
                parts[site].beds.count(ward)
        for (site, scope), declared in self.stores.declarations.items():
            declaration = declared.as_of(t)
            if site in parts and declaration is not None:
                parts[site].opel.count(scope, declaration)
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
                    parts[site].arrived.ae_today += counts.ae_arrivals
                    parts[site].arrived.ambulance_today += counts.ambulance_arrivals
        return FlowSnapshot(as_of=as_of, sites=parts, registry=self.registry)


DEPARTURES, HANDOVERS = "departures_folded_before", "handovers_folded_before"
AE_ARRIVALS, AMBULANCE_ARRIVALS = "ae_arrivals_folded_before", "ambulance_arrivals_folded_before"


class _Fold:
    """One sweep's additions to a site's day counters, written once per day at the end."""

    def __init__(self, site: str, before: Instant, days: MutableMapping[DayKey, DayCounts]):
        self.site, self.before, self._days = site, before, days
        self._pending: dict[DayKey, tuple[DayCounts, set[str]]] = {}

    def day(self, day: date, ended_at: Instant, mark: str) -> DayCounts | None:
        """The counters to add a record that ended at `ended_at` to; None if it is in already.

        `mark` names the day's `..._folded_before` of the record's kind."""
        key = (self.site, day)
        pending = self._pending.get(key)
        if pending is None:
            pending = self._pending[key] = (self._days.get(key) or DayCounts(), set())
        counts, marks = pending
        marks.add(mark)
        return None if ended_at < getattr(counts, mark) else counts

    def write(self) -> None:
        for key, (counts, marks) in self._pending.items():
            for mark in marks:
                setattr(counts, mark, max(getattr(counts, mark), self.before))
            self._days[key] = counts


def _count_attendance(part: FlowParts, visit: Attendance, t: Instant, today: date) -> None:
    arrived = visit.arrived_at
    if arrived is None or arrived > t:
        return  # held: its arrival has not been seen (as of t)
    if london_day(arrived) == today:
        part.arrived.ae_today += 1
    part.arrived.ae_last_hour += arrived > t - HOUR
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
    part.arrived.ambulance_today += london_day(arrived) == today
    handed_over = handover.handed_over_at
    if handed_over is None or handed_over > t:
        part.ambulances.count(arrived, t)
    elif london_day(handed_over) == today:
        part.handed_over_today.count(arrived, handed_over)
