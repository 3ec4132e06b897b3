"""promtool and amtool, found on the PATH: `.ci/run` installs them; elsewhere a test skips."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROMTOOL, AMTOOL = shutil.which("promtool"), shutil.which("amtool")


def tool(path: str | None) -> str:
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("promtool/amtool missing: .ci/run installs Debian's prometheus packages")
        pytest.skip(
            "needs promtool and amtool (Debian packages prometheus, prometheus-alertmanager)"
        )
    return path


def run(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout
