"""The report's figures at their edges: exactly at a target, undefined values, a missing site,
stale feeds, the four-hour standard of the London day, and trends that go blank when stale."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from report.prometheus import Sample, Series
from report.situation import (
    AS_OF,
    HISTORY,
    STREAMS,
    NoData,
    Situation,
    Target,
    build,
    history_query,
    measures,
    now_query,
    trend_query,
    trend_window,
    yesterday_end,
    yesterday_query,
)
from streams.core.metrics import FRESHNESS
from tests.report.answers import AT, REGISTRY, fresh_feeds, sample, site_labels

FAMILY = {m.key: m.family for m in measures(REGISTRY, AT)}


def situation(*samples: Sample, at: datetime = AT, series: list[Series] | None = None) -> Situation:
    base = [sample(AS_OF, at.timestamp()), *fresh_feeds(at)]
    return build(REGISTRY, at, [*base, *samples], series or [], "http://prometheus:9090")


def cell(result: Situation, code: str, key: str) -> tuple[float | None, bool | None, bool]:
    row = next(row for row in result.sites if row.code == code)
    found = row.cells[key]
    return found.value, found.breach, found.stale


@pytest.mark.parametrize(
    ("key", "value", "breach"),
    [
        ("occupancy", 0.92, False),  # exactly at the target is within it
        ("occupancy", 0.9200001, True),
        ("mffd", 0.15, False),
        ("mffd", 0.1500001, True),
        ("four_hour", 0.78, False),
        ("four_hour", 0.7799999, True),
        ("over_12h", 0.0, False),
        ("over_12h", 1.0, True),
        ("over_12h_dta", 1.0, True),
        ("longest_wait", 45 * 60.0, False),
        ("longest_wait", 45 * 60.0 + 1, True),
        ("handovers_over", 0.0, False),
        ("handovers_over", 1.0, True),
        ("ambulances_waiting", 30.0, None),  # no target: never red, never green
    ],
)
def test_each_figure_against_its_registry_target(
    key: str, value: float, breach: bool | None
) -> None:
    result = situation(sample(FAMILY[key], value, **site_labels("R1H12")))
    assert cell(result, "R1H12", key) == (value, breach, False)


def test_targets_come_from_the_registry() -> None:
    targets = {m.key: m.target for m in measures(REGISTRY, AT)}
    assert targets["occupancy"] is not None
    assert targets["occupancy"].value == REGISTRY.targets.ga_occupancy_max
    assert targets["longest_wait"] is not None
    assert targets["longest_wait"].value == REGISTRY.targets.handover_max_minutes * 60


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_value_that_is_not_a_number_is_unknown_not_a_breach(value: float) -> None:
    result = situation(sample(FAMILY["four_hour"], value, **site_labels("R1H12")))
    assert cell(result, "R1H12", "four_hour") == (None, None, False)


def test_a_series_left_out_is_unknown() -> None:
    assert cell(situation(), "R1H12", "occupancy") == (None, None, False)


def test_a_site_absent_from_prometheus_keeps_its_row_every_figure_unknown_and_stale() -> None:
    base = [s for s in fresh_feeds() if s.labels["site"] != "RQXM1"]
    result = build(REGISTRY, AT, [sample(AS_OF, AT.timestamp()), *base], [], "p")
    row = next(row for row in result.sites if row.code == "RQXM1")
    assert row.name == "Homerton"
    assert all(c.value is None and c.breach is None and c.stale for c in row.cells.values())
    assert all(feed.last_event is None for feed in row.feeds.values())
    assert {(r.code, f.stream) for r, f in result.stale_feeds()} == {
        ("RQXM1", stream) for stream in STREAMS
    }


def test_a_stale_feed_marks_its_own_figures_and_the_totals_not_the_other_feeds() -> None:
    late = [
        s for s in fresh_feeds() if not (s.labels["site"] == "RQXM1" and s.labels["stream"] == "ae")
    ]
    last = AT - timedelta(minutes=31)
    late.append(sample(FRESHNESS, last.timestamp(), **site_labels("RQXM1"), stream="ae"))
    samples = [
        sample(AS_OF, AT.timestamp()),
        *late,
        sample(FAMILY["four_hour"], 0.9, **site_labels("RQXM1")),
        sample(FAMILY["four_hour"], 0.5),  # the system total
        sample(FAMILY["occupancy"], 0.99, **site_labels("RQXM1")),
    ]
    result = build(REGISTRY, AT, samples, [], "p")
    assert cell(result, "RQXM1", "four_hour") == (0.9, False, True)
    assert cell(result, "RQXM1", "occupancy") == (0.99, True, False)  # beds feed is fresh
    assert cell(result, "R1H12", "four_hour")[2] is False
    assert result.system.cells["four_hour"].stale
    assert not result.system.cells["occupancy"].stale
    [(row, feed)] = result.stale_feeds()
    assert (row.code, feed.stream, feed.last_event) == ("RQXM1", "ae", last)


@pytest.mark.parametrize(("stream", "minutes"), [("ae", 30), ("ambulance", 60), ("beds", 360)])
def test_a_feed_exactly_at_its_limit_is_fresh_a_second_later_stale(
    stream: str, minutes: int
) -> None:
    def stale_after(age: timedelta) -> bool:
        feeds = [s for s in fresh_feeds() if s.labels["stream"] != stream]
        feeds += [s for s in fresh_feeds(age=age) if s.labels["stream"] == stream]
        result = build(REGISTRY, AT, [sample(AS_OF, AT.timestamp()), *feeds], [], "p")
        return result.sites[0].feeds[stream].stale(AT)

    assert not stale_after(timedelta(minutes=minutes))
    assert stale_after(timedelta(minutes=minutes, seconds=1))


@pytest.mark.parametrize(
    ("at", "standard"),
    [
        ("2025-03-31T22:59:59+00:00", 0.76),  # 23:59:59 BST on 31 March: the old year
        ("2025-03-31T23:00:00+00:00", 0.78),  # 00:00 BST on 1 April: the new standard
        ("2024-01-15T12:00:00+00:00", 0.76),
    ],
)
def test_the_four_hour_standard_is_the_one_of_the_london_day(at: str, standard: float) -> None:
    moment = datetime.fromisoformat(at)
    result = situation(sample(FAMILY["four_hour"], 0.77, **site_labels("R1H12")), at=moment)
    target = next(m.target for m in result.measures if m.key == "four_hour")
    assert target is not None
    assert target.value == standard
    assert cell(result, "R1H12", "four_hour")[1] is (standard > 0.77)


def test_before_any_four_hour_standard_there_is_no_target_and_no_breach() -> None:
    moment = datetime(2023, 3, 1, tzinfo=UTC)
    result = situation(sample(FAMILY["four_hour"], 0.1, **site_labels("R1H12")), at=moment)
    assert cell(result, "R1H12", "four_hour") == (0.1, None, False)


def test_the_system_row_is_read_from_the_system_recording_rule_never_a_trust_or_site() -> None:
    system = next(m.system_family for m in measures(REGISTRY, AT) if m.key == "occupancy")
    assert system == "system:uecflow_ga_occupancy:ratio"
    result = situation(
        sample("trust:uecflow_ga_occupancy:ratio", 0.5, trust="R1H"),
        sample(FAMILY["occupancy"], 0.6, **site_labels("R1HNH")),
        sample(system, 0.95),
    )
    assert result.system.cells["occupancy"].value == 0.95
    assert result.system.cells["occupancy"].breach is True
    assert cell(result, "R1HNH", "occupancy") == (0.6, False, False)


@pytest.mark.parametrize(
    "samples",
    [[], [sample(FAMILY["occupancy"], 0.9)], [sample(AS_OF, float("nan"))]],
)
def test_no_uecflow_metrics_at_the_instant_is_an_error(samples: list[Sample]) -> None:
    with pytest.raises(NoData):
        build(REGISTRY, AT, samples, [], "p")


def test_a_trend_is_blank_where_there_is_no_value_or_the_feed_was_stale() -> None:
    start, end = trend_window(AT)
    labels = {"__name__": FAMILY["four_hour"], **site_labels("R1H12")}
    hour = 3600.0
    last = end.timestamp()
    values = Series(labels, ((last - 2 * hour, 0.7), (last - hour, 0.8), (last, 0.9)))
    feed = {"__name__": FRESHNESS, **site_labels("R1H12"), "stream": "ae"}
    freshness = Series(
        feed,
        (
            (last - 2 * hour, last - 2 * hour - 60),  # fresh
            (last - hour, last - hour - 31 * 60),  # 31 minutes without an event: stale
            (last, last - 30 * 60),  # exactly at the limit: fresh
        ),
    )
    result = situation(series=[values, freshness])
    trend = next(t for t in result.trends if t.measure.key == "four_hour")
    assert trend.times[0] == start
    assert trend.times[-1] == end
    line = dict(zip(trend.times, trend.lines["Royal London"], strict=True))
    assert line[end - timedelta(hours=2)] == 0.7
    assert line[end - timedelta(hours=1)] is None
    assert line[end] == 0.9
    assert line[end - timedelta(minutes=5)] is None  # no value at all
    assert set(trend.lines) == {site.short_name for site in REGISTRY.sites.values()}
    assert [t.measure.key for t in result.trends] == [
        "occupancy",
        "four_hour",
        "longest_wait",
        "mffd",
    ]


def test_queries_name_every_family_the_report_reads() -> None:
    columns = measures(REGISTRY, AT)
    query = now_query(columns)
    assert all(m.family in query for m in columns)
    assert FRESHNESS in query
    assert AS_OF in query
    assert 'site!=""' in trend_query(columns)


@pytest.mark.parametrize(
    ("max_minutes", "family", "has_target"),
    [
        (30, "uecflow_handovers_over_30_today", True),
        (60, "uecflow_handovers_over_60_today", True),
        (50, "uecflow_handovers_over_45_today", False),  # no band at 50: shown, not judged
    ],
)
def test_the_handover_column_follows_the_registrys_maximum(
    max_minutes: float, family: str, has_target: bool
) -> None:
    targets = replace(REGISTRY.targets, handover_max_minutes=max_minutes)
    registry = replace(REGISTRY, targets=targets)
    column = next(m for m in measures(registry, AT) if m.key == "handovers_over")
    assert column.family == family
    assert (column.target is not None) is has_target


# --- since when, and yesterday ---------------------------------------------------------------


def history(family: str, labels: dict[str, str], values: dict[timedelta, float]) -> Series:
    """A range answer: `values` keyed by how long before AT (5-minute steps)."""
    points = sorted(((AT - ago).timestamp(), value) for ago, value in values.items())
    return Series({"__name__": family, **labels}, tuple(points))


def minutes(*ago: int) -> list[timedelta]:
    return [timedelta(minutes=m) for m in ago]


def answered(*samples: Sample, at: datetime = AT) -> list[Sample]:
    """An instant answer: the worker's clock, every feed fresh, and `samples`."""
    return [sample(AS_OF, at.timestamp()), *fresh_feeds(at), *samples]


