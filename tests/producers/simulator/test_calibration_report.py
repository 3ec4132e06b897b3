"""A simulated winter month behaves like NEL's (issue #13): the calibrated figures land near the
published ones, queues saturate instead of running away, patients wait for beds, and the
medically fit share holds through the day. One seed here; the report command runs three."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from producers.simulator import calibration_report as report
from producers.simulator.calibration_report import PUBLISHED, MonthFigures, measure
from tests.producers.simulator.runs import REGISTRY, SEED, SITES
from uecflow.cli import main as uecflow


@pytest.fixture(scope="module")
def normal_month() -> MonthFigures:
    return measure("normal", SEED, REGISTRY)


@pytest.fixture(scope="module")
def surge_month() -> MonthFigures:
    return measure("winter-surge", SEED, REGISTRY)


@pytest.mark.slow
@pytest.mark.parametrize("published", PUBLISHED, ids=lambda p: p.name)
def test_every_calibrated_figure_is_within_20_percent_of_its_published_value(
    published: report.Published, normal_month: MonthFigures, surge_month: MonthFigures
) -> None:
    for month in (normal_month, surge_month):
        deviation = month.figures[published.name] / published.value - 1
        assert abs(deviation) <= report.TOLERANCE, (month.scenario, deviation)


@pytest.mark.slow
def test_the_medically_fit_share_stays_within_3_points_of_its_0800_value_all_day(
    normal_month: MonthFigures,
) -> None:
    at_sitrep = normal_month.mffd_by_hour[8]
    assert 0.07 <= at_sitrep <= 0.15
    assert all(abs(share - at_sitrep) <= 0.03 for share in normal_month.mffd_by_hour)


@pytest.mark.slow
def test_a_normal_winter_month_has_waits_over_4_hours_after_a_decision_to_admit_everywhere(
    normal_month: MonthFigures,
) -> None:
    assert set(normal_month.over_4h_after_dta) == set(SITES)
    assert all(count > 0 for count in normal_month.over_4h_after_dta.values())


@pytest.mark.slow
def test_a_normal_winter_month_has_12_hour_trolley_waits_at_a_site_at_least(
    normal_month: MonthFigures,
) -> None:
    assert any(normal_month.trolley_waits.values())


@pytest.mark.slow
def test_a_winter_surge_month_saturates_no_ambulance_waits_12_hours(
    normal_month: MonthFigures, surge_month: MonthFigures
) -> None:
    assert surge_month.longest_ambulance_wait_hours < report.LONGEST_AMBULANCE_WAIT_HOURS
    # Saturated, not absent: the surge still holds more patients after a decision to admit.
    surge, normal = surge_month.over_4h_after_dta, normal_month.over_4h_after_dta
    assert sum(surge.values()) > sum(normal.values())


def _month(scenario: str, seed: int, scale: float = 1.0) -> MonthFigures:
    """A month that meets every published figure exactly (times `scale`) and every check."""
    return MonthFigures(
        scenario,
        seed,
        {published.name: published.value * scale for published in PUBLISHED},
        tuple(0.11 for _ in range(24)),
        dict.fromkeys(SITES, 5),
        dict.fromkeys(SITES, 1),
        1.2,
    )


def _months(scale: float = 1.0) -> list[MonthFigures]:
    return [_month(name, seed, scale) for name in report.SCENARIOS for seed in report.SEEDS]


def test_a_report_within_tolerance_passes_and_shows_every_figure_and_seed() -> None:
    text, passed = report.report(_months(scale=1.15))
    assert passed
    assert "FAIL" not in text
    assert all(text.count(published.name) == 2 for published in PUBLISHED)
    assert all(f"seed {seed}" in text for seed in report.SEEDS)


@pytest.mark.parametrize(
    "broken",
    [
        lambda m: replace(m, figures={**m.figures, "Queen's ambulances a day": 125.0}),
        lambda m: replace(m, longest_ambulance_wait_hours=13.0),
        lambda m: replace(m, mffd_by_hour=(0.11,) * 12 + (0.15,) * 12),
        lambda m: replace(m, over_4h_after_dta={**m.over_4h_after_dta, "RQXM1": 0}),
        lambda m: replace(m, trolley_waits=dict.fromkeys(SITES, 0)),
    ],
    ids=["a figure 25% out", "a surge wait of 13 h", "4 points by noon", "no wait", "no trolley"],
)
def test_one_figure_or_check_out_of_bounds_fails_the_report(
    broken: Callable[[MonthFigures], MonthFigures],
) -> None:
    # The same break in both scenarios: each check looks at the scenario it is about.
    text, passed = report.report([broken(month) for month in _months()])
    assert not passed
    assert "FAIL" in text


def test_the_command_prints_the_report_and_exits_1_when_a_figure_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def far_off(scenario: str, seed: int, _registry: object) -> MonthFigures:
        return _month(scenario, seed, scale=1.5)

    monkeypatch.setattr(report, "measure", far_off)
    monkeypatch.setattr("producers.simulator.cli.ProcessPoolExecutor", ThreadPoolExecutor)
    assert uecflow(["simulate", "--calibration-report"]) == 1
    printed = capsys.readouterr().out
    assert "winter-surge" in printed
    assert "FAIL" in printed


def test_the_command_exits_0_when_everything_is_within_tolerance(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(report, "measure", lambda name, seed, _registry: _month(name, seed))
    monkeypatch.setattr("producers.simulator.cli.ProcessPoolExecutor", ThreadPoolExecutor)
    assert uecflow(["simulate", "--calibration-report"]) == 0
    assert "FAIL" not in capsys.readouterr().out


@pytest.mark.parametrize(
    "option", [["--scenario", "winter-surge"], ["--site", "RQXM1"], ["--drill", "mffd"]]
)
def test_the_report_refuses_options_that_would_change_what_it_measures(
    option: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert uecflow(["simulate", "--calibration-report", *option]) == 2
    assert "--calibration-report" in capsys.readouterr().err
