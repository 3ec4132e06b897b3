"""The `uecflow` command: parses arguments, wires files to the core's adapters, prints results."""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, TextIO

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

from events.contract import RFC3339_PATTERN, on_the_calendar
from events.schema import json_schema
from streams.core.replay import document, replay
from streams.table import render
from uecflow.config import ConfigError, Registry, load_registry

PROGRESS_FROM_BYTES = 20 * 1024 * 1024
# Commands that live with their code and parse their own options: module, one-line summary.
PASSTHROUGH = {
    "sample": ("producers.simulator.sample", "generate a seeded sample of events"),
    "produce": (
        "producers.kafka.produce",
        "send a file of events to Kafka, validated, keyed by site",
    ),
    "gateway": ("producers.gateway", "run the HTTPS ingestion gateway for trusts"),
    "simulate": ("producers.simulator.cli", "simulate the NEL emergency departments"),
    "alerts": ("alerts.cli", "generate the alert rules and Alertmanager routing from the config"),
    "report": ("report.cli", "render the SCC situation report (PNG and PDF) from Prometheus"),
    "dashboards": ("dashboards.cli", "generate the Grafana dashboards or push them to a Grafana"),
}
Handler = Callable[[argparse.Namespace, Registry], int]


class UsageError(Exception):
    """A problem the user can fix from the message alone: no traceback."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args, rest = parser.parse_known_args(argv)
    if args.command in PASSTHROUGH:
        if args.config:
            os.environ["UECFLOW_CONFIG"] = args.config  # load_registry(None) reads it
        module = importlib.import_module(PASSTHROUGH[args.command][0])
        command_main: Callable[[list[str]], int] = module.main
        return command_main(rest)  # it parses its own options
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    try:
        registry = load_registry(args.config)
        handler: Handler = args.handler
        return handler(args, registry)
    except (UsageError, ConfigError) as error:
        print(f"uecflow {args.command}: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader (say `| head`) has all it wanted; Python would complain again at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="uecflow",
        description="Urgent and emergency care flow monitor for North East London.",
    )
    parser.add_argument("--config", help="reference data file (default: $UECFLOW_CONFIG or NEL)")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("replay", help="compute the flow metrics from a file of events")
    run.add_argument("file", help="JSON Lines file of events, or - for standard input")
    run.add_argument(
        "--as-of", type=instant_option, help="RFC 3339 instant (default: latest event)"
    )
    run.add_argument("--json", action="store_true", help="print the JSON document")
    run.add_argument("--rejects", type=Path, help="write each rejected line here, with why")
    run.set_defaults(handler=_replay)

    schema = commands.add_parser("schema", help="print the event contract as JSON Schema")
    schema.set_defaults(handler=_schema)

    _add_worker(commands)

    for command, (_, summary) in PASSTHROUGH.items():
        commands.add_parser(
            command, help=f"{summary} (see: uecflow {command} --help)", add_help=False
        )
    return parser


def _add_worker(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from streams.topics import add_kafka_options

    worker = commands.add_parser("worker", help="run the live pipeline: Kafka in, /metrics out")
    add_kafka_options(worker)
    worker.add_argument(
        "--store", choices=["memory", "rocksdb"], default="memory", help="table store"
    )
    worker.add_argument("--data-dir", type=Path, default=Path("var/worker"), help="local state")
    worker.add_argument("--host", default="127.0.0.1", help="address of /metrics and /health")
    worker.add_argument("--port", type=int, default=6066, help="port of /metrics and /health")
    worker.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    worker.set_defaults(handler=_worker)


def _worker(args: argparse.Namespace, registry: Registry) -> int:
    from streams.topics import topics_from
    from streams.worker.app import WorkerSettings, run_worker
    from uecflow.logs import logging_config

    settings = WorkerSettings(
        bootstrap=args.bootstrap,
        topics=topics_from(args),
        store=f"{args.store}://",
        data_dir=args.data_dir,
        web_host=args.host,
        web_port=args.port,
    )
    return run_worker(settings, registry, logging_config(args.log_level))


def instant_option(text: str) -> datetime:
    """An argparse type: an RFC 3339 instant with an offset, as `replay --as-of` takes it."""
    # The same rule as an event's occurred_at, so that T means what the events mean.
    if not re.fullmatch(RFC3339_PATTERN, text):
        raise argparse.ArgumentTypeError(
            f"not an RFC 3339 instant with an offset (e.g. 2025-11-20T08:00:00Z): {text!r}"
        )
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{error}: {text!r}") from None
    if not on_the_calendar(moment):
        raise argparse.ArgumentTypeError(f"outside years 1 to 9999 in UTC or London: {text!r}")
    return moment


def tune_gc_for_bulk_load() -> None:
    """Collect garbage rarely: replay builds long-lived records with no reference cycles, and
    the default thresholds spend a third of the run re-scanning them."""
    gc.freeze()
    gc.set_threshold(100_000, 50, 1_000)


def _replay(args: argparse.Namespace, registry: Registry) -> int:
    tune_gc_for_bulk_load()
    with ExitStack() as stack:
        source = _open_events(args.file, stack)
        rejects = _open_rejects(args.rejects, args.file, stack)

        def on_reject(number: int, line: bytes, reason: str) -> None:
            if rejects is not None:
                raw = line.rstrip(b"\r\n").decode("utf-8", errors="backslashreplace")
                record = {"line": number, "reason": reason, "event": raw}
                rejects.write(json.dumps(record, ensure_ascii=False) + "\n")

        result = replay(
            _with_progress(source, args.file, stack),
            registry,
            as_of=args.as_of,
            when_empty=lambda: datetime.now(UTC),
            on_reject=on_reject,
        )
    if args.json:
        json.dump(document(result), sys.stdout, indent=2, allow_nan=False)
        sys.stdout.write("\n")
    else:
        footer = (
            f"{result.lines:,} lines: {result.applied:,} applied, "
            f"{result.rejected:,} rejected, {result.duplicates:,} duplicates"
        )
        if result.after_as_of:
            footer += f", {result.after_as_of:,} after the as-of instant (not counted)"
        # Piped output has no terminal width; the SCC view needs about 110 columns.
        console = Console() if sys.stdout.isatty() else Console(width=120)
        render(result.snapshot, console, footer)
    return 0


def _open_events(name: str, stack: ExitStack) -> BinaryIO:
    if name == "-":
        return sys.stdin.buffer
    try:
        return stack.enter_context(open(name, "rb"))
    except OSError as error:
        raise UsageError(f"cannot read {name}: {error.strerror}") from None


def _open_rejects(path: Path | None, events: str, stack: ExitStack) -> TextIO | None:
    if path is None:
        return None
    if events != "-" and path.exists() and path.samefile(events):
        raise UsageError(f"--rejects {path} is the file being replayed: it would be emptied")
    try:
        return stack.enter_context(path.open("w", encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror}") from None


def _without_bom(lines: Iterator[bytes]) -> Iterator[bytes]:
    # Files saved by Windows tools often start with a UTF-8 byte order mark; JSON may ignore it.
    first = next(lines, None)
    if first is not None:
        yield first.removeprefix(b"\xef\xbb\xbf")
        yield from lines


def _with_progress(source: BinaryIO, name: str, stack: ExitStack) -> Iterator[bytes]:
    size = Path(name).stat().st_size if name != "-" else 0
    if size < PROGRESS_FROM_BYTES or not sys.stderr.isatty():
        return _without_bom(iter(source))
    progress = stack.enter_context(
        Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
    )
    task = progress.add_task("replaying", total=size)
    return _without_bom(_reporting(source, lambda done: progress.update(task, completed=done)))


def _reporting(source: BinaryIO, report: Callable[[int], None]) -> Iterator[bytes]:
    done = 0
    for number, line in enumerate(source):
        done += len(line)
        if number % 20_000 == 0:
            report(done)
        yield line


def _schema(_args: argparse.Namespace, registry: Registry) -> int:
    json.dump(json_schema(registry), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0
