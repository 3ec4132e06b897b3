"""`uecflow report`: the SCC situation report from Prometheus, as one-page PNG and PDF.

uecflow report --prometheus http://prometheus:9090 --out reports/scc
uecflow report --prometheus http://prometheus:9090 --at 2026-01-15T08:00:00Z --png a.png
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from datetime import UTC, datetime
from pathlib import Path

from report import render, situation
from report.prometheus import PrometheusClient, PrometheusError
from report.situation import NoData, Situation
from uecflow.cli import instant_option as replay_instant
from uecflow.command import UsageError, runs
from uecflow.config import Registry


def _run(args: argparse.Namespace, registry: Registry) -> int:
    try:
        png, pdf = _outputs(args)
        result = _situation(args, registry)
        render.save(result, png, pdf)
        if args.json is not None:
            args.json.write_text(json.dumps(as_json(result), indent=2) + "\n", encoding="utf-8")
    except (UsageError, PrometheusError, NoData) as error:
        print(f"uecflow report: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"uecflow report: cannot write {error.filename}: {error.strerror}", file=sys.stderr)
        return 2
    for path in (png, pdf, args.json):
        if path is not None:
            print(path)
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `uecflow report`."""
    parser.description = "Render the SCC situation report (one A4-landscape page) from Prometheus."
    parser.add_argument("--prometheus", required=True, help="Prometheus URL, e.g. http://h:9090")
    # The same rule as `uecflow replay --as-of`, so that T means the same to both.
    parser.add_argument(
        "--at", type=replay_instant, help="RFC 3339 instant to report on (default: now)"
    )
    parser.add_argument("--out", help="write OUT.png and OUT.pdf")
    parser.add_argument("--png", type=Path, help="write the PNG here (instead of OUT.png)")
    parser.add_argument("--pdf", type=Path, help="write the PDF here (instead of OUT.pdf)")
    parser.add_argument("--json", type=Path, help="also write the report's figures as JSON")
    parser.add_argument("--timeout", type=_seconds, default=10.0, help="seconds per query")
    runs(parser, _run)


def _outputs(args: argparse.Namespace) -> tuple[Path | None, Path | None]:
    png: Path | None = args.png or (Path(f"{args.out}.png") if args.out else None)
    pdf: Path | None = args.pdf or (Path(f"{args.out}.pdf") if args.out else None)
    if png is None and pdf is None:
        raise UsageError("say where to write: --out PATH (PATH.png and PATH.pdf), --png, --pdf")
    return png, pdf


def _situation(args: argparse.Namespace, registry: Registry) -> Situation:
    # Whole seconds: the trend's steps are then the same instants in Prometheus and here.
    at: datetime = (args.at or datetime.now(UTC)).replace(microsecond=0)
    columns = situation.measures(registry, at)
    with PrometheusClient(args.prometheus, timeout=args.timeout) as client:
        now = client.instant(situation.now_query(columns), at)
        start, end = situation.trend_window(at)
        trends = client.range(situation.trend_query(columns), start, end, situation.TREND_STEP)
        start, end = situation.history_window(at)
        history = client.range(situation.history_query(columns), start, end, situation.TREND_STEP)
        before = client.instant(situation.yesterday_query(columns), situation.yesterday_end(at))
    try:
        return situation.build(registry, at, now, trends, client.url, history, before)
    except NoData:
        raise NoData(
            f"no uecflow metrics in Prometheus at {client.url} at {at.isoformat()}"
            " (is the uecflow worker being scraped?)"
        ) from None


def as_json(result: Situation) -> dict[str, object]:
    """The report's figures: what it shows, for tests and for other tools."""
    rows = {row.code or "system": row for row in result.rows()}
    return {
        "at": _utc(result.at),
        "source": result.source,
        "targets": {
            m.key: None if m.target is None else {"bound": m.target.bound, "value": m.target.value}
            for m in result.measures
        },
        "rows": {
            key: {
                "name": row.name,
                "level": "system" if row.code is None else "trust" if row.total else "site",
                "cells": {
                    k: {
                        "value": c.value,
                        "breach": c.breach,
                        "stale": c.stale,
                        "since": None if c.since is None else _utc(c.since),
                    }
                    for k, c in row.cells.items()
                },
                "feeds": {
                    s: {
                        "last_event": None if f.last_event is None else f.last_event.isoformat(),
                        "stale": f.stale(result.at),
                    }
                    for s, f in row.feeds.items()
                },
            }
            for key, row in rows.items()
        },
    }


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r}: expected a positive number of seconds")
    return value
