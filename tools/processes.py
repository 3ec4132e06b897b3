"""Child processes a test run starts, each recorded by PID, so that `.ci/run` can end exactly
those (and nothing else on the machine) when a run dies before stopping them itself."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

RUN_DIR_ENV = "UECFLOW_TEST_RUN_DIR"


def spawn(
    command: Sequence[str], log: Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start `command` with its output appended to `log`, and record its PID."""
    with log.open("ab") as out:
        process = subprocess.Popen(list(command), stdout=out, stderr=out, cwd=cwd, env=env)
    record(process.pid)
    return process


def record(pid: int) -> None:
    """Write `$UECFLOW_TEST_RUN_DIR/pids/PID` holding the process's start time, which tells a
    reused PID from the process recorded (a PID alone could name someone else's process)."""
    run_dir = os.environ.get(RUN_DIR_ENV)
    if not run_dir:
        return
    folder = Path(run_dir) / "pids"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / str(pid)).write_text(start_time(pid))


def start_time(pid: int) -> str:
    """Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rpartition(")")[2].split()[19]
