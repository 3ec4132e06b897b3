"""`uecflow report` against a real Prometheus holding a backfilled simulated period: both files,
one page, the page's size, and the report's figures equal to `uecflow replay --json --as-of T`
of the same events (and the silenced feed marked stale)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alerts.cli import GENERATED, RULES
from events.contract import rfc3339
from report.render import PNG_SIZE
from streams.core.instants import LONDON
from streams.core.metrics import opel_in_force
from tests.integration.monitoring import Prometheus, missing_servers
from tests.report.pages import pdf_pages, png_size
from tools.harness import UECFLOW
from tools.monitoring_servers import binary
from tools.report_backfill import Period, backfill, record, rule_layers
from uecflow.cli import main as run_uecflow
from uecflow.config import load_registry

pytestmark = [
    pytest.mark.monitoring,
    pytest.mark.skipif(
        bool(missing_servers()) or binary("promtool") is None,
        reason=missing_servers() or "needs promtool: scripts/monitoring-tools install",
    ),
]

HOURS = 3
# The report's column → the replay document's metric, and the factor from the JSON's unit.
SAME_AS_REPLAY = {
    "occupancy": ("ga_occupancy", 1.0),
    "four_hour": ("ae_4h_performance_today", 1.0),
    "over_12h": ("ae_over_12h_in_department", 1.0),
    "over_12h_dta": ("ae_over_12h_after_dta", 1.0),
    "ambulances_waiting": ("ambulances_waiting", 1.0),
    "longest_wait": ("ambulance_longest_wait_minutes", 60.0),
    "handovers_over": ("handovers_over_45_today", 1.0),
    "mffd": ("mffd_rate", 1.0),
}


@pytest.fixture(scope="module")
def period() -> Period:
    # Ends at the current hour: within Prometheus' retention, whatever day the test runs. Not in
    # the first hours of a London day, though: the simulated period starts empty, and a site may
    # have nobody departed yet "today" to judge; such runs end at 23:00 the evening before.
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    hour = end.astimezone(LONDON).hour
    if hour < HOURS + 1:
        end -= timedelta(hours=hour + 1)
    return Period(end - timedelta(hours=HOURS), end, timedelta(minutes=5))


@pytest.fixture(scope="module")
def events(period: Period, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("events") / "period.jsonl"
    options = ["--start", rfc3339(period.start), "--hours", str(HOURS), "--out", str(path)]
    scenarios = ["--scenario", "winter-surge", "--scenario", "silent-feed"]
    silent = ["--silent-site", "RQXM1", "--silent-stream", "ae", "--silent-at", "+1h"]
    assert run_uecflow(["simulate", *options, *scenarios, *silent]) == 0
    declare = rfc3339(period.start + timedelta(minutes=30))
    declared = [("R1H12", 3, "site"), ("R1HKH", 2, "site"), ("RF4QH", 4, "site"),
                ("RF4DG", 1, "site"), ("RF4DG", 2, "trust")]  # fmt: skip
    with path.open("a", encoding="utf-8") as file:
        for site, level, scope in declared:
            event = {"event_id": f"opel-{site}-{scope}", "event_type": "opel.declared",
                     "occurred_at": declare, "site": site, "level": level,
                     "scope": scope}  # fmt: skip
            file.write(json.dumps(event) + "\n")
    return path


@pytest.fixture(scope="module")
def prometheus(
    events: Path, period: Period, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Prometheus]:
    work = tmp_path_factory.mktemp("prometheus")
    lines = events.read_bytes().splitlines()
    assert backfill(lines, load_registry(None), period, work / "blocks") > 0
    for number, rules in enumerate(rule_layers(GENERATED / RULES)):
        scraped = Prometheus(work / f"scraped-{number}")
        scraped.start(targets=[], storage=work / "blocks")
        try:
            record(rules, scraped.url, period, work / "blocks")
        finally:
            scraped.stop()
    server = Prometheus(work / "server")
    server.start(targets=[], storage=work / "blocks")
    try:
        yield server
    finally:
        server.stop()


def uecflow(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(UECFLOW), *args], capture_output=True, text=True, timeout=120, check=False
    )


def replayed(events: Path, at: datetime) -> dict[str, Any]:
    done = uecflow("replay", str(events), "--json", "--as-of", rfc3339(at))
    assert done.returncode == 0, done.stderr
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def test_the_report_shows_what_replay_computes_for_the_same_events(
    prometheus: Prometheus, events: Path, period: Period, tmp_path: Path
) -> None:
    at = period.end
    out = tmp_path / "scc"
    done = uecflow(
        "report", "--prometheus", prometheus.url, "--at", rfc3339(at), "--out", str(out),
        "--json", str(tmp_path / "scc.json"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert png_size(out.with_suffix(".png")) == PNG_SIZE
    assert pdf_pages(out.with_suffix(".pdf")) == 1
    rows = json.loads((tmp_path / "scc.json").read_text())["rows"]
    replay = replayed(events, at)
    for code in replay["sites"]:  # not a comparison of nothing with nothing
        assert rows[code]["cells"]["occupancy"]["value"] is not None
        assert rows[code]["cells"]["four_hour"]["value"] is not None
    expected_rows = {code: replay["sites"][code] for code in replay["sites"]}
    expected_rows["system"] = replay["system"]
    for key, values in expected_rows.items():
        for column, (metric, factor) in SAME_AS_REPLAY.items():
            shown = rows[key]["cells"][column]["value"]
            if values[metric] is None:  # undefined (nobody waiting): shown as undefined too
                assert shown is None, (key, column, shown)
            else:
                wanted = values[metric] * factor
                assert shown == pytest.approx(wanted, rel=1e-12), (key, column)
    # OPEL: a site's declaration; a trust's own (BHRUT), else its sites' highest (Barts Health,
    # and Homerton, which declared nothing); the system's, the highest trust's.
    trusts = {code: opel_in_force(values) for code, values in replay["trusts"].items()}
    assert trusts == {"R1H": 3, "RF4": 2, "RQX": None}
    assert {code: rows[code]["cells"]["opel"]["value"] for code in trusts} == trusts
    assert (
        rows["RF4QH"]["cells"]["opel"]["value"] == replay["sites"]["RF4QH"]["opel_site_level"] == 4
    )
    assert rows["system"]["cells"]["opel"]["value"] == 3
    # Homerton's A&E feed fell silent two hours before T: its figures are not current.
    homerton = rows["RQXM1"]
    assert homerton["feeds"]["ae"]["stale"] is True
    assert homerton["cells"]["four_hour"]["stale"] is True
    assert homerton["feeds"]["beds"]["stale"] is False
    assert rows["system"]["cells"]["four_hour"]["stale"] is True


def test_an_instant_with_no_data_is_one_line_and_exit_2(
    prometheus: Prometheus, period: Period, tmp_path: Path
) -> None:
    before = period.start - timedelta(days=2)
    done = uecflow(
        "report", "--prometheus", prometheus.url, "--at", rfc3339(before),
        "--out", str(tmp_path / "r"),
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith("uecflow report: no uecflow metrics in Prometheus")
    assert done.stderr.count("\n") == 1
    assert not list(tmp_path.iterdir())
