"""The worker's handling of one message, without Kafka: counters, refusals, restart."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry

from events import Event
from streams.core.intake import REFUSAL_KINDS, Keys, Refused, Stream
from streams.worker.pipeline import Pipeline
from tests.events_builder import REGISTRY, arrival, at, departure, opel, ward

NOW = at("2025-11-20T12:00:00Z")


class Changelog:
    """The table's changelog: the latest value of each key (None deletes)."""

    def __init__(self) -> None:
        self.entries: dict[bytes, bytes] = {}

    def send(self, _site: str, key: bytes, value: bytes | None) -> None:
        if value is None:
            self.entries.pop(key, None)
        else:
            self.entries[key] = value


def started(changelog: Changelog) -> tuple[Pipeline, CollectorRegistry]:
    metrics = CollectorRegistry()
    pipeline = Pipeline(REGISTRY, changelog.send, lambda: NOW, metrics)
    pipeline.recover(changelog.entries.items())
    return pipeline, metrics


def raw(event: Event) -> bytes:
    return event.model_dump_json().encode()


def in_department(pipeline: Pipeline, as_of: datetime = NOW) -> object:
    read = pipeline.read(as_of)
    assert read is not None
    return read[0].system()["ae_in_department"]


def test_a_resent_event_is_counted_once_and_as_a_duplicate() -> None:
    pipeline, metrics = started(Changelog())
    event = raw(arrival("a1", "2025-11-20T08:00:00Z"))
    assert pipeline.handle(event, Stream.AE, key=b"R1H12") is None
    assert pipeline.handle(event, Stream.AE, key=b"R1H12") is None
    assert in_department(pipeline) == 1
    assert metrics.get_sample_value("uecflow_events_processed_total", {"stream": "ae"}) == 1
    barts = {"stream": "ae", "site": "R1H12", "trust": "R1H"}
    assert metrics.get_sample_value("uecflow_events_duplicate_total", barts) == 1


def test_an_event_older_than_the_lateness_horizon_is_refused_with_its_reason() -> None:
    pipeline, metrics = started(Changelog())
    pipeline.handle(raw(arrival("a1", "2025-11-20T11:00:00Z")), Stream.AE, key=b"R1H12")
    late = NOW - REGISTRY.lateness_horizon - timedelta(hours=2)
    refused = pipeline.handle(raw(arrival("a2", late)), Stream.AE, key=b"R1H12")
    assert isinstance(refused, Refused)
    assert "too late" in refused.reason
    labels = {"stream": "ae", "reason": "too_late", "site": "R1H12", "trust": "R1H"}
    assert metrics.get_sample_value("uecflow_events_rejected_total", labels) == 1


def test_a_restarted_pipeline_has_the_same_state_and_freshness() -> None:
    changelog = Changelog()
    pipeline, _ = started(changelog)
    for event in [arrival("a1", "2025-11-20T08:00:00Z"), arrival("a2", "2025-11-20T09:00:00Z"),
                  departure("a1", "2025-11-20T10:00:00Z")]:  # fmt: skip
        pipeline.handle(raw(event), Stream.AE, key=b"R1H12")
    pipeline.flush()
    restarted, _ = started(changelog)
    assert in_department(restarted) == 1
    before, after = pipeline.read(NOW), restarted.read(NOW)
    assert before is not None
    assert after is not None
    assert dict(after[1]) == dict(before[1]) == {("R1H12", "ae"): after[1][("R1H12", "ae")]}
    assert after[0].system() == before[0].system()


def test_an_opel_declaration_keeps_the_beds_feed_stale_and_survives_a_restart() -> None:
    """A declaration travels on the beds topic but says nothing of the wards: a site whose ward
    snapshots stopped must still read stale, however often it declares."""
    changelog = Changelog()
    pipeline, metrics = started(changelog)
    pipeline.handle(raw(ward("W1", "2025-11-20T02:00:00Z", beds_open_core=1, beds_occupied=1)),
                    Stream.BEDS, key=b"R1H12")  # fmt: skip
    pipeline.handle(raw(opel(3, "2025-11-20T11:00:00Z")), Stream.BEDS, key=b"R1H12")
    pipeline.flush()
    assert metrics.get_sample_value("uecflow_events_processed_total", {"stream": "beds"}) == 2
    for running in (pipeline, started(changelog)[0]):
        read = running.read(NOW)
        assert read is not None
        assert read[0].site("R1H12")["opel_site_level"] == 3
        assert dict(read[1]) == {("R1H12", "beds"): read[1][("R1H12", "beds")]}
        assert read[1][("R1H12", "beds")] == at("2025-11-20T02:00:00Z").timestamp() * 1_000_000


