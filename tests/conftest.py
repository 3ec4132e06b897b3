"""Test-wide settings. On CI, hypothesis is derandomised so that a green run stays green; on a
developer's machine it explores new examples every run."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from events import EventParser
from tests.events_builder import PARSER, REGISTRY
from uecflow.config import Registry

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture
def registry() -> Registry:
    return REGISTRY


@pytest.fixture
def parser() -> EventParser:
    return PARSER
