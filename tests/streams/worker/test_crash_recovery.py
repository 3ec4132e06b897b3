"""A worker killed at any point and restarted from its changelog ends with the metrics of a
worker never killed: nothing lost, nothing counted twice.

The crash model is the live worker's. A source partition holds one site's events of one feed
(the A&E, beds and ambulance topics are keyed by site), in order. Every store write goes, in
order, to its site's changelog partition; a SIGKILL keeps some prefix of each (it may cut
through the writes of one event, or of one sweep); each source partition's committed offset
covers only events whose writes are all inside those prefixes. A restart restores the last
value of each key, builds a flow state on it (whose recovery sweep is logged too) and re-applies
each source partition's events from its committed offset, the partitions interleaved in any
order (so one site's feeds, too).
"""

from __future__ import annotations

import random
from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import Event
from streams.core.flow import FlowState, Stores
from streams.core.instants import NEVER, london_day
from streams.core.intake import STREAM_OF
from streams.core.metrics import Value
from streams.core.snapshot import FlowSnapshot
from streams.worker.changelog import LoggedStores, decode_key, encode_key
from tests.streams.core.flow_events import (
    AUTUMN,
    REGISTRY,
    SPRING,
    Flow,
    any_events,
    flows,
    line_of,
    parse,
    rfc3339_in,
)

HORIZON = timedelta(hours=48)
CRASHES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

Write = tuple[bytes, bytes | None]  # (key, value); None deletes
Ends = dict[str, int]  # per changelog partition: its length once one event's writes were sent
Source = tuple[str, str]  # a source partition: (site, feed)


# ---------------------------------------------------------------------------------------------
# The feed: a few sites over days, long enough for the horizon to fold what finished
# ---------------------------------------------------------------------------------------------


def tick(site: str, moment: datetime) -> dict[str, Any]:
    """A decision to admit with no arrival: moves its site's A&E event time on (and so sweeps),
    and counts nowhere."""
    return {
        "event_id": f"tick-{site}-{moment.isoformat()}",
        "event_type": "ae.decision_to_admit",
        "occurred_at": rfc3339_in(moment, timedelta(0)),
        "site": site,
        "attendance_id": f"tick-{moment.isoformat()}",
    }


def ticks(site: str, moment: datetime) -> list[dict[str, Any]]:
    """A tick on every feed: each feed of a site keeps its own event time."""
    at = rfc3339_in(moment, timedelta(0))
    common = {"site": site, "occurred_at": at}
    ward = {"event_type": "beds.ward_state", "ward": "clock", "ward_type": "other"}
    return [
        tick(site, moment),
        {
            **common,
            **ward,
            "event_id": f"ward-{site}-{at}",
            "beds_open_core": 0,
            "beds_occupied": 0,
        },
        {
            **common,
            "event_id": f"handover-{site}-{at}",
            "event_type": "ambulance.handover",
            "handover_id": f"tick-{at}",
        },
    ]


def finished_visit(site: str, moment: datetime) -> list[dict[str, Any]]:
    """An attendance over by the second day: every site has something to fold."""
    common = {"site": site, "attendance_id": f"early-{site}"}
    return [
        {
            **common,
            "event_id": f"early-arr-{site}",
            "event_type": "ae.arrival",
            "occurred_at": rfc3339_in(moment, timedelta(0)),
        },
        {
            **common,
            "event_id": f"early-dep-{site}",
            "event_type": "ae.departure",
            "occurred_at": rfc3339_in(moment + timedelta(hours=3), timedelta(0)),
            "outcome": "discharged",
        },
    ]


@st.composite
def feeds(draw: st.DrawFn) -> list[Event]:
    """Four days of events at up to three sites (a well-formed flow, or any mix of colliding
    and odd ones), then two more days of ticks, in the order a live feed delivers them: mostly
    up to a day late, some twice, a few past the horizon.
    """
    start = draw(st.sampled_from((SPRING - timedelta(days=2), AUTUMN - timedelta(days=2))))
    span = timedelta(days=4)
    events = draw(flows(start, span, max_size=14).map(Flow.events) | any_events(start, span))
    # Past the horizon, but not the visit every site folds.
    late = draw(st.sets(st.sampled_from(range(len(events))), max_size=2), label="past horizon")
    sites = sorted({event["site"] for event in events})
    for site in sites:
        events += finished_visit(site, start)
        for hours in range(0, 7 * 24, 12):
            events += ticks(site, start + timedelta(hours=hours))
    parsed = parse(line_of(event) for event in events)
    rng = draw(st.randoms(use_true_random=False))
    again = draw(st.lists(st.sampled_from(parsed), max_size=4), label="delivered twice")
    deliveries = [
        (event.occurred_at + delay(rng, number in late), number, event)
        for number, event in enumerate(parsed)
    ]
    deliveries += [
        (event.occurred_at + timedelta(hours=rng.uniform(0, 60)), len(parsed) + number, event)
        for number, event in enumerate(again)
    ]
    return [event for _, _, event in sorted(deliveries, key=lambda found: found[:2])]


def delay(rng: random.Random, past_the_horizon: bool) -> timedelta:
    if past_the_horizon:
        return timedelta(hours=rng.uniform(49, 72))
    return timedelta(hours=rng.uniform(0, 24)) if rng.random() < 0.5 else timedelta(0)


def source_of(event: Event) -> Source:
    return event.site, STREAM_OF[type(event)].value


def by_source(events: Iterable[Event]) -> dict[Source, list[Event]]:
    """Each source partition's events, in its order."""
    found: dict[Source, list[Event]] = defaultdict(list)
    for event in events:
        found[source_of(event)].append(event)
    return dict(found)


def interleaved(queues: dict[Source, list[Event]], rng: random.Random) -> list[Event]:
    """Each partition's events in order, the partitions in any order, as a worker reads them."""
    left = {source: deque(events) for source, events in queues.items() if events}
    merged = []
    while left:
        source = rng.choice(sorted(left))
        merged.append(left[source].popleft())
        if not left[source]:
            del left[source]
    return merged


# ---------------------------------------------------------------------------------------------
# The worker, its changelog and its crashes
# ---------------------------------------------------------------------------------------------


class Changelog:
    """Each site's changelog partition: the writes sent to it, in order."""

    def __init__(self, partitions: dict[str, list[Write]] | None = None) -> None:
        self.partitions: defaultdict[str, list[Write]] = defaultdict(list, partitions or {})

    def send(self, site: str, key: bytes, value: bytes | None) -> None:
        self.partitions[site].append((key, value))

    def lengths(self) -> dict[str, int]:
        return {site: len(writes) for site, writes in self.partitions.items()}

    def cut(self, kept: dict[str, int]) -> Changelog:
        return Changelog({site: writes[: kept[site]] for site, writes in self.partitions.items()})

    def table(self) -> list[tuple[bytes, bytes]]:
        """What a restart restores: each key's last value, deleted keys left out."""
        latest: dict[bytes, bytes | None] = {}
        for site in sorted(self.partitions):
            latest.update(self.partitions[site])
        return [(key, value) for key, value in latest.items() if value is not None]


@dataclass
class Worker:
    """One life of a worker, from its restore to its crash (or the end of the feed)."""

    changelog: Changelog
    committed: dict[Source, int]  # per source partition: the first event this life applies
    durable: dict[str, int]  # per partition: what was in Kafka before this life wrote anything
    logged: LoggedStores
    state: FlowState
    counted_yet_kept: int  # restored records that a cut sweep had counted but not deleted
    ends: dict[Source, list[Ends]] = field(default_factory=lambda: defaultdict(list))
    # Per partition: the cuts that split one event's writes, or the recovery sweep's.
    inside: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    def wrote_since(self, before: dict[str, int]) -> Ends:
        ends = {}
        for site, length in self.changelog.lengths().items():
            if length != before.get(site, 0):
                ends[site] = length
                self.inside[site].extend(range(before.get(site, 0) + 1, length))
        return ends


def start(changelog: Changelog, committed: dict[Source, int]) -> Worker:
    durable = changelog.lengths()
    logged = LoggedStores(changelog.send)
    logged.restore(changelog.table())
    counted_yet_kept = len(counted_but_not_deleted(logged.stores))
    state = FlowState(REGISTRY, horizon=HORIZON, stores=logged.stores)
    logged.flush()
    worker = Worker(changelog, committed, durable, logged, state, counted_yet_kept)
    worker.wrote_since(durable)  # the recovery sweep
    return worker


def apply(worker: Worker, event: Event) -> None:
    """Apply one event and log its changes, as the worker does (streams.worker.app._handled)."""
    before = worker.changelog.lengths()
    worker.logged.applying(event.site)
    worker.state.apply(event)
    worker.logged.flush()
    worker.ends[source_of(event)].append(worker.wrote_since(before))


def crash(data: st.DataObject, worker: Worker) -> tuple[Changelog, dict[Source, int]]:
    """Each changelog partition keeps a prefix of what this life wrote; each source partition's
    committed offset covers only events whose writes (to any partition) are all kept."""
    kept = {
        site: data.draw(cuts(worker, site), label=f"kept {site}")
        for site in sorted(worker.changelog.partitions)
    }
    committed = dict(worker.committed)
    for source, ends in sorted(worker.ends.items()):
        complete = 0
        while complete < len(ends) and all(kept[p] >= n for p, n in ends[complete].items()):
            complete += 1
        first = worker.committed[source]
        offsets = st.integers(first, first + complete)
        committed[source] = data.draw(offsets, label=f"commit {'/'.join(source)}")
    return worker.changelog.cut(kept), committed


def cuts(worker: Worker, site: str) -> st.SearchStrategy[int]:
    writes = worker.changelog.partitions[site]
    anywhere = st.integers(worker.durable.get(site, 0), len(writes))
    # Drawn uniformly, most cuts fall between two events. These fall inside one, and inside a
    # sweep between its first day counter and its last record deletion: a double count hides
    # there, and a record in both a day counter and the stores is the state it leaves.
    inside = worker.inside.get(site, [])
    in_sweeps = [cut for cut in inside if folding(writes[cut - 1]) and folding(writes[cut])]
    return st.one_of(anywhere, *(st.sampled_from(cuts) for cuts in (inside, in_sweeps) if cuts))


def folding(write: Write) -> bool:
    """A day counter's write or a folded record's deletion."""
    kind = decode_key(write[0])[0]
    return kind == "d" or (kind in "ah" and write[1] is None)


def never_killed(delivered: Sequence[Event]) -> FlowState:
    state = FlowState(REGISTRY, horizon=HORIZON)
    for event in delivered:
        state.apply(event)
    return state


def killed(data: st.DataObject, delivered: Sequence[Event], crashes: int) -> Worker:
    """Run the feed, killing the worker `crashes` times (the first life applies the feed in
    its delivery order; each later one, every partition's events from its committed offset)."""
    sources = by_source(delivered)
    worker = start(Changelog(), dict.fromkeys(sources, 0))
    pending = list(delivered)
    for _ in range(crashes):
        # Crashing after the last event still cuts anywhere, as the changelog lags behind.
        every = st.just(len(pending))
        stop = data.draw(every | st.integers(0, len(pending)), label="applied before the crash")
        for event in pending[:stop]:
            apply(worker, event)
        worker = start(*crash(data, worker))
        rest = {source: events[worker.committed[source] :] for source, events in sources.items()}
        pending = interleaved(rest, data.draw(st.randoms(use_true_random=False)))
    for event in pending:
        apply(worker, event)
    return worker


def counted_but_not_deleted(stores: Stores) -> list[tuple[str, str]]:
    """Finished records that a sweep cut short counted into their day but did not delete."""
    found = []
    for key, visit in stores.attendances.items():
        if visit.departed_at is not None:
            day = stores.days.get((key[0], london_day(visit.departed_at)))
            if day is not None and visit.last_event_at < day.departures_folded_before:
                found.append(key)
    for key, handover in stores.handovers.items():
        if handover.handed_over_at is not None:
            day = stores.days.get((key[0], london_day(handover.handed_over_at)))
            if day is not None and handover.last_event_at < day.handovers_folded_before:
                found.append(key)
    return found


# ---------------------------------------------------------------------------------------------
# What is compared
# ---------------------------------------------------------------------------------------------


