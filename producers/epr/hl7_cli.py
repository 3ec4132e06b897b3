"""`uecflow hl7`: a trust's MLLP listener, from its adapter settings to Kafka.

    uecflow hl7 --settings r1h.toml [--host 0.0.0.0] [--port 2575] [--bootstrap HOST:PORT]

Before listening it checks the settings (exit 2 with the rule broken) and makes sure the topics
exist (exit 1 if Kafka cannot be reached). SIGTERM or SIGINT stops it: no new connection is
taken, the Kafka producer is flushed and closed.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import logging.config
import signal
import sys
from pathlib import Path

from kafka.errors import KafkaError as AdminError
from prometheus_client import CollectorRegistry, start_http_server

from events.parse import EventParser
from producers.epr.mllp import (
    DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_MESSAGE_BYTES,
    Hl7Metrics,
    Listener,
)
from producers.epr.settings import AdapterSettingsError, load_adapter_settings
from producers.gateway.cli import QuietRepeats
from producers.kafka.sender import DEFAULT_TIMEOUT, KafkaSender
from streams.topics import add_kafka_options, ensure_topics, topics_from
from uecflow.command import EXIT_OK, EXIT_REFUSED, UsageError, runs
from uecflow.config import Registry
from uecflow.logs import logging_config

log = logging.getLogger("uecflow.hl7")
HL7_PORT = 2575  # IANA's port for HL7 over MLLP


def _run(args: argparse.Namespace, registry: Registry) -> int:
    try:
        settings = load_adapter_settings(args.settings, registry)
    except AdapterSettingsError as error:
        raise UsageError(str(error)) from None
    logging.config.dictConfig(logging_config(args.log_level))
    for handler in logging.getLogger().handlers:
        handler.addFilter(QuietRepeats())
    topics = topics_from(args)
    try:
        ensure_topics(args.bootstrap, topics)
    except AdminError as error:
        print(f"uecflow hl7: cannot reach Kafka at {args.bootstrap}: {error}", file=sys.stderr)
        return EXIT_REFUSED
    metrics = CollectorRegistry(auto_describe=True)
    if args.metrics_port:
        start_http_server(args.metrics_port, args.host, registry=metrics)
    sender = KafkaSender(args.bootstrap, timeout=args.kafka_timeout)
    listener = Listener(
        settings,
        EventParser(registry),
        sender,
        topics,
        Hl7Metrics(metrics),
        idle_timeout=args.idle_timeout,
        max_message_bytes=args.max_message_bytes,
    )
    asyncio.run(_listen(listener, sender, args.host, args.port, settings.trust))
    return EXIT_OK


async def _listen(
    listener: Listener, sender: KafkaSender, host: str, port: int, trust: str
) -> None:
    await sender.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    server = await listener.serve(host, port)
    bound = server.sockets[0].getsockname()[1]
    log.info("listening", extra={"trust": trust, "host": host, "port": bound})
    try:
        await stop.wait()
    finally:
        server.close()
        await sender.stop()
        log.info("stopped", extra={"trust": trust})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `uecflow hl7`."""
    parser.description = (
        "Listen for a trust's HL7 v2 ADT messages over MLLP; send the events they mean to Kafka"
        " and answer each with an ACK (AA once Kafka has it)."
    )
    parser.add_argument(
        "--settings", type=Path, required=True, help="the trust's adapter settings (TOML)"
    )
    add_kafka_options(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=HL7_PORT, help=f"default {HL7_PORT}")
    parser.add_argument(
        "--metrics-port", type=int, default=9108, help="Prometheus /metrics (0: none)"
    )
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=DEFAULT_IDLE_TIMEOUT,
        help="seconds a connection may send nothing, or not read its ACK, before it is closed",
    )
    parser.add_argument(
        "--max-message-bytes",
        type=int,
        default=DEFAULT_MAX_MESSAGE_BYTES,
        help="a bigger MLLP block closes the connection (default 1 MiB)",
    )
    parser.add_argument(
        "--kafka-timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help="seconds to wait for Kafka's acknowledgement before answering AE (default 5)",
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    runs(parser, _run)
