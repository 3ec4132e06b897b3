"""`uecflow simulate`: the NEL emergency departments as a discrete-event simulation.

Writes contract events as JSON Lines, or sends them to Kafka or to the ingestion gateway, as fast
as possible or paced against the wall clock. The same options (and seed) give the same events.

    uecflow simulate --start 2026-01-15 --days 1 --seed 7 --out day.jsonl
    uecflow simulate --scenario winter-surge --scenario silent-feed --kafka 127.0.0.1:9092
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta
from itertools import repeat
from pathlib import Path
from typing import TextIO

import httpx

from events.contract import RFC3339_PATTERN, Event
from events.parse import EventParser
from producers.simulator import calibration_report, drill, scenarios
from producers.simulator.gateway_sink import GatewaySink, events_url, parse_tokens
from producers.simulator.london_hours import LONDON
from producers.simulator.pacing import Pacer, Sink, deliver
from producers.simulator.sinks import JsonLinesSink, KafkaSink, SinkError
from producers.simulator.system_model import simulate
from streams.core.intake import Stream
from streams.topics import DEFAULT_PARTITIONS, Topics
from uecflow.command import EXIT_REFUSED, UsageError, runs
from uecflow.config import Registry

TOKEN_ENV = "UECFLOW_GATEWAY_TOKEN"
DEFAULT_SEED = 7
DEFAULT_INCIDENT_SITE = "RF4QH"
DEFAULT_SILENT_SITE = "RQXM1"
_OFFSET = re.compile(r"^\+(\d+(?:\.\d+)?)([hm])$")


def _run(args: argparse.Namespace, registry: Registry) -> int:
    if args.calibration_report:
        if args.drill or args.scenario or args.site:
            raise UsageError(
                "--calibration-report runs its own months: no --drill, --scenario or --site"
            )
        return _calibration_report(registry)
    try:
        return _simulate(args, registry)
    except SinkError as error:
        print(f"uecflow simulate: {error}", file=sys.stderr)
        return EXIT_REFUSED


def _simulate(args: argparse.Namespace, registry: Registry) -> int:
    start: datetime = args.start or datetime.now(UTC).replace(microsecond=0)
    end = start + (timedelta(days=args.days) if args.days else timedelta(hours=args.hours))
    sites = _sites(args.site, registry)
    events: Iterable[Event]
    if args.drill:
        events, pacer = _drill(args, sites, start, registry), None
        sink, _ = _sink(args, registry, sites)
    else:
        scenario = _scenario(args, sites, start)
        sink, default_speed = _sink(args, registry, sites)  # checked before the model runs
        events = simulate(sites, scenario, seed=args.seed, start=start, end=end)
        speed = args.speed if args.speed is not None else default_speed
        pacer = None if math.isinf(speed) else Pacer(speed, start.timestamp())
    sent = deliver(events, sink, pacer)
    if isinstance(sink, GatewaySink):
        print(f"uecflow simulate: {sink.summary()}", file=sys.stderr)
    if args.out != "-" or args.kafka or args.gateway:
        print(f"uecflow simulate: {sent:,} events sent", file=sys.stderr)
    return 0


def _calibration_report(registry: Registry) -> int:
    """Every scenario and seed of the report is a month of its own: one process each."""
    runs = [
        (name, seed) for name in calibration_report.SCENARIOS for seed in calibration_report.SEEDS
    ]
    with ProcessPoolExecutor() as pool:
        months = list(
            pool.map(
                calibration_report.measure,
                [name for name, _ in runs],
                [seed for _, seed in runs],
                repeat(registry),
            )
        )
    text, passed = calibration_report.report(months)
    print(text)
    return 0 if passed else EXIT_REFUSED


def _sites(chosen: list[str] | None, registry: Registry) -> list[str]:
    if not chosen:
        return list(registry.sites)
    unknown = [code for code in chosen if code not in registry.sites]
    if unknown:
        raise UsageError(f"--site {', '.join(unknown)}: not in the site registry")
    return list(dict.fromkeys(chosen))


def _scenario(args: argparse.Namespace, sites: list[str], start: datetime) -> scenarios.Scenario:
    composed = scenarios.normal()
    for name in args.scenario or ["normal"]:
        if name == "winter-surge":
            composed += scenarios.winter_surge(start.timestamp())
        elif name == "major-incident":
            site = _scenario_site(args.incident_site, DEFAULT_INCIDENT_SITE, sites, "incident")
            at = _moment(args.incident_at, start, "--incident-at")
            composed += scenarios.major_incident(site, at.timestamp(), args.casualties)
        elif name == "silent-feed":
            site = _scenario_site(args.silent_site, DEFAULT_SILENT_SITE, sites, "silent")
            at = _moment(args.silent_at, start, "--silent-at")
            lasting = args.silent_for * 3600 if args.silent_for else float("inf")
            composed += scenarios.silent_feed(site, args.silent_stream, at.timestamp(), lasting)
    try:
        scenarios.validate(composed, sites)
    except ValueError as error:
        raise UsageError(str(error)) from None
    return composed


def _drill(
    args: argparse.Namespace, sites: list[str], now: datetime, registry: Registry
) -> list[Event]:
    """The alert drill's events for one target at one site, as of --start (default now)."""
    if not args.site or len(sites) != 1:
        raise UsageError("--drill needs exactly one --site")
    if args.scenario:
        raise UsageError("--drill replaces the model: no --scenario with it")
    step = drill.STEPS[args.drill]
    lines = (step.breach if args.drill_phase == "breach" else step.recover)(sites[0], now)
    parser = EventParser(registry)
    return [parser.parse(line) for line in lines]


