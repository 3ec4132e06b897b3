"""A run's leftovers are ended by PID, only if still the process recorded; no pattern kills."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tools.processes import RUN_DIR_ENV, spawn, start_time

ROOT = Path(__file__).resolve().parents[2]
STOP = ROOT / "scripts" / "stop-recorded"


def _sleeper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> subprocess.Popen[bytes]:
    monkeypatch.setenv(RUN_DIR_ENV, str(tmp_path))
    return spawn([sys.executable, "-c", "import time; time.sleep(120)"], tmp_path / "sleep.log")


def test_a_spawned_process_is_recorded_with_its_start_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    process = _sleeper(tmp_path, monkeypatch)
    try:
        recorded = tmp_path / "pids" / str(process.pid)
        assert recorded.read_text() == start_time(process.pid)
    finally:
        process.kill()
        process.wait()


def test_stop_recorded_ends_the_recorded_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    process = _sleeper(tmp_path, monkeypatch)
    subprocess.run([str(STOP), str(tmp_path)], check=True, timeout=30)
    assert process.wait(timeout=10) == -15


def test_stop_recorded_spares_a_pid_whose_start_time_differs(tmp_path: Path) -> None:
    # This test's own process, recorded with another start time: as a reused PID would be.
    (tmp_path / "pids").mkdir()
    (tmp_path / "pids" / str(os.getpid())).write_text("1")
    subprocess.run([str(STOP), str(tmp_path)], check=True, timeout=30)  # we are still here


def test_no_script_kills_processes_by_pattern() -> None:
    scripts = [ROOT / ".ci" / "run", *(ROOT / "scripts").iterdir(), *(ROOT / "bin").iterdir()]
    python = [*ROOT.glob("tools/*.py"), *ROOT.glob("tests/**/*.py"), *ROOT.glob("benchmarks/*.py")]
    pattern = re.compile(r"\b(pkill|killall)\b")
    offenders = [
        str(path.relative_to(ROOT))
        for path in scripts + python
        if path.is_file() and path != Path(__file__) and pattern.search(path.read_text())
    ]
    assert not offenders