def test_a_breach_says_since_when_its_unbroken_run_began() -> None:
    occupancy = FAMILY["occupancy"]
    labels = site_labels("R1H12")
    past = dict.fromkeys(minutes(0, 5, 10, 15), 0.95) | {timedelta(minutes=20): 0.92}
    result = build(
        REGISTRY, AT, answered(sample(occupancy, 0.95, **labels)), [], "p",
        history=[history(occupancy, labels, past)],
    )  # fmt: skip
    found = next(row for row in result.sites if row.code == "R1H12").cells["occupancy"]
    assert found.breach
    assert found.since == AT - timedelta(minutes=15)  # 20 minutes ago it was exactly at 92%
    assert found.since_known


def test_a_gap_in_the_history_ends_the_run_and_a_breach_older_than_it_all_says_so() -> None:
    mffd = FAMILY["mffd"]
    labels = site_labels("RQXM1")
    gap = dict.fromkeys(minutes(0, 5, 15), 0.2)  # nothing 10 minutes ago
    whole_week = {timedelta(minutes=5 * k): 0.2 for k in range(7 * 24 * 12 + 1)}
    for past, since in ((gap, AT - timedelta(minutes=5)), (whole_week, AT - HISTORY)):
        result = build(
            REGISTRY, AT, answered(sample(mffd, 0.2, **labels)), [], "p",
            history=[history(mffd, labels, past)],
        )  # fmt: skip
        found = next(row for row in result.sites if row.code == "RQXM1").cells["mffd"]
        assert (found.since, found.since_known) == (since, False)


