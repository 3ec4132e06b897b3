"""/metrics as Prometheus reads it: names, units, labels, targets and what is left out."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

import pytest
from prometheus_client import CollectorRegistry

from streams.core.flow import FlowState
from streams.core.instants import Instant, to_instant
from streams.core.metrics import METRIC, METRICS, PART
from streams.core.snapshot import FlowSnapshot
from streams.exporter import FlowCollector
from tests.events_builder import (
    REGISTRY,
    ambulance_arrival,
    ambulance_handover,
    arrival,
    at,
    departure,
    state_of,
    ward,
)

NOW = at("2025-11-20T12:00:00Z")


RLH = {"site": "R1H12", "trust": "R1H", "place": "Tower Hamlets"}


def collected(
    state: FlowState | None,
    latest: Mapping[tuple[str, str], Instant] | None = None,
    sites: Collection[str] | None = None,
) -> CollectorRegistry:
    def read(as_of: datetime) -> tuple[FlowSnapshot, Mapping[tuple[str, str], Instant]] | None:
        return None if state is None else (state.snapshot(as_of, sites), latest or {})

    registry = CollectorRegistry()
    registry.register(FlowCollector(REGISTRY, read, lambda: NOW))
    return registry


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        ("ga_occupancy", "uecflow_ga_occupancy_ratio"),
        ("ae_in_department", "uecflow_ae_in_department"),
        ("ae_longest_wait_minutes", "uecflow_ae_longest_wait_seconds"),
        ("handover_mean_minutes_today", "uecflow_handover_mean_today_seconds"),
        ("handover_hours_lost_today", "uecflow_handover_lost_today_seconds"),
    ],
)
def test_names_carry_the_prefix_and_their_base_unit(metric: str, expected: str) -> None:
    assert next(m for m in METRICS if m.name == metric).prometheus == expected


def test_every_metric_name_is_unique() -> None:
    names = [metric.prometheus for metric in METRICS]
    assert len(set(names)) == len(names)


def samples_of(registry: CollectorRegistry, family: str) -> dict[str, float]:
    return {
        sample.labels["site"]: sample.value
        for metric in registry.collect()
        for sample in metric.samples
        if sample.name == family
    }


def test_only_sites_are_exported_each_with_site_trust_and_place_and_no_totals() -> None:
    events = [arrival("a1", "2025-11-20T08:00:00Z"), arrival("a2", "2025-11-20T09:00:00Z")]
    registry = collected(state_of(events))
    assert registry.get_sample_value("uecflow_ae_in_department", RLH) == 2
    in_department = samples_of(registry, "uecflow_ae_in_department")
    assert set(in_department) == set(REGISTRY.sites)
    assert sum(in_department.values()) == 2  # a plain sum() is the system's figure


def test_a_worker_exports_only_the_sites_it_holds() -> None:
    events = [
        arrival("a1", "2025-11-20T08:00:00Z"),
        ward("w1", "2025-11-20T08:00:00Z", beds_open_core=20, beds_occupied=19),
    ]
    latest = {("R1H12", "ae"): 1, ("RQXM1", "ae"): 1}
    registry = collected(state_of(events), latest, sites={"RQXM1", "R1HNH"})
    for metric in registry.collect():
        assert {sample.labels.get("site") for sample in metric.samples} <= {"RQXM1", "R1HNH", None}
    assert set(samples_of(registry, "uecflow_ga_beds_open")) == {"RQXM1", "R1HNH"}
    assert set(samples_of(registry, "uecflow_last_event_timestamp_seconds")) == {"RQXM1"}


def test_every_ratio_and_mean_comes_with_its_summable_parts() -> None:
    events = [
        ward("w1", "2025-11-20T08:00:00Z", beds_open_core=20, beds_open_escalation=0,
             beds_occupied=19, nctr=2),
        arrival("a1", "2025-11-20T06:00:00Z"),
        departure("a1", "2025-11-20T11:00:00Z"),
        arrival("a2", "2025-11-20T09:00:00Z"),
        departure("a2", "2025-11-20T10:00:00Z"),
        ambulance_arrival("h1", "2025-11-20T10:00:00Z"),
        ambulance_handover("h1", "2025-11-20T10:40:00Z"),
    ]  # fmt: skip
    registry = collected(state_of(events))
    for metric in METRICS:
        if metric.aggregate.parts is None:
            continue
        numerator, denominator = (
            registry.get_sample_value((METRIC | PART)[name].prometheus, RLH)
            for name in metric.aggregate.parts
        )
        assert numerator is not None, metric.name
        assert denominator is not None, metric.name
        value = registry.get_sample_value(metric.prometheus, RLH)
        if denominator:
            assert value == pytest.approx(numerator / denominator), metric.name
        else:
            assert value is None, metric.name
    assert registry.get_sample_value("uecflow_ae_within_4h_today", RLH) == 1


def test_minutes_are_exposed_as_seconds() -> None:
    registry = collected(state_of([arrival("a1", "2025-11-20T08:00:00Z")]))
    assert registry.get_sample_value("uecflow_ae_longest_wait_seconds", RLH) == 4 * 3600


def test_an_undefined_ratio_is_left_out_not_shown_as_zero() -> None:
    registry = collected(state_of([arrival("a1", "2025-11-20T08:00:00Z")]))
    assert registry.get_sample_value("uecflow_ae_4h_performance_today_ratio", RLH) is None


def test_ratios_are_fractions_of_one() -> None:
    events = [
        ward("w1", "2025-11-20T08:00:00Z", beds_open_core=20, beds_open_escalation=0,
             beds_occupied=19, nctr=2),
        arrival("a1", "2025-11-20T06:00:00Z"),
        departure("a1", "2025-11-20T11:00:00Z"),
    ]  # fmt: skip
    registry = collected(state_of(events))
    assert registry.get_sample_value("uecflow_ga_occupancy_ratio", RLH) == 0.95
    assert registry.get_sample_value("uecflow_ae_4h_performance_today_ratio", RLH) == 0.0


def test_targets_come_from_the_configuration_and_follow_the_financial_year() -> None:
    registry = collected(None)
    occupancy = {"metric": "uecflow_ga_occupancy_ratio", "bound": "max"}
    four_hours = {"metric": "uecflow_ae_4h_performance_today_ratio", "bound": "min"}
    stale = {"metric": "uecflow_last_event_timestamp_seconds", "bound": "max_age", "stream": "ae"}
    assert registry.get_sample_value("uecflow_target", occupancy) == 0.92
    assert registry.get_sample_value("uecflow_target", four_hours) == 0.78  # from April 2025
    assert registry.get_sample_value("uecflow_target", stale) == 30 * 60


def test_before_recovery_only_the_targets_are_exposed() -> None:
    registry = collected(None)
    assert registry.get_sample_value("uecflow_ae_in_department", RLH) is None
    assert registry.get_sample_value("uecflow_as_of_timestamp_seconds", {}) is None


def test_freshness_is_per_site_and_stream_in_seconds() -> None:
    latest = {("R1HKH", "beds"): to_instant(at("2025-11-20T11:30:00Z"))}
    registry = collected(state_of([]), latest)
    labels = {"site": "R1HKH", "trust": "R1H", "place": "Waltham Forest", "stream": "beds"}
    value = registry.get_sample_value("uecflow_last_event_timestamp_seconds", labels)
    assert value == at("2025-11-20T11:30:00Z").timestamp()
    assert registry.get_sample_value("uecflow_as_of_timestamp_seconds", {}) == NOW.timestamp()


def test_no_series_is_labelled_by_an_attendance_or_event_id() -> None:
    registry = collected(state_of([arrival("secret-attendance", "2025-11-20T08:00:00Z")]))
    allowed = {"site", "trust", "place", "stream", "metric", "bound"}
    for family in registry.collect():
        for sample in family.samples:
            assert set(sample.labels) <= allowed
            assert "secret-attendance" not in sample.labels.values()
