"""The alert drill: each breach crosses its target as the core computes it, each recovery ends
it, and `uecflow simulate --drill` writes exactly those events."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from producers.simulator.drill import STEPS
from streams.core.replay import document, replay
from uecflow.cli import main as uecflow
from uecflow.config import load_registry

NOW = datetime(2026, 1, 15, 14, 0, tzinfo=UTC)
TARGETS = load_registry(None).targets
# What each target's alert reads from the site's numbers, and when it is breached.
BREACHED: dict[str, tuple[str, Callable[[float | None], bool]]] = {
    "occupancy": ("ga_occupancy", lambda v: v is not None and v > TARGETS.ga_occupancy_max),
    "mffd": ("mffd_rate", lambda v: v is not None and v > TARGETS.mffd_rate_max),
    "four_hour": (
        "ae_4h_performance_today",
        lambda v: v is not None and v < TARGETS.four_hour_latest,
    ),
    "over_12h": ("ae_over_12h_in_department", lambda v: (v or 0) > TARGETS.over_12h_max),
    "after_dta": ("ae_over_12h_after_dta", lambda v: (v or 0) > TARGETS.over_12h_max),
    "handover": (
        "ambulance_longest_wait_minutes",
        lambda v: v is not None and v > TARGETS.handover_max_minutes,
    ),
}


def site_numbers(lines: list[str], site: str, as_of: datetime) -> dict[str, float | None]:
    encoded = (line.encode() for line in lines)
    result = replay(encoded, load_registry(None), as_of=as_of, when_empty=lambda: as_of)
    sites: dict[str, dict[str, float | None]] = document(result)["sites"]  # type: ignore[assignment]
    return sites[site]


def test_every_target_has_a_drill() -> None:
    assert set(STEPS) == set(BREACHED)


@pytest.mark.parametrize("target", sorted(STEPS))
def test_a_drill_breaches_its_target_then_ends_the_breach(target: str) -> None:
    metric, breached = BREACHED[target]
    step = STEPS[target]
    before = step.breach("RF4QH", NOW)
    assert breached(site_numbers(before, "RF4QH", NOW)[metric])
    later = NOW + timedelta(minutes=1)
    after = before + step.recover("RF4QH", later)
    assert not breached(site_numbers(after, "RF4QH", later)[metric])


def test_the_cli_writes_the_drill_for_one_site(tmp_path: Path) -> None:
    out = tmp_path / "drill.jsonl"
    assert uecflow(
        ["simulate", "--drill", "handover", "--site", "RF4DG", "--start", "2026-01-15T14:00:00Z",
         "--out", str(out)]
    ) == 0  # fmt: skip
    written = [json.loads(line) for line in out.read_text().splitlines()]
    expected = [json.loads(line) for line in STEPS["handover"].breach("RF4DG", NOW)]
    assert [e["event_id"] for e in written] == [e["event_id"] for e in expected]
    assert all(e["site"] == "RF4DG" for e in written)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--drill", "mffd"], "exactly one --site"),
        (["--drill", "mffd", "--site", "R1H12", "--site", "R1HKH"], "exactly one --site"),
        (["--drill", "mffd", "--site", "R1H12", "--scenario", "winter-surge"], "no --scenario"),
    ],
)
def test_a_drill_needs_one_site_and_no_model(
    options: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert uecflow(["simulate", *options]) == 2
    assert message in capsys.readouterr().err
