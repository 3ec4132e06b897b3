"""docker-compose.yml as the deploy tests read it: services, commands, and where a path inside a
container comes from in the repository."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
# Services that keep running (and so need a healthcheck) are those that are restarted whenever
# they stop; anything else is a job that ends by design.
LONG_RUNNING = ("always", "unless-stopped")
_VARIABLE = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}")


@dataclass(frozen=True, slots=True)
class Mount:
    source: str  # as written, after interpolation: ./dir, /abs, or a named volume
    target: PurePosixPath
    read_only: bool

    @property
    def is_bind(self) -> bool:
        return self.source.startswith((".", "/"))

    @property
    def repo_path(self) -> Path:
        return (ROOT / self.source).resolve()


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@cache
def compose() -> dict[str, Any]:
    document = load_yaml(COMPOSE_FILE)
    assert isinstance(document, dict)
    return document


def services() -> dict[str, dict[str, Any]]:
    found = compose()["services"]
    assert isinstance(found, dict)
    return found


def interpolate(text: str) -> str:
    """What compose makes of `text` with no variables set: every `${NAME:-default}` its default
    (a variable without a default would stop `docker compose up` with nothing set)."""

    def default(match: re.Match[str]) -> str:
        assert match.group(2) is not None, f"${{{match.group(1)}}} has no default"
        return match.group(2)

    return _VARIABLE.sub(default, text)


def mounts(service: str) -> list[Mount]:
    """The service's volumes, short syntax `SOURCE:TARGET[:ro]`."""
    found = []
    for entry in services()[service].get("volumes", []):
        assert isinstance(entry, str), f"{service}: use the short volume syntax"
        source, target, *mode = interpolate(entry).split(":")
        found.append(Mount(source, PurePosixPath(target), mode == ["ro"]))
    return found


def repo_path(service: str, container_path: str) -> Path:
    """The repository file that `container_path` is inside `service` (through a bind mount)."""
    path = PurePosixPath(container_path)
    for mount in mounts(service):
        if mount.is_bind and (path == mount.target or mount.target in path.parents):
            return mount.repo_path / path.relative_to(mount.target)
    raise AssertionError(f"{container_path} is not bind-mounted into {service}")


def command(service: str) -> list[str]:
    found = services()[service]["command"]
    assert isinstance(found, list)
    assert all(isinstance(part, str) for part in found), f"{service}: command items are strings"
    return found


def option(argv: list[str], name: str) -> str:
    """The value after `name` (or of `name=VALUE`) in a command line."""
    for index, part in enumerate(argv):
        if part == name:
            return argv[index + 1]
        if part.startswith(f"{name}="):
            return part.partition("=")[2]
    raise AssertionError(f"{name} not in {argv}")


def container_ports(service: str) -> set[int]:
    return {int(interpolate(entry).rsplit(":", 1)[1]) for entry in services()[service]["ports"]}


def prometheus_config() -> dict[str, Any]:
    config = load_yaml(ROOT / "deploy" / "prometheus" / "prometheus.yml")
    assert isinstance(config, dict)
    return config
