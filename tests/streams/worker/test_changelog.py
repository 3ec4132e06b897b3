"""The changelogged stores: what goes to the changelog, to which site's partition, and back."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from streams.core.attendance import Attendance, DepartureCounts
from streams.core.flow import DayCounts
from streams.core.handover import Handover, HandoverCounts
from streams.core.instants import HOUR, MINUTE, NEVER
from streams.core.occupancy import WardHistory, WardSnapshot
from streams.core.opel import Declaration, DeclarationHistory
from streams.worker.changelog import (
    LoggedStores,
    decode_key,
    decode_value,
    encode_instant,
    encode_key,
    encode_record,
)

T = 1_743_000_000_000_000  # an instant (March 2025), in microseconds
Sent = list[tuple[str, bytes, bytes | None]]


def recording() -> tuple[LoggedStores, Sent]:
    sent: Sent = []
    return LoggedStores(lambda site, key, value: sent.append((site, key, value))), sent


RECORDS: list[tuple[str, Any]] = [
    ("a", Attendance()),
    (
        "a",
        Attendance(
            arrived_at=T,
            arrival_event="e-arr",
            department_type=3,
            mental_health=True,
            dta_at=T + HOUR,
            dta_event="e-dta",
            departed_at=T + 13 * HOUR,
            departure_event="e-dep",
            outcome="admitted",
            last_event_at=T + 13 * HOUR,
        ),
    ),
    ("a", Attendance(departed_at=T, departure_event="ünïcode | id", last_event_at=T)),
    ("h", Handover()),
    ("h", Handover(arrived_at=T, handed_over_at=T + 47 * MINUTE, last_event_at=T + 47 * MINUTE)),
    ("w", WardHistory()),
    (
        "w",
        WardHistory(
            [
                WardSnapshot(T, "w-1", "adult_ga", 20, 19, 3),
                WardSnapshot(T + HOUR, "w-2", "maternity", 0, 0, 0),
                WardSnapshot(T + HOUR, "w-3", "adult_ga", 22, 25, 25),
            ]
        ),
    ),
    ("d", DayCounts()),
    (
        "d",
        DayCounts(
            DepartureCounts(9, 7, 8, 6, 2, 1, 1, 1),
            HandoverCounts(4, 3 * HOUR, 2, 1, 1, HOUR),
            departures_folded_before=T - 48 * HOUR,
            handovers_folded_before=T - 47 * HOUR,
        ),
    ),
    (
        "d",
        DayCounts(
            DepartureCounts(9, 7, 8, 6, 2, 1, 1, 1, dta_4_to_12h=3),
            HandoverCounts(4, 3 * HOUR, 2, 1, 1, HOUR, within_15=1, within_30=2, lost_over_60=HOUR),
            ae_arrivals=12,
            ambulance_arrivals=5,
            ae_arrivals_folded_before=T - 46 * HOUR,
            ambulance_arrivals_folded_before=T - 45 * HOUR,
        ),
    ),
    (
        "w",
        WardHistory([WardSnapshot(T, "w-4", "adult_critical_care", 10, 9, 0, beds_escalation=2)]),
    ),
    ("o", DeclarationHistory()),
    ("o", DeclarationHistory([Declaration(T, "o-1", 3), Declaration(T + HOUR, "o-2", 1)])),
]


@pytest.mark.parametrize(("kind", "record"), RECORDS)
def test_every_record_kind_comes_back_from_the_changelog_equal(kind: str, record: Any) -> None:
    assert decode_value(kind, encode_record("R1H12", record)) == record


@pytest.mark.parametrize("at", [T, NEVER])
def test_a_feeds_latest_instant_comes_back_equal(at: int) -> None:
    assert decode_value("l", encode_instant("RQXM1", at)) == at


KEYS: list[tuple[str, Any]] = [
    ("a", ("R1H12", "att-1")),
    ("a", ("R1H12", "2025-03-30")),  # looks like a date; only a day key is one
    ("h", ("RF4QH", "hov 1 | with spaces")),
    ("w", ("R1HKH", "Ward 7 \u2013 Älvsjö ✓")),
    ("w", ("R1HKH", "a\x1fb")),  # the separator itself, which a JSON escape lets through
    ("d", ("R1H12", date(2025, 3, 30))),
    ("d", ("RQXM1", date(2025, 10, 26))),
    ("l", ("R1H12", "ae")),
    ("s", ("R1H12", "evt|1 ünïcode")),
    ("s", ("R1H12", "e\x1fx")),
]


@pytest.mark.parametrize(("kind", "key"), KEYS)
def test_every_key_comes_back_from_the_changelog_equal(kind: str, key: Any) -> None:
    assert decode_key(encode_key(kind, key)) == (kind, key)


def test_keys_of_different_stores_never_collide() -> None:
    encoded = [encode_key(kind, key) for kind in "ahwls" for key in [("R1H12", "1")]]
    assert len(set(encoded)) == len(encoded)


def test_a_value_of_an_unknown_version_is_refused() -> None:
    with pytest.raises(ValueError, match="version 2"):
        decode_value("a", b'[2,[null,"",1,false,null,"",null,"","",0]]')


def test_a_record_is_sent_to_its_own_sites_partition_whatever_site_is_applying() -> None:
    logged, sent = recording()
    logged.applying("RQXM1")
    logged.stores.attendances[("R1H12", "att-1")] = Attendance(arrived_at=T, last_event_at=T)
    assert sent == []  # nothing before the flush
    logged.flush()
    assert sent == [
        (
            "R1H12",
            encode_key("a", ("R1H12", "att-1")),
            encode_record("R1H12", Attendance(arrived_at=T, last_event_at=T)),
        )
    ]


def test_a_key_changed_many_times_between_flushes_is_sent_once_with_its_last_value() -> None:
    logged, sent = recording()
    visit = Attendance(arrived_at=T, last_event_at=T)
    logged.stores.attendances[("R1H12", "att-1")] = Attendance()
    logged.stores.attendances[("R1H12", "att-1")] = visit
    assert logged.flush() == 1
    assert sent == [("R1H12", encode_key("a", ("R1H12", "att-1")), encode_record("", visit))]
    assert logged.flush() == 0


def test_a_deletion_is_sent_as_none() -> None:
    logged, sent = recording()
    logged.stores.days[("R1H12", date(2025, 3, 1))] = DayCounts()
    logged.flush()
    del logged.stores.days[("R1H12", date(2025, 3, 1))]
    logged.flush()
    assert sent[-1] == ("R1H12", encode_key("d", ("R1H12", date(2025, 3, 1))), None)


def test_a_flush_sends_days_then_records_then_event_ids() -> None:
    logged, sent = recording()
    logged.applying("R1H12")
    logged.stores.seen["evt-1"] = T
    logged.stores.attendances[("R1H12", "att-1")] = Attendance(arrived_at=T, last_event_at=T)
    logged.stores.days[("R1H12", date(2025, 3, 1))] = DayCounts()
    logged.flush()
    assert [decode_key(key)[0] for _, key, _ in sent] == ["d", "a", "s"]


def test_an_event_id_goes_to_the_partition_of_the_site_applying_it() -> None:
    logged, sent = recording()
    logged.applying("RF4DG")
    logged.stores.seen["evt-1"] = T
    logged.flush()
    del logged.stores.seen["evt-1"]
    logged.applying("R1H12")
    logged.flush()
    key = encode_key("s", ("RF4DG", "evt-1"))
    assert sent == [("RF4DG", key, encode_instant("RF4DG", T)), ("RF4DG", key, None)]


def test_a_restore_loads_every_store_and_sends_nothing() -> None:
    logged, sent = recording()
    entries = [
        (encode_key(kind, key), encode_record("R1H12", record))
        for (kind, record), key in zip(RECORDS, keys_for(RECORDS), strict=True)
    ]
    entries.append((encode_key("s", ("RQXM1", "evt-1")), encode_instant("RQXM1", T)))
    logged.restore(entries)
    assert logged.flush() == 0
    assert sent == []
    assert logged.stores.attendances[("R1H12", "k2")] == RECORDS[2][1]
    assert logged.stores.wards[("R1H12", "k6")] == RECORDS[6][1]
    assert logged.stores.days[("R1H12", date(2025, 3, 8))] == RECORDS[8][1]
    assert dict(logged.stores.seen) == {"evt-1": T}


def keys_for(records: list[tuple[str, Any]]) -> list[Any]:
    """A distinct key per record, of its store's kind (day keys are dates)."""
    return [
        ("R1H12", date(2025, 3, number) if kind == "d" else f"k{number}")
        for number, (kind, _) in enumerate(records)
    ]


