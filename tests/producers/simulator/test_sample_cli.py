"""The shipped sample is exactly what the seeded generator makes, through the `uecflow` command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[3] / "samples" / "nel-day.jsonl"


def test_uecflow_sample_regenerates_the_shipped_sample_byte_for_byte() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "uecflow",
            "sample",
            "--start",
            "2025-11-20",
            "--days",
            "1",
            "--seed",
            "7",
        ],
        capture_output=True,
        timeout=300,
        check=True,
    )
    assert done.stdout == SAMPLE.read_bytes()