def views(snapshot: FlowSnapshot) -> dict[str, dict[str, Value]]:
    """Every metric of every view: system, trusts, places, sites."""
    found = {"system": snapshot.system()}
    found |= {f"trust {code}": snapshot.trust(code) for code in REGISTRY.trusts}
    found |= {f"place {name}": snapshot.place(name) for name in REGISTRY.places}
    found |= {f"site {code}": snapshot.site(code) for code in REGISTRY.sites}
    return found


def instants_still_exact(data: st.DataObject, delivered: Sequence[Event]) -> list[datetime]:
    """At and after the last event, and back to the horizon before it (as the folding property
    checks): a record folded twice shows in today's figures only on its day, near the horizon;
    later, only in the month's 4-hour performance."""
    last = max(event.occurred_at for event in delivered)
    later = data.draw(st.integers(1, 36 * 60), label="minutes after the last event")
    earlier = data.draw(st.integers(0, 48 * 60), label="minutes before the last event")
    return [
        last - HORIZON,
        last - timedelta(minutes=earlier),
        last,
        last + timedelta(minutes=later),
    ]


def assert_same_metrics(found: FlowState, expected: FlowState, as_ofs: list[datetime]) -> None:
    for as_of in as_ofs:
        assert views(found.snapshot(as_of)) == views(expected.snapshot(as_of)), as_of


def assert_folded(state: FlowState) -> None:
    # Else the horizon never swept, and no crash could have cut a sweep.
    assert any(day.departures_folded_before != NEVER for day in state.stores.days.values())


def plain(stores: Stores) -> dict[str, dict[Any, Any]]:
    return {kind.name: dict(getattr(stores, kind.name)) for kind in fields(stores)}


def rebuilt_from(changelog: Changelog) -> Stores:
    rebuilt = LoggedStores(refuse)
    rebuilt.restore(changelog.table())
    return rebuilt.stores


def refuse(site: str, key: bytes, value: bytes | None) -> None:
    raise AssertionError(f"a restore wrote {key!r} = {value!r} to {site}")


def misrouted(changelog: Changelog, site_of_event: dict[str, str]) -> list[tuple[str, bytes]]:
    """Writes sent to another partition than their site's."""
    wrong = []
    for partition, writes in changelog.partitions.items():
        for raw_key, _ in writes:
            kind, key = decode_key(raw_key)
            sites = {key[0], site_of_event[key[1]] if kind == "s" else key[0]}
            if sites != {partition}:
                wrong.append((partition, raw_key))
    return wrong


# ---------------------------------------------------------------------------------------------
# The properties
# ---------------------------------------------------------------------------------------------


@CRASHES
@given(data=st.data(), delivered=feeds())
def test_a_worker_killed_at_any_write_and_restarted_ends_with_the_metrics_of_one_never_killed(
    data: st.DataObject, delivered: list[Event]
) -> None:
    expected = never_killed(delivered)
    worker = killed(data, delivered, crashes=1)
    assert_folded(expected)
    assert_same_metrics(worker.state, expected, instants_still_exact(data, delivered))


@CRASHES
@given(data=st.data(), delivered=feeds())
def test_a_worker_killed_again_while_it_recovers_still_ends_with_the_metrics_of_one_never_killed(
    data: st.DataObject, delivered: list[Event]
) -> None:
    expected = never_killed(delivered)
    worker = killed(data, delivered, crashes=2)
    assert_same_metrics(worker.state, expected, instants_still_exact(data, delivered))


@CRASHES
@given(data=st.data(), delivered=feeds())
def test_the_whole_changelog_after_a_restart_rebuilds_exactly_the_live_stores(
    data: st.DataObject, delivered: list[Event]
) -> None:
    worker = killed(data, delivered, crashes=data.draw(st.integers(0, 2), label="crashes"))
    assert plain(rebuilt_from(worker.changelog)) == plain(worker.state.stores)
    site_of_event = {event.event_id: event.site for event in delivered}
    assert misrouted(worker.changelog, site_of_event) == []


A_AND_E = ("R1H12", "ae")


