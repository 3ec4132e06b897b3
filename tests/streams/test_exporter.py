"""/metrics as Prometheus reads it: names, units, labels, targets and what is left out."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import pytest
from prometheus_client import CollectorRegistry

from streams.core.flow import FlowState
from streams.core.instants import Instant, to_instant
from streams.core.metrics import METRICS
from streams.core.snapshot import FlowSnapshot
from streams.exporter import FlowCollector
from tests.events_builder import REGISTRY, arrival, at, departure, state_of, ward

NOW = at("2025-11-20T12:00:00Z")


def collected(
    state: FlowState | None, latest: Mapping[tuple[str, str], Instant] | None = None
) -> CollectorRegistry:
    def read(as_of: datetime) -> tuple[FlowSnapshot, Mapping[tuple[str, str], Instant]] | None:
        return None if state is None else (state.snapshot(as_of), latest or {})

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


def test_a_sites_series_carry_site_trust_and_place_and_totals_carry_their_level_only() -> None:
    events = [arrival("a1", "2025-11-20T08:00:00Z"), arrival("a2", "2025-11-20T09:00:00Z")]
    registry = collected(state_of(events))
    site = {"site": "R1H12", "trust": "R1H", "place": "Tower Hamlets"}
    assert registry.get_sample_value("uecflow_ae_in_department", site) == 2
    assert registry.get_sample_value("uecflow_ae_in_department", {"trust": "R1H"}) == 2
    assert registry.get_sample_value("uecflow_ae_in_department", {"place": "Newham"}) == 0
    assert registry.get_sample_value("uecflow_ae_in_department", {}) == 2


def test_minutes_are_exposed_as_seconds() -> None:
    registry = collected(state_of([arrival("a1", "2025-11-20T08:00:00Z")]))
    assert registry.get_sample_value("uecflow_ae_longest_wait_seconds", {}) == 4 * 3600


def test_an_undefined_ratio_is_left_out_not_shown_as_zero() -> None:
    registry = collected(state_of([arrival("a1", "2025-11-20T08:00:00Z")]))
    assert registry.get_sample_value("uecflow_ae_4h_performance_today_ratio", {}) is None


def test_ratios_are_fractions_of_one() -> None:
    events = [
        ward("w1", "2025-11-20T08:00:00Z", beds_open_core=20, beds_open_escalation=0,
             beds_occupied=19, nctr=2),
        arrival("a1", "2025-11-20T06:00:00Z"),
        departure("a1", "2025-11-20T11:00:00Z"),
    ]  # fmt: skip
    registry = collected(state_of(events))
    assert registry.get_sample_value("uecflow_ga_occupancy_ratio", {}) == 0.95
    assert registry.get_sample_value("uecflow_ae_4h_performance_today_ratio", {}) == 0.0


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
    assert registry.get_sample_value("uecflow_ae_in_department", {}) is None
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
