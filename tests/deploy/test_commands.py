"""The uecflow commands in docker-compose.yml, read by the real `uecflow` parsers: a renamed or
removed option breaks these tests, not the stack on someone's machine. And the files those
commands read (credentials, tokens) load with the project's own loaders."""

from __future__ import annotations

import argparse
from urllib.parse import urlsplit

import pytest

from producers.epr.settings import load_adapter_settings
from producers.gateway.credentials import load_credentials
from producers.simulator import cli as simulator
from producers.simulator.gateway_sink import parse_tokens
from tests.deploy.stack import (
    command,
    container_ports,
    prometheus_config,
    repo_path,
    services,
)
from uecflow import cli
from uecflow.config import Registry, load_registry

KAFKA = "kafka:9092"


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry(None)


def parser_of(service: str) -> argparse.ArgumentParser:
    """The parser that reads the options of `uecflow COMMAND ...`, as `uecflow.cli.main` builds
    it."""
    name = command(service)[0]
    (commands,) = [
        action
        for action in cli.parser(name)._actions
        if isinstance(action, argparse._SubParsersAction)
    ]
    found = commands.choices[name]
    assert isinstance(found, argparse.ArgumentParser)
    return found


def parsed(service: str) -> argparse.Namespace:
    return cli.parser(command(service)[0]).parse_args(command(service))


@pytest.mark.parametrize("service", ["worker", "gateway", "simulator", "hl7-homerton"])
def test_options_are_spelled_in_full(service: str) -> None:
    # argparse takes `--data` for `--data-dir`: a renamed option would still parse as a prefix.
    known = {option for action in parser_of(service)._actions for option in action.option_strings}
    for part in command(service)[1:]:
        if part.startswith("-"):
            assert part.partition("=")[0] in known, f"{service}: {part} is not an option"


def test_the_worker_command_parses() -> None:
    args = parsed("worker")
    assert args.command == "worker"
    assert args.bootstrap == KAFKA
    assert args.store == "rocksdb"
    assert str(args.data_dir) == "/var/lib/uecflow/worker"
    assert args.host == "0.0.0.0"  # other containers (Prometheus) must reach /metrics


def test_the_gateway_command_parses() -> None:
    args = parsed("gateway")
    assert args.bootstrap == KAFKA
    assert args.host == "0.0.0.0"
    assert args.credentials is not None


def test_the_hl7_listener_and_the_gateway_read_the_same_loadable_epr_settings(
    registry: Registry,
) -> None:
    args = parsed("hl7-homerton")
    assert (args.bootstrap, args.host) == (KAFKA, "0.0.0.0")
    assert args.port in container_ports("hl7-homerton")
    assert [str(args.settings)] == [str(path) for path in parsed("gateway").epr_settings]
    settings = load_adapter_settings(repo_path("hl7-homerton", str(args.settings)), registry)
    assert settings.trust == "RQX"
    # Demo-only: the key is public in this repository, and says so.
    assert b"DEMO-ONLY" in settings.keys[0][1]
    (hl7_job,) = [
        job for job in prometheus_config()["scrape_configs"] if job["job_name"] == "uecflow-hl7"
    ]
    assert hl7_job["static_configs"][0]["targets"] == [f"hl7-homerton:{args.metrics_port}"]


def test_the_simulator_command_parses() -> None:
    args = parsed("simulator")
    assert args.scenario == ["winter-surge"]
    assert args.gateway is not None
    assert args.speed == 1.0  # real time: the dashboards show it as it happens


@pytest.mark.parametrize(("service", "health"), [("worker", "/health"), ("gateway", "/health")])
def test_healthchecks_ask_the_port_the_command_serves(service: str, health: str) -> None:
    port = parsed(service).port
    test = services()[service]["healthcheck"]["test"]
    assert f"http://127.0.0.1:{port}{health}" in test
    assert port in container_ports(service)


def test_prometheus_scrapes_the_worker_where_it_serves() -> None:
    (worker_job,) = [
        job for job in prometheus_config()["scrape_configs"] if job["job_name"] == "uecflow-worker"
    ]
    (targets,) = [static["targets"] for static in worker_job["static_configs"]]
    assert targets == [f"worker:{parsed('worker').port}"]


def test_kafka_advertises_the_address_the_commands_use() -> None:
    advertised = services()["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    assert f"INTERNAL://{KAFKA}" in advertised.split(",")


def test_the_simulator_posts_to_the_gateway_service() -> None:
    url = urlsplit(parsed("simulator").gateway)
    assert url.hostname == "gateway"
    assert url.port == parsed("gateway").port


def test_the_gateway_credentials_load(registry: Registry) -> None:
    path = repo_path("gateway", str(parsed("gateway").credentials))
    credentials = load_credentials(path, registry)
    assert {entry.trust for entry in credentials.entries} == set(registry.trusts)
    # Demo-only: whoever sees a gateway log line must see that the credential is not real.
    assert all(entry.id.startswith("demo-only-") for entry in credentials.entries)
    assert path.read_text(encoding="utf-8").startswith("# DEMO ONLY")


def test_every_demo_token_opens_the_gateway_for_its_trust(registry: Registry) -> None:
    token_file = repo_path("simulator", str(parsed("simulator").token_file))
    assert token_file.read_text(encoding="utf-8").startswith("# DEMO ONLY")
    tokens, default = parse_tokens(simulator._token_file(token_file), None)
    assert default is None
    assert set(tokens) == set(registry.trusts)  # else the simulator refuses to start
    credentials = load_credentials(
        repo_path("gateway", str(parsed("gateway").credentials)), registry
    )
    for trust, token in tokens.items():
        credential = credentials.identify(token)
        assert credential is not None, f"the demo token of {trust} is not in the credentials"
        assert credential.trust == trust
        assert not credential.revoked