def test_a_restored_ids_deletion_goes_to_its_own_site_not_the_one_applying() -> None:
    logged, sent = recording()
    key = encode_key("s", ("RQXM1", "evt-1"))
    logged.restore([(key, encode_instant("RQXM1", T))])
    logged.applying("R1H12")
    del logged.stores.seen["evt-1"]
    logged.flush()
    assert sent == [("RQXM1", key, None)]


@pytest.mark.parametrize("event_id", ["evt|1 ünïcode", "e\x1fx", "   ", '"quoted", \\ too'])
def test_an_event_id_of_any_characters_comes_back_from_the_changelog(event_id: str) -> None:
    logged, sent = recording()
    logged.applying("R1H12")
    logged.stores.seen[event_id] = T
    logged.flush()
    restored, _ = recording()
    restored.restore([(key, value) for _, key, value in sent if value is not None])
    assert dict(restored.stores.seen) == {event_id: T}


def test_the_latest_event_times_wait_for_the_batchs_flush_and_go_once() -> None:
    logged, sent = recording()
    logged.applying("R1H12")
    for second, event_id in enumerate(["evt-1", "evt-2"]):
        logged.latest[("R1H12", "ae")] = T + second
        logged.stores.seen[event_id] = T + second
        logged.flush(latest=False)
    assert [decode_key(key)[0] for _, key, _ in sent] == ["s", "s"]
    assert logged.flush() == 1
    assert sent[-1] == ("R1H12", encode_key("l", ("R1H12", "ae")), encode_instant("", T + 1))


def test_records_written_before_fields_were_added_recover_with_those_fields_at_zero() -> None:
    # Day counters, handover counts and ward snapshots as the changelog held them before the
    # arrival counts, the 15/30-minute handovers and the escalation beds were added.
    day = decode_value("d", b"[1,[[5,4,3,2,1,1,0,0],[2,600,1,0,0,300],10,20]]")
    assert day == DayCounts(
        DepartureCounts(5, 4, 3, 2, 1, 1, 0, 0), HandoverCounts(2, 600, 1, 0, 0, 300), 10, 20
    )
    assert (day.ae_arrivals, day.departed.dta_4_to_12h, day.handed_over.within_15) == (0, 0, 0)
    wards = decode_value("w", b'[1,[[[100,"e1","adult_ga",20,18,3]]]]')
    assert wards.snapshots[0].beds_escalation == 0
