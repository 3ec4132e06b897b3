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
from importlib.metadata import version
from pathlib import Path
from typing import BinaryIO, NamedTuple, TextIO

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

from events.contract import RFC3339_PATTERN, on_the_calendar
from events.schema import json_schema
from streams.core.replay import document, replay
from streams.table import render
from uecflow.command import EXIT_OK, EXIT_USAGE, Run, UsageError, runs
from uecflow.config import CONFIG_ENV, ConfigError, Registry, load_registry

PROGRESS_FROM_BYTES = 20 * 1024 * 1024
CONFIG_HELP = "sites, trusts, targets (default: $UECFLOW_CONFIG, else the shipped nel.toml)"


class Command(NamedTuple):
    arguments: str  # "module:function" that adds the options, imported only when chosen
    summary: str


COMMANDS = {
    "replay": Command(
        "uecflow.cli:replay_arguments", "compute the flow metrics from a file of events"
    ),
    "schema": Command("uecflow.cli:schema_arguments", "print the event contract as JSON Schema"),
    "worker": Command(
        "uecflow.cli:worker_arguments", "run the live pipeline: Kafka in, /metrics out"
    ),
    "sample": Command(
        "producers.simulator.sample:add_arguments", "generate a seeded sample of events"
    ),
    "produce": Command(
        "producers.kafka.produce:add_arguments",
        "send a file of events to Kafka, validated, keyed by site",
    ),
    "gateway": Command(
        "producers.gateway.cli:add_arguments", "run the HTTPS ingestion gateway for trusts"
    ),
    "hl7": Command(
        "producers.epr.hl7_cli:add_arguments",
        "listen for a trust's HL7 v2 ADT messages over MLLP and send their events to Kafka",
    ),
    "simulate": Command(
        "producers.simulator.cli:add_arguments", "simulate the NEL emergency departments"
    ),
    "alerts": Command(
        "alerts.cli:add_arguments",
        "generate the alert rules and Alertmanager routing from the config",
    ),
    "report": Command(
        "report.cli:add_arguments",
        "render the SCC situation report (PNG and PDF) from Prometheus",
    ),
    "sitrep": Command(
        "sitrep.cli:add_arguments",
        "write the UEC daily sitrep figures for a day (CSV and xlsx)",
    ),
    "dashboards": Command(
        "dashboards.cli:add_arguments",
        "generate the Grafana dashboards or push them to a Grafana",
    ),
}


def main(argv: Sequence[str] | None = None) -> int:
    """`uecflow [--config FILE] COMMAND [options]`: the exit status (0 ok, 1 refused, 2 usage)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = parser(_chosen(arguments)).parse_args(arguments)
    try:
        run: Run = args.run
        return run(args, load_registry(args.config))
    except (UsageError, ConfigError) as error:
        print(f"uecflow {args.command}: {error}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader (say `| head`) has all it wanted; Python would complain again at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def parser(command: str | None = None) -> argparse.ArgumentParser:
    """The `uecflow` parser, with the options of `command` only: importing every command's
    module (Faust, FastAPI, matplotlib) would cost each run about two seconds."""
    top = argparse.ArgumentParser(
        prog="uecflow",
        description="Urgent and emergency care flow monitor for North East London.",
    )
    top.add_argument("--version", action="version", version=f"uecflow {version('uecflow')}")
    # The one place $UECFLOW_CONFIG is read.
    top.add_argument(
        "--config", default=os.environ.get(CONFIG_ENV) or None, metavar="FILE", help=CONFIG_HELP
    )
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (arguments, summary) in COMMANDS.items():
        chosen = name == command
        sub = commands.add_parser(
            name, help=summary, description=f"{summary[0].upper()}{summary[1:]}.", add_help=chosen
        )
        if chosen:
            module, function = arguments.split(":")
            add_arguments: Callable[[argparse.ArgumentParser], None] = getattr(
                importlib.import_module(module), function
            )
            add_arguments(sub)
            _accept_config(sub)
    return top


def _chosen(argv: list[str]) -> str:
    """The command named in `argv`; exits for `--help`, `--version` and a missing command."""
    args, _ = parser().parse_known_args(argv)
    command: str = args.command
    return command


def _accept_config(command: argparse.ArgumentParser) -> None:
    # SUPPRESS: given only before the command name, the top-level value must stay.
    command.add_argument("--config", default=argparse.SUPPRESS, metavar="FILE", help=CONFIG_HELP)
    for action in command._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _accept_config(sub)


def replay_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("file", help="JSON Lines file of events, or - for standard input")
    command.add_argument(
        "--as-of", type=instant_option, help="RFC 3339 instant (default: latest event)"
    )
    command.add_argument("--json", action="store_true", help="print the JSON document")
    command.add_argument("--rejects", type=Path, help="write each rejected line here, with why")
    runs(command, _replay)


def schema_arguments(command: argparse.ArgumentParser) -> None:
    runs(command, _schema)


def worker_arguments(worker: argparse.ArgumentParser) -> None:
    from streams.topics import add_kafka_options

    add_kafka_options(worker)
    worker.add_argument(
        "--store", choices=["memory", "rocksdb"], default="memory", help="table store"
    )
    worker.add_argument(
        "--standby-replicas",
        type=int,
        choices=range(3),
        metavar="N",
        help="workers that keep a copy of each partition's state ready for failover"
        " (default: 1 with rocksdb, 0 with memory, whose copies Faust does not keep)",
    )
    worker.add_argument("--data-dir", type=Path, default=Path("var/worker"), help="local state")
    worker.add_argument("--host", default="127.0.0.1", help="address of /metrics and /health")
    worker.add_argument("--port", type=int, default=6066, help="port of /metrics and /health")
    worker.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    runs(worker, _worker)


def _worker(args: argparse.Namespace, registry: Registry) -> int:
    from streams.topics import topics_from
    from streams.worker.app import WorkerSettings, run_worker
    from uecflow.logs import logging_config

    settings = WorkerSettings(
        bootstrap=args.bootstrap,
        topics=topics_from(args),
        store=f"{args.store}://",
        standby_replicas=args.standby_replicas,
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
        source = open_events(args.file, stack)
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


def open_events(name: str, stack: ExitStack) -> BinaryIO:
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


def without_bom(lines: Iterator[bytes]) -> Iterator[bytes]:
    # Files saved by Windows tools often start with a UTF-8 byte order mark; JSON may ignore it.
    first = next(lines, None)
    if first is not None:
        yield first.removeprefix(b"\xef\xbb\xbf")
        yield from lines


def _with_progress(source: BinaryIO, name: str, stack: ExitStack) -> Iterator[bytes]:
    size = Path(name).stat().st_size if name != "-" else 0
    if size < PROGRESS_FROM_BYTES or not sys.stderr.isatty():
        return without_bom(iter(source))
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
    return without_bom(_reporting(source, lambda done: progress.update(task, completed=done)))


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
