"""The example report (README, docs/report.md), end to end on real parts: a seeded simulated
day (winter surge, and Homerton's A&E feed silent for its last two hours), its metrics history
scraped through the worker's own exporter every 5 minutes and backfilled with promtool into a
real Prometheus, and `uecflow report` against that Prometheus.

    scripts/report-example [--end 2026-01-15T23:00:00Z] [--out docs/report-example]

The day ends at the current hour by default, so that it is within Prometheus' retention.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from alerts.cli import GENERATED
from alerts.cli import RULES as RULE_FILE
from events.contract import rfc3339
from tools.monitoring_servers import binary
from tools.report_backfill import BackfillError, Period, backfill, record, rule_layers
from uecflow.cli import instant_option as instant
from uecflow.cli import main as uecflow
from uecflow.config import load_registry

RULES = GENERATED / RULE_FILE
HOURS = 24
STEP = timedelta(minutes=5)
SIMULATION = ["--scenario", "winter-surge", "--seed", "7"]
SILENT = ["--scenario", "silent-feed", "--silent-site", "RQXM1", "--silent-stream", "ae"]


def main(argv: list[str]) -> int:
    args = _arguments().parse_args(argv)
    end: datetime = args.end or datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=HOURS)
    with tempfile.TemporaryDirectory(prefix="uecflow-report-") as scratch:
        work = Path(scratch)
        events = work / "day.jsonl"
        simulate(start, events)
        declare_opel(start, events)
        try:
            period = Period(start, end, STEP)
            backfill(events.read_bytes().splitlines(), load_registry(None), period, work / "blocks")
            for rules in rule_layers(RULES):  # each layer reads the blocks of the one before
                with prometheus_on(work / "blocks", work) as url:
                    record(rules, url, period, work / "blocks")
            with prometheus_on(work / "blocks", work) as url:
                report = ["report", "--prometheus", url, "--at", rfc3339(end), "--out", args.out]
                return uecflow(report)
        except (BackfillError, RuntimeError) as error:
            print(f"report-example: {error}", file=sys.stderr)
            return 2


def _arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scripts/report-example", description=__doc__)
    parser.add_argument("--end", type=instant, help="end of the day (default: this hour)")
    parser.add_argument("--out", default="docs/report-example", help="writes OUT.png, OUT.pdf")
    return parser


def simulate(start: datetime, out: Path) -> None:
    """The seeded day, with the A&E feed of one site silent for its last two hours."""
    options = ["--start", rfc3339(start), "--hours", str(HOURS), "--out", str(out)]
    silent_at = ["--silent-at", f"+{HOURS - 2}h"]
    if uecflow(["simulate", *options, *SIMULATION, *SILENT, *silent_at]) != 0:
        raise SystemExit("report-example: the simulator failed")


# The levels the example's hospitals declare, made up for the example (the simulator does not
# declare): Barts Health declares OPEL 3 for the whole trust.
DECLARED = [
    ("R1H12", 3, "site"),
    ("R1HKH", 3, "site"),
    ("R1HNH", 2, "site"),
    ("R1H12", 3, "trust"),
    ("RF4QH", 2, "site"),
    ("RF4DG", 2, "site"),
    ("RQXM1", 1, "site"),
]


def declare_opel(start: datetime, out: Path) -> None:
    """Each hospital's OPEL declaration, an hour into the day."""
    at = rfc3339(start + timedelta(hours=1))
    lines = [
        json.dumps(
            {
                "event_id": f"example-opel-{site}-{scope}",
                "event_type": "opel.declared",
                "occurred_at": at,
                "site": site,
                "level": level,
                "scope": scope,
            }
        )
        for site, level, scope in DECLARED
    ]
    with out.open("a", encoding="utf-8") as file:
        file.write("".join(f"{line}\n" for line in lines))


@contextmanager
def prometheus_on(storage: Path, work: Path) -> Iterator[str]:
    """Prometheus serving `storage` (no scrapes), on a free port of the loopback."""
    prometheus = binary("prometheus")
    if prometheus is None:
        raise RuntimeError("Prometheus not built: scripts/monitoring-tools install")
    config = work / "prometheus.yml"
    config.write_text("global: {}\n")
    port = _free_port()
    with (work / "prometheus.log").open("wb") as log:
        process = subprocess.Popen(
            [prometheus, f"--config.file={config}", f"--storage.tsdb.path={storage}",
             f"--web.listen-address=127.0.0.1:{port}"],
            stdout=log, stderr=log,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(30)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("prometheus exited at start (see its log)")
        try:
            if httpx.get(f"{url}/-/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"prometheus not ready on {url} after {timeout:g} s")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
