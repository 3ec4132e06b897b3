"""Test-wide settings. On CI, hypothesis is derandomised so that a green run stays green; on a
developer's machine it explores new examples every run."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