def test_a_breach_that_began_after_the_last_step_is_since_now_and_a_met_target_has_no_since() -> (
    None
):
    occupancy = FAMILY["occupancy"]
    labels, other = site_labels("R1H12"), site_labels("R1HKH")
    result = build(
        REGISTRY, AT,
        [sample(AS_OF, AT.timestamp()), *fresh_feeds(), sample(occupancy, 0.95, **labels),
         sample(occupancy, 0.90, **other)],
        [], "p", history=[history(occupancy, labels, {timedelta(0): 0.90})],
    )  # fmt: skip
    rows = {row.code: row for row in result.sites}
    assert rows["R1H12"].cells["occupancy"].since == AT
    assert rows["R1HKH"].cells["occupancy"].since is None


def test_a_trusts_breach_is_timed_from_the_trust_rule() -> None:
    rule = next(m for m in measures(REGISTRY, AT) if m.key == "occupancy").trust_family
    labels = {"trust": "RF4"}
    result = build(
        REGISTRY, AT, [sample(AS_OF, AT.timestamp()), *fresh_feeds(), sample(rule, 0.97, **labels)],
        [], "p", history=[history(rule, labels, dict.fromkeys(minutes(0, 5, 10), 0.97))],
    )  # fmt: skip
    trust = next(row for row in result.trusts if row.code == "RF4")
    assert trust.cells["occupancy"].since == AT - timedelta(minutes=10)


