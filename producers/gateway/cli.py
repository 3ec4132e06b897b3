"""`uecflow gateway`: its options, and the gateway run under uvicorn.

    uecflow gateway --credentials FILE [--bootstrap HOST:PORT] [--tls-cert F --tls-key F]
                    [--epr-settings TRUST.toml ...]      the trusts that may POST /fhir/Encounter
    uecflow gateway --openapi                            print the OpenAPI document

`new-token` and `hash-token` are in producers.gateway.tokens. Before serving, the
gateway makes sure its topics exist (exit 1 if Kafka cannot be reached); uvicorn's access log is
off (the gateway logs each request itself), and aiokafka's repeated messages are thinned out.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import resource
import ssl
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import uvicorn
from kafka.errors import KafkaError as AdminError

from producers.epr.settings import AdapterSettings, AdapterSettingsError, load_adapter_settings
from producers.gateway.app import create_app, openapi_document
from producers.gateway.credentials import Credentials, CredentialsError, CredentialsFile
from producers.gateway.credentials_file import add_credentials_commands
from producers.gateway.settings import CredentialSource, GatewaySettings, MiB
from producers.gateway.slow_clients import headers_within
from producers.gateway.tokens import add_token_commands
from producers.kafka.sender import DEFAULT_TIMEOUT, KafkaSender
from streams.topics import add_kafka_options, ensure_topics, topics_from
from uecflow.command import EXIT_OK, EXIT_REFUSED, UsageError, runs
from uecflow.config import Registry
from uecflow.logs import logging_config


def _serve(args: argparse.Namespace, registry: Registry) -> int:
    if args.openapi:
        document = openapi_document(_settings(args, Credentials(())), registry)
        json.dump(document, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if args.credentials is None:
        raise UsageError("--credentials FILE is required")
    if (args.tls_cert is None) != (args.tls_key is None):
        raise UsageError("--tls-cert and --tls-key go together")
    if args.tls_client_ca and args.tls_cert is None:
        raise UsageError("--tls-client-ca needs --tls-cert and --tls-key")
    try:
        credentials = CredentialsFile(args.credentials, registry)
    except CredentialsError as error:
        raise UsageError(str(error)) from None
    settings = _settings(args, credentials, _epr_settings(args.epr_settings or [], registry))
    return _run(args, settings, registry)


def _epr_settings(paths: list[Path], registry: Registry) -> dict[str, AdapterSettings]:
    """Each trust's EPR adapter settings, checked before the gateway listens."""
    by_trust: dict[str, AdapterSettings] = {}
    for path in paths:
        try:
            adapter = load_adapter_settings(path, registry)
        except AdapterSettingsError as error:
            raise UsageError(f"--epr-settings: {error}") from None
        if adapter.trust in by_trust:
            raise UsageError(f"--epr-settings: {path} is a second file for trust {adapter.trust}")
        by_trust[adapter.trust] = adapter
    return by_trust


def _settings(
    args: argparse.Namespace,
    credentials: CredentialSource,
    epr: Mapping[str, AdapterSettings] | None = None,
) -> GatewaySettings:
    return GatewaySettings(
        credentials=credentials,
        epr=epr or {},
        topics=topics_from(args),
        max_body_bytes=args.max_body_bytes,
        max_events=args.max_events,
        rate_per_second=args.rate_limit,
        rate_burst=args.rate_burst,
        retry_after_seconds=max(1, math.ceil(args.kafka_timeout)),
    )


def _run(args: argparse.Namespace, settings: GatewaySettings, registry: Registry) -> int:
    try:
        ensure_topics(args.bootstrap, settings.topics)
    except AdminError as error:
        print(f"uecflow gateway: cannot reach Kafka at {args.bootstrap}: {error}", file=sys.stderr)
        return EXIT_REFUSED
    sender = KafkaSender(args.bootstrap, timeout=args.kafka_timeout)
    _more_open_files()
    config = uvicorn.Config(
        create_app(settings, registry, sender),
        host=args.host,
        port=args.port,
        log_config=logging_config(args.log_level),
        access_log=False,  # the gateway logs each request itself, with its verdict
        server_header=False,
        ssl_certfile=args.tls_cert,
        ssl_keyfile=args.tls_key,
        ssl_ca_certs=args.tls_client_ca,
        ssl_cert_reqs=ssl.CERT_REQUIRED if args.tls_client_ca else ssl.CERT_NONE,
        timeout_graceful_shutdown=int(args.kafka_timeout) + 5,
        http=headers_within(args.header_timeout),
    )
    for handler in logging.getLogger().handlers:  # as configured by uvicorn.Config
        handler.addFilter(QuietRepeats())
    server = uvicorn.Server(config)
    server.run()
    return EXIT_OK if server.started else EXIT_REFUSED


def _more_open_files() -> None:
    """As many connections as the system allows this process: the default soft limit (1,024 on
    many systems) let a few hundred slow clients starve everyone of sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class QuietRepeats(logging.Filter):
    """Lets each kind of aiokafka message through at most once per `interval` seconds: with the
    broker down, aiokafka logs the same failed connection thousands of times a second."""

    def __init__(self, interval: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._interval = interval
        self._clock = clock
        self._last: dict[tuple[str, str], float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("aiokafka"):
            return True
        kind = (record.name, str(record.msg))  # the format string: one kind whatever its values
        now = self._clock()
        last = self._last.get(kind)
        if last is not None and now - last < self._interval:
            return False
        self._last[kind] = now
        return True


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `uecflow gateway`, and its token commands."""
    parser.description = "Run the HTTP(S) ingestion gateway: trusts POST events, Kafka gets them."
    parser.add_argument("--credentials", type=Path, help="TOML file of token hashes")
    parser.add_argument(
        "--epr-settings",
        type=Path,
        action="append",
        metavar="FILE",
        help="a trust's EPR adapter settings (TOML): its Encounters may be posted to "
        "/fhir/Encounter; once per trust",
    )
    add_kafka_options(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on")
    parser.add_argument("--tls-cert", help="PEM certificate chain: serve HTTPS")
    parser.add_argument("--tls-key", help="PEM private key of --tls-cert")
    parser.add_argument("--tls-client-ca", help="also require client certificates from this CA")
    parser.add_argument("--max-body-bytes", type=_positive, default=MiB, help="default 1 MiB")
    parser.add_argument("--max-events", type=_positive, default=1_000, help="per request")
    parser.add_argument(
        "--rate-limit", type=_positive_float, default=50.0, help="requests/s per trust"
    )
    parser.add_argument("--rate-burst", type=_positive, default=100, help="requests at once")
    parser.add_argument(
        "--header-timeout",
        type=_positive_float,
        default=10.0,
        help="seconds a client has to send a request's headers before it is disconnected",
    )
    parser.add_argument(
        "--kafka-timeout",
        type=_positive_float,
        default=DEFAULT_TIMEOUT,
        help="seconds to wait for Kafka's acknowledgement before answering 503 (default 5)",
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    parser.add_argument("--openapi", action="store_true", help="print the OpenAPI document")
    runs(parser, _serve)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", title="instead of serving")
    add_token_commands(actions)
    add_credentials_commands(actions)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError("must be a positive number")
    return value
