from __future__ import annotations

import pytest

from events import EventParser, Registry
from tests.unit.events_builder import PARSER, REGISTRY


@pytest.fixture
def registry() -> Registry:
    return REGISTRY


@pytest.fixture
def parser() -> EventParser:
    return PARSER