def test_yesterdays_figure_is_read_at_the_last_second_of_the_london_day_against_its_target() -> (
    None
):
    summer = datetime(2025, 4, 1, 9, 0, tzinfo=UTC)  # 1 April: the 78% standard starts today
    end = yesterday_end(summer)
    assert end == datetime(2025, 3, 31, 22, 59, 59, tzinfo=UTC)  # 23:59:59 BST on 31 March
    family = FAMILY["four_hour"]
    labels = site_labels("R1H12")
    result = build(
        REGISTRY, summer,
        [sample(AS_OF, summer.timestamp()), *fresh_feeds(summer), sample(family, 0.77, **labels)],
        [], "p",
        yesterday=[*fresh_feeds(end), sample(family, 0.77, **labels)],
    )  # fmt: skip
    columns = {m.key: m for m in result.measures}
    assert columns["four_hour"].target == Target("min", 0.78)
    assert columns["four_hour_yesterday"].target == Target("min", 0.76)
    row = next(row for row in result.sites if row.code == "R1H12")
    assert (row.cells["four_hour"].breach, row.cells["four_hour_yesterday"].breach) == (True, False)
    assert row.cells["four_hour_yesterday"].value == 0.77
    assert not row.cells["four_hour_yesterday"].stale


def test_yesterdays_figure_from_a_feed_stale_at_midnight_is_stale() -> None:
    family = FAMILY["four_hour"]
    labels = site_labels("R1H12")
    end = yesterday_end(AT)
    result = build(
        REGISTRY, AT, [sample(AS_OF, AT.timestamp()), *fresh_feeds()], [], "p",
        yesterday=[*fresh_feeds(end, timedelta(hours=2)), sample(family, 0.9, **labels)],
    )  # fmt: skip
    row = next(row for row in result.sites if row.code == "R1H12")
    assert row.cells["four_hour_yesterday"].stale
    assert not row.cells["four_hour"].stale


def test_the_history_and_yesterday_queries_name_what_the_report_reads() -> None:
    columns = measures(REGISTRY, AT)
    judged = [m for m in columns if m.target is not None and not m.yesterday]
    assert all(f in history_query(columns) for m in judged for f in (m.family, m.trust_family))
    assert all(m.system_family in yesterday_query(columns) for m in columns if m.yesterday)
    assert FRESHNESS in yesterday_query(columns)
