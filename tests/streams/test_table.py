"""The terminal table as the SCC reads it: a figure past its target is red, one within is not."""

from __future__ import annotations

import re
from dataclasses import replace

from rich.console import Console

from streams.core.snapshot import FlowSnapshot
from streams.table import render
from tests.events_builder import REGISTRY, arrival, at, opel, state_of, ward
from uecflow.config import Targets

NOW = at("2025-11-20T12:00:00Z")
RED = "\x1b[1;31m"
TARGETS = REGISTRY.targets


def red_cells(snapshot: FlowSnapshot) -> list[str]:
    console = Console(record=True, width=400, force_terminal=True, color_system="standard")
    render(snapshot, console)
    text = console.export_text(styles=True)
    return [cell.strip() for cell in re.findall(re.escape(RED) + r"([^\x1b]*)\x1b\[0m", text)]


def with_targets(snapshot: FlowSnapshot, targets: Targets) -> FlowSnapshot:
    return replace(snapshot, registry=replace(snapshot.registry, targets=targets))


def test_twelve_hour_waits_are_judged_against_the_configured_maximum() -> None:
    # One patient in A&E for 13 hours: red at Royal London, Barts Health and NEL when none is
    # allowed, not red when one is.
    snapshot = state_of([arrival("a1", "2025-11-19T23:00:00Z")]).snapshot(NOW)
    assert red_cells(with_targets(snapshot, replace(TARGETS, over_12h_max=0))) == ["1", "1", "1"]
    assert red_cells(with_targets(snapshot, replace(TARGETS, over_12h_max=1))) == []


def test_the_medically_fit_share_is_red_above_its_threshold_and_not_at_it() -> None:
    beds = ward("w1", "2025-11-20T08:00:00Z", beds_open_core=20, beds_open_escalation=0,
                beds_occupied=10, nctr=2)  # fmt: skip
    snapshot = state_of([beds]).snapshot(NOW)
    assert red_cells(with_targets(snapshot, replace(TARGETS, mffd_rate_max=0.15))) == [
        "20.0%",
        "20.0%",
        "20.0%",
    ]
    assert red_cells(with_targets(snapshot, replace(TARGETS, mffd_rate_max=0.20))) == []


def test_a_trusts_own_opel_declaration_is_its_level_in_force_and_red_from_3() -> None:
    # Royal London declares 3; BHRUT declares 2 for itself from Queen's, which declared 4.
    declared = [
        opel(3, "2025-11-20T08:00:00Z", "R1H12"),
        opel(4, "2025-11-20T08:00:00Z", "RF4QH"),
        opel(2, "2025-11-20T08:30:00Z", "RF4QH", scope="trust"),
    ]
    snapshot = state_of(declared).snapshot(NOW)
    console = Console(record=True, width=400, force_terminal=False)
    render(snapshot, console)
    rows = {
        line.split("│")[1].strip(): [cell.strip() for cell in line.split("│")[2:-1]]
        for line in console.export_text().split("OPEL")[-1].splitlines()
        if line.startswith("│")
    }
    assert rows["Royal London"] == ["3", "–", "3"]  # noqa: RUF001 (the table's dash)
    assert rows["Barts Health"] == ["3", "–", "3"]  # noqa: RUF001
    assert rows["Queen's"] == ["4", "2", "4"]
    assert rows["BHRUT"] == ["4", "2", "2"]
    assert rows["NEL system"] == ["4", "2", "3"]
    # Red from 3: Royal London, Barts Health and NEL in force, Queen's and the highest sites.
    assert sorted(red_cells(snapshot)) == ["3", "3", "3", "3", "3", "4", "4", "4", "4"]