def test_a_crash_between_a_sweeps_day_counters_and_its_deletions_counts_nothing_twice() -> None:
    start_at = SPRING - timedelta(days=2)
    # The visit ends at 3 h; the tick at 52 h folds it, with its day still "today" at 4 h.
    events = [*finished_visit("R1H12", start_at), tick("R1H12", start_at + timedelta(hours=52))]
    delivered = parse(line_of(event) for event in events)
    worker = start(Changelog(), {A_AND_E: 0})
    for event in delivered:
        apply(worker, event)
    writes = worker.changelog.partitions["R1H12"]
    day_write = next(n for n, (key, _) in enumerate(writes) if decode_key(key)[0] == "d")
    assert writes.index((encode_key("a", ("R1H12", "early-R1H12")), None)) > day_write
    # The sweep's day counter is in; the visit's deletion and the tick's commit are not.
    restarted = start(worker.changelog.cut({"R1H12": day_write + 1}), {A_AND_E: 2})
    assert restarted.counted_yet_kept == 1
    apply(restarted, delivered[2])
    assert ("R1H12", "early-R1H12") not in restarted.state.stores.attendances
    as_of = delivered[2].occurred_at - HORIZON
    assert restarted.state.snapshot(as_of).site("R1H12")["ae_departures_today"] == 1
    assert_same_metrics(restarted.state, never_killed(delivered), [as_of, as_of + HORIZON])


def test_a_crash_inside_an_events_writes_loses_nothing_when_it_is_applied_again() -> None:
    start_at = SPRING - timedelta(days=2)
    delivered = parse(line_of(event) for event in finished_visit("R1H12", start_at))
    worker = start(Changelog(), {A_AND_E: 0})
    for event in delivered:
        apply(worker, event)
    # Whichever of the departure's writes comes first is in; the departure is not committed.
    first_of_departure = worker.ends[A_AND_E][0]["R1H12"] + 1
    restarted = start(worker.changelog.cut({"R1H12": first_of_departure}), {A_AND_E: 1})
    apply(restarted, delivered[1])
    as_of = delivered[1].occurred_at
    assert restarted.state.snapshot(as_of).site("R1H12")["ae_departures_today"] == 1
    assert_same_metrics(restarted.state, never_killed(delivered), [as_of])


@pytest.mark.parametrize(
    "second",
    [
        # A departure between two events of another attendance whose last one sweeps it away.
        [("arrival", "X", 10), ("departure", "R", 11), ("dta", "X", 60)],
        # A corrected departure, then a sweep that folds another attendance of the same day.
        [("arrival", "X", 41), ("departure", "R", 2.75), ("dta", "X", 50.5)],
    ],
)
def test_a_cut_anywhere_in_the_events_after_the_last_commit_changes_no_metric(
    second: list[tuple[str, str, float]],
) -> None:
    # Found against a changelog that sent a batch of events' changes together (each key once):
    # a cut then kept a later event's record without an earlier one's, which no rule repairs.
    first = [("arrival", "R", -2), ("departure", "R", 1), ("arrival", "Q", 0.5),
             ("departure", "Q", 0.75)]  # fmt: skip
    committed, rest = built(first), built(second)
    worker = start(Changelog(), {A_AND_E: 0})
    for event in committed + rest:
        apply(worker, event)
    after_commit = worker.ends[A_AND_E][len(committed) - 1]["R1H12"]
    written = len(worker.changelog.partitions["R1H12"])
    as_of = max(event.occurred_at for event in rest)
    for kept in range(after_commit, written + 1):
        restarted = start(worker.changelog.cut({"R1H12": kept}), {A_AND_E: len(committed)})
        for event in rest:
            apply(restarted, event)
        assert_same_metrics(restarted.state, never_killed(committed + rest), [as_of])


def built(steps: list[tuple[str, str, float]]) -> list[Event]:
    start_at = datetime(2025, 1, 10, tzinfo=UTC)
    kinds = {"arrival": "ae.arrival", "departure": "ae.departure", "dta": "ae.decision_to_admit"}
    events = []
    for kind, attendance, hours in steps:
        event = {
            "event_id": f"{attendance}-{kind}-{hours}",
            "event_type": kinds[kind],
            "occurred_at": rfc3339_in(start_at + timedelta(hours=hours), timedelta(0)),
            "site": "R1H12",
            "attendance_id": attendance,
        }
        if kind == "departure":
            event["outcome"] = "discharged"
        events.append(event)
    return parse(line_of(event) for event in events)
