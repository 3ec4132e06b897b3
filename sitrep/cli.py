"""`uecflow sitrep --day D`: the UEC daily sitrep figures uecflow can compute for London day D,
per site and per trust, as CSV and an `.xlsx` workbook.

uecflow sitrep events.jsonl --day 2025-11-20 --out sitrep-2025-11-20
uecflow sitrep --prometheus http://prometheus:9090 --day 2026-01-14 --out sitrep
"""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from datetime import date
from pathlib import Path

from report.prometheus import PrometheusClient, PrometheusError
from sitrep.fields import Instants
from sitrep.output import write_csv, write_xlsx
from sitrep.sources import NoFigures, SitrepRow, from_events, from_prometheus
from uecflow.cli import open_events, without_bom
from uecflow.command import UsageError, runs
from uecflow.config import Registry


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Write the UEC daily sitrep figures uecflow can compute for London day D (00:00-23:59;"
        " beds as at 08:00 on D + 1), per site and trust: OUT.csv and OUT.xlsx."
    )
    parser.add_argument("events", nargs="?", help="JSON Lines file of events ('-': stdin)")
    parser.add_argument("--prometheus", help="read the live figures from this Prometheus instead")
    parser.add_argument("--day", type=_day, required=True, help="the London day, YYYY-MM-DD")
    parser.add_argument("--out", required=True, help="write OUT.csv and OUT.xlsx")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per query")
    runs(parser, _run)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a date, YYYY-MM-DD") from None


def _run(args: argparse.Namespace, registry: Registry) -> int:
    if (args.events is None) == (args.prometheus is None):
        raise UsageError("give a file of events or --prometheus URL (one of them)")
    instants = Instants(args.day)
    try:
        rows, source = _rows(args, registry, instants)
        csv_path, xlsx_path = Path(f"{args.out}.csv"), Path(f"{args.out}.xlsx")
        write_csv(rows, csv_path)
        write_xlsx(rows, instants, source, xlsx_path)
    except (PrometheusError, NoFigures) as error:
        print(f"uecflow sitrep: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(
            f"uecflow sitrep: cannot write {error.filename}: {error.strerror}",
            file=sys.stderr,
        )
        return 2
    print(csv_path)
    print(xlsx_path)
    return 0


def _rows(
    args: argparse.Namespace, registry: Registry, instants: Instants
) -> tuple[list[SitrepRow], str]:
    if args.prometheus is not None:
        with PrometheusClient(args.prometheus, timeout=args.timeout) as client:
            return from_prometheus(client, registry, instants), f"Prometheus {args.prometheus}"
    with ExitStack() as stack:
        # Read once, replayed twice (as of each instant).
        lines = list(without_bom(iter(open_events(args.events, stack))))
    return from_events(lines, registry, instants), f"events file {args.events}"