def _scenario_site(chosen: str | None, default: str, sites: list[str], option: str) -> str:
    site = chosen or (default if default in sites else sites[0])
    if site not in sites:
        raise UsageError(f"--{option}-site {site}: not one of the simulated sites")
    return site


def _moment(text: str, start: datetime, option: str) -> datetime:
    """An RFC 3339 instant, or `+N h`/`+N m` after --start."""
    offset = _OFFSET.match(text)
    if offset:
        amount, unit = float(offset.group(1)), offset.group(2)
        return start + (timedelta(hours=amount) if unit == "h" else timedelta(minutes=amount))
    if re.fullmatch(RFC3339_PATTERN, text):
        return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    raise UsageError(f"{option} {text!r}: expected an RFC 3339 instant or an offset like +6h")


def _sink(args: argparse.Namespace, registry: Registry, sites: list[str]) -> tuple[Sink, float]:
    """The sink, and the default speed for it: files as fast as possible, live feeds real time."""
    if args.kafka:
        topics = Topics(args.topic_prefix, args.partitions)
        return KafkaSink(args.kafka, topics), 1.0
    if args.gateway:
        return _gateway_sink(args, registry, sites), 1.0
    return _file_sink(args.out), math.inf


def _file_sink(out: str) -> JsonLinesSink:
    if out == "-":
        return JsonLinesSink(sys.stdout, close_stream=False)
    try:
        # The sink owns the file from here and closes it when the run ends.
        stream: TextIO = Path(out).open("w", encoding="utf-8")  # noqa: SIM115
    except OSError as error:
        raise UsageError(f"cannot write {out}: {error.strerror}") from None
    return JsonLinesSink(stream, close_stream=True)


def _gateway_sink(args: argparse.Namespace, registry: Registry, sites: list[str]) -> GatewaySink:
    entries = list(args.token or [])
    if args.token_file:
        entries += _token_file(args.token_file)
    try:
        tokens, default = parse_tokens(entries, os.environ.get(TOKEN_ENV))
    except ValueError as error:
        raise UsageError(f"--token: {error}") from None
    trust_of = {code: registry.sites[code].trust for code in sites}
    for trust in sorted(set(trust_of.values())):
        if trust not in tokens:
            if default is None:
                raise UsageError(
                    f"no gateway token for trust {trust}: give --token {trust}=TOKEN, "
                    f"--token-file, or ${TOKEN_ENV}"
                )
            tokens[trust] = default
    return GatewaySink(
        url=events_url(args.gateway),
        tokens=tokens,
        trust_of=trust_of,
        client=httpx.Client(timeout=30.0),
        report=lambda line: print(f"uecflow simulate: {line}", file=sys.stderr),
    )