def test_every_refusal_counter_is_exposed_at_zero_before_the_first_refusal() -> None:
    """So that Prometheus' increase() sees the first dead letter (a series born at 1 shows none)."""
    _, metrics = started(Changelog())
    for stream in Stream:
        for kind in REFUSAL_KINDS:
            for site, trust in [("", ""), *((s.code, s.trust) for s in REGISTRY.sites.values())]:
                labels = {"stream": stream.value, "reason": kind, "site": site, "trust": trust}
                assert metrics.get_sample_value("uecflow_events_rejected_total", labels) == 0


@pytest.mark.parametrize(("key", "said"), [(None, "no Kafka key"), (b"RQX", "other than its site")])
def test_a_message_not_keyed_by_its_site_is_refused_and_not_counted(
    key: bytes | None, said: str
) -> None:
    pipeline, metrics = started(Changelog())
    refused = pipeline.handle(raw(arrival("a1", "2025-11-20T08:00:00Z")), Stream.AE, key=key)
    assert isinstance(refused, Refused)
    assert said in refused.reason
    assert "RQX" not in refused.reason  # the key is never quoted: it may be anything
    assert in_department(pipeline) == 0
    # Counted against the site the event names: its trust can see its own mistake.
    labels = {"stream": "ae", "reason": "wrong_key", "site": "R1H12", "trust": "R1H"}
    assert metrics.get_sample_value("uecflow_events_rejected_total", labels) == 1


def test_a_message_from_a_file_has_no_key_to_check() -> None:
    pipeline, _ = started(Changelog())
    event = raw(arrival("a1", "2025-11-20T08:00:00Z"))
    assert pipeline.handle(event, Stream.AE, key=Keys.UNCHECKED) is None
    assert in_department(pipeline) == 1


def test_a_worker_recovers_shows_and_counts_only_the_sites_it_holds() -> None:
    changelog = Changelog()
    before, _ = started(changelog)
    before.handle(raw(arrival("a1", "2025-11-20T08:00:00Z")), Stream.AE, key=b"R1H12")
    before.handle(raw(arrival("b1", "2025-11-20T08:00:00Z", site="RQXM1")), Stream.AE, key=b"RQXM1")
    before.flush()
    pipeline = Pipeline(REGISTRY, changelog.send, lambda: NOW, CollectorRegistry())
    pipeline.recover(changelog.entries.items(), sites={"RQXM1"})
    read = pipeline.read(NOW)
    assert read is not None
    assert set(read[0].sites) == {"RQXM1"}
    assert read[0].sites["RQXM1"].department.in_department == 1
    refused = pipeline.handle(raw(arrival("a2", "2025-11-20T09:00:00Z")), Stream.AE, key=b"R1H12")
    assert refused is not None
    assert refused.kind == "wrong_partition"


def test_a_site_that_moved_away_stops_being_shown_at_once() -> None:
    pipeline, _ = started(Changelog())
    pipeline.keep_only({"RQXM1", "R1HNH"})
    read = pipeline.read(NOW)
    assert read is not None
    assert set(read[0].sites) == {"RQXM1", "R1HNH"}
    pipeline.keep_only({"R1HNH", "R1H12"})  # R1H12 is shown once its recovery has ended
    assert pipeline.sites == {"R1HNH"}


def test_a_message_that_is_no_event_is_counted_under_no_site() -> None:
    pipeline, metrics = started(Changelog())
    assert isinstance(pipeline.handle(b"{not json", Stream.AE, key=b"R1H12"), Refused)
    labels = {"stream": "ae", "reason": "contract", "site": "", "trust": ""}
    assert metrics.get_sample_value("uecflow_events_rejected_total", labels) == 1
