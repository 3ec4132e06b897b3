"""promtool and amtool at the shipped versions: `.ci/run` builds them; elsewhere a test skips."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tools.monitoring_servers import binary

ROOT = Path(__file__).resolve().parents[2]
PROMTOOL, AMTOOL = binary("promtool"), binary("amtool")


def tool(path: str | None) -> str:
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("promtool/amtool missing: .ci/run builds them (scripts/monitoring-tools)")
        pytest.skip("needs promtool and amtool: scripts/monitoring-tools install")
    return path


def run(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout
