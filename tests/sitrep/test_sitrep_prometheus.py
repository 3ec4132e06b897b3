"""`uecflow sitrep --prometheus` against a real Prometheus holding a backfilled simulated night:
every figure is the core's as of the scrape it is read from (the 08:00 scrape for beds, the last
scrape before midnight for the day's counts)."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from alerts.cli import GENERATED, RULES
from events.contract import rfc3339
from sitrep.fields import FIELDS, Instants, row
from streams.core.replay import replay
from tests.integration.monitoring import Prometheus, missing_servers
from tools.monitoring_servers import binary
from tools.report_backfill import Period, backfill, record, rule_layers
from uecflow.cli import main as uecflow
from uecflow.config import load_registry

pytestmark = [
    pytest.mark.monitoring,
    pytest.mark.skipif(
        bool(missing_servers()) or binary("promtool") is None,
        reason=missing_servers() or "needs promtool: scripts/monitoring-tools install",
    ),
]
REGISTRY = load_registry(None)
STEP = timedelta(minutes=5)


def test_the_live_sitrep_is_the_cores_figures_at_the_scrapes_it_reads(tmp_path: Path) -> None:
    # Two days ago, so that 08:00 the morning after has passed, within Prometheus' retention.
    day = (datetime.now(UTC) - timedelta(days=2)).date()
    instants = Instants(day)
    start = (instants.day_end - timedelta(hours=4)).replace(minute=0, second=0, microsecond=0)
    period = Period(start.astimezone(UTC), instants.beds.astimezone(UTC), STEP)
    events = tmp_path / "night.jsonl"
    hours = round((period.end - period.start) / timedelta(hours=1))
    simulate = ["simulate", "--start", rfc3339(period.start), "--hours", str(hours)]
    assert uecflow([*simulate, "--scenario", "winter-surge", "--out", str(events)]) == 0
    lines = events.read_bytes().splitlines()
    blocks = tmp_path / "blocks"
    assert backfill(lines, REGISTRY, period, blocks) > 0
    for number, rules in enumerate(rule_layers(GENERATED / RULES)):
        scraped = Prometheus(tmp_path / f"rules-{number}")
        scraped.start(targets=[], storage=blocks)
        try:
            record(rules, scraped.url, period, blocks)
        finally:
            scraped.stop()
    server = Prometheus(tmp_path / "server")
    server.start(targets=[], storage=blocks)
    try:
        out = tmp_path / "live"
        sitrep = ["sitrep", "--prometheus", server.url, "--day", day.isoformat()]
        assert uecflow([*sitrep, "--out", str(out)]) == 0
    finally:
        server.stop()
    last_scrape = max(m for m in period.instants() if m <= instants.day_end)
    expected = _core(lines, instants.beds, last_scrape)
    with out.with_suffix(".csv").open(encoding="utf-8", newline="") as file:
        shown = {found["Code"]: found for found in csv.DictReader(file)}
    assert set(shown) == set(expected)
    for code, figures in expected.items():
        for field in FIELDS:
            wanted = "" if figures[field.name] is None else str(figures[field.name])
            assert shown[code][field.name] == wanted, (code, field.name)
    assert any(shown[code]["Arriving by ambulance"] not in ("", "0") for code in shown)


def _core(
    lines: list[bytes], beds_at: datetime, day_at: datetime
) -> dict[str, dict[str, int | float | None]]:
    def at(moment: datetime) -> dict[str, dict[str, int | float | None]]:
        snapshot = replay(lines, REGISTRY, as_of=moment, when_empty=lambda: moment).snapshot
        by_code = {code: snapshot.site(code) for code in REGISTRY.sites}
        return by_code | {code: snapshot.trust(code) for code in REGISTRY.trusts}

    beds, counts = at(beds_at), at(day_at)
    return {code: row(beds[code], counts[code]) for code in beds}


def test_a_day_before_any_data_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = Prometheus(tmp_path / "empty")
    server.start(targets=[])
    try:
        sitrep = ["sitrep", "--prometheus", server.url, "--day", date(2020, 1, 1).isoformat()]
        assert uecflow([*sitrep, "--out", str(tmp_path / "s")]) == 2
    finally:
        server.stop()
    err = capsys.readouterr().err
    assert err.startswith("uecflow sitrep: no uecflow metrics in Prometheus at 2020-01-02T08:00")
    assert err.count("\n") == 1
