"""The Prometheus and Alertmanager (and promtool, amtool) that tests and tools run: exactly the
versions docker-compose.yml ships, built from source by `scripts/monitoring-tools install` into
a cache outside the clone. The compose file's image tags are the one place they are pinned.

    python -m tools.monitoring_servers dir        # where the binaries are (or go)
    python -m tools.monitoring_servers versions   # "PROMETHEUS ALERTMANAGER", e.g. "3.5.0 0.28.1"
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
BINARIES = ("prometheus", "promtool", "alertmanager", "amtool")


def shipped(image: str) -> str:
    """The version of `image` (e.g. prom/prometheus) that docker-compose.yml runs."""
    found = re.search(rf"image:\s*{re.escape(image)}:v(\d+\.\d+\.\d+)\b", COMPOSE.read_text())
    if found is None:
        raise LookupError(f"docker-compose.yml runs no {image}:vX.Y.Z")
    return found.group(1)


def directory() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    versions = (
        f"prometheus-{shipped('prom/prometheus')}-alertmanager-{shipped('prom/alertmanager')}"
    )
    return cache / "uecflow" / versions


def binary(name: str) -> str | None:
    """The built binary's path, or None when `scripts/monitoring-tools install` has not run."""
    assert name in BINARIES, name
    path = directory() / name
    return str(path) if os.access(path, os.X_OK) else None


def main(argv: list[str]) -> int:
    if argv == ["dir"]:
        print(directory())
    elif argv == ["versions"]:
        print(shipped("prom/prometheus"), shipped("prom/alertmanager"))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