def _token_file(path: Path) -> list[str]:
    """`TRUST=TOKEN` lines; blank lines and `#` comments ignored. Safer than the command line,
    where other users of the machine can read a token in the process list."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None
    return [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `uecflow simulate`."""
    parser.description = (
        "Simulate the NEL emergency departments, their adult G&A wards and ambulance "
        "arrivals, and write or send the contract events they produce."
    )
    runs(parser, _run)
    when = parser.add_argument_group("what to simulate")
    when.add_argument(
        "--start",
        type=_start,
        metavar="T",
        help="RFC 3339 instant, or YYYY-MM-DD for London midnight (default: now)",
    )
    length = when.add_mutually_exclusive_group()
    length.add_argument("--hours", type=_positive, default=24.0, metavar="N", help="default 24")
    length.add_argument("--days", type=_positive, metavar="N")
    when.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, metavar="N", help=f"default {DEFAULT_SEED}"
    )
    when.add_argument(
        "--site", action="append", metavar="CODE", help="simulate only this site (repeatable)"
    )
    when.add_argument(
        "--scenario",
        action="append",
        choices=scenarios.SCENARIO_NAMES,
        metavar="NAME",
        help="normal (default), winter-surge, major-incident, silent-feed; repeat to combine",
    )
    incident = parser.add_argument_group("major-incident")
    incident.add_argument(
        "--incident-site", metavar="CODE", help=f"default {DEFAULT_INCIDENT_SITE}"
    )
    incident.add_argument(
        "--incident-at", default="+2h", metavar="T", help="instant, or +Nh/+Nm after --start (+2h)"
    )
    incident.add_argument(
        "--casualties", type=_count, default=50, metavar="N", help="over two hours (default 50)"
    )
    silent = parser.add_argument_group("silent-feed")
    silent.add_argument("--silent-site", metavar="CODE", help=f"default {DEFAULT_SILENT_SITE}")
    silent.add_argument(
        "--silent-stream", choices=[s.value for s in Stream], default="ae", help="default ae"
    )
    silent.add_argument(
        "--silent-at", default="+2h", metavar="T", help="instant, or +Nh/+Nm after --start (+2h)"
    )
    silent.add_argument("--silent-for", type=_positive, metavar="HOURS", help="default: to the end")
    rehearsal = parser.add_argument_group(
        "alert drill",
        "Instead of the model, the few synthetic events that breach one target at one --site"
        " now (or end that breach): to rehearse alerting and on-call routing in a test or"
        " training stack. Never into a live feed.",
    )
    rehearsal.add_argument(
        "--drill",
        choices=sorted(drill.STEPS),
        metavar="TARGET",
        help=f"one of {', '.join(sorted(drill.STEPS))}",
    )
    rehearsal.add_argument(
        "--drill-phase",
        choices=("breach", "recover"),
        default="breach",
        help="breach (default), or recover: end the breach",
    )
    parser.add_argument_group(
        "calibration",
        "Instead of events, the calibration report: a normal and a winter-surge December over"
        " seeds 7, 11 and 23, every calibrated figure against its published value, and the"
        " checks a real winter passes. Exit status 1 if any is out of tolerance.",
    ).add_argument(
        "--calibration-report",
        action="store_true",
        help="print it (one to two minutes on two cores)",
    )
    out = parser.add_argument_group("where to")
    target = out.add_mutually_exclusive_group()
    target.add_argument(
        "--out", default="-", metavar="FILE", help="JSON Lines; - for standard output (default)"
    )
    target.add_argument("--kafka", metavar="BOOTSTRAP", help="send to Kafka, keyed by site")
    target.add_argument("--gateway", metavar="URL", help="POST to the ingestion gateway")
    out.add_argument(
        "--topic-prefix",
        default=os.environ.get("UECFLOW_TOPIC_PREFIX", "uecflow"),
        metavar="PREFIX",
        help="Kafka topic names (default: $UECFLOW_TOPIC_PREFIX or uecflow)",
    )
    out.add_argument(
        "--partitions",
        type=_count,
        default=DEFAULT_PARTITIONS,
        metavar="N",
        help=f"of topics it creates (default {DEFAULT_PARTITIONS})",
    )
    out.add_argument(
        "--token",
        action="append",
        metavar="TRUST=TOKEN",
        help=f"gateway token per trust (repeatable); a bare TOKEN serves all (${TOKEN_ENV})",
    )
    out.add_argument("--token-file", type=Path, metavar="FILE", help="TRUST=TOKEN lines")
    out.add_argument(
        "--speed",
        type=_speed,
        metavar="X",
        help="simulated seconds per wall second, or max (default: max to a file, 1 to Kafka or "
        "the gateway)",
    )


def _start(text: str) -> datetime:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        day = date.fromisoformat(text)
        return datetime(day.year, day.month, day.day, tzinfo=LONDON)
    if not re.fullmatch(RFC3339_PATTERN, text):
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD or an RFC 3339 instant: {text!r}")
    return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _speed(text: str) -> float:
    return math.inf if text == "max" else _positive(text)
