"""Thousands of half-right Encounters: each element replaced by any JSON at all. The mapping
never raises, what it maps keeps the contract, and no answer quotes the patient."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events import EventParser
from events.parse import InvalidEvent
from producers.epr.fhir_mapping import Ignored, Invalid, Mapped, Unmappable, map_encounter
from producers.epr.settings import AdapterSettings, load_adapter_settings
from tests.producers.gateway.test_fhir_encounter import SECRETS, encounter, write_adapter
from uecflow.config import load_registry

pytestmark = pytest.mark.slow

PARSER = EventParser(load_registry(None))
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["2026-12-05T10:15:00Z", "2026-12-05", "EMER", "finished", *SECRETS]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


@pytest.fixture(scope="module")
def adapter(tmp_path_factory: pytest.TempPathFactory) -> AdapterSettings:
    directory: Path = tmp_path_factory.mktemp("fhir-fuzz")
    return load_adapter_settings(write_adapter(directory), load_registry(None))


def _paths(node: Any, here: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield here
    children = node.items() if isinstance(node, dict) else enumerate(node or ())
    if isinstance(node, dict | list):
        for key, child in children:
            yield from _paths(child, (*here, key))


PATHS = [path for path in _paths(encounter()) if path]


def _breaks_the_contract(text: str) -> str | None:
    """The field a mapped event breaks the contract with, if it does."""
    try:
        PARSER.parse(text)
    except InvalidEvent as refused:
        return refused.field or "?"
    return None


def _replaced(path: tuple[Any, ...], value: object) -> dict[str, Any]:
    document = copy.deepcopy(encounter())
    target: Any = document
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return document


@settings(max_examples=1_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(PATHS), value=JSON)
def test_any_element_replaced_by_any_json_never_crashes_the_mapping(
    adapter: AdapterSettings, path: tuple[Any, ...], value: object
) -> None:
    outcome = map_encounter(_replaced(path, value), adapter)
    assert isinstance(outcome, Mapped | Ignored | Invalid | Unmappable)
    if isinstance(outcome, Mapped):
        for event in outcome.events:
            text = json.dumps(event)
            # A site not in the registry, or a year the worker cannot hold: the gateway's judge
            # refuses those (422), as it would a posted event.
            assert _breaks_the_contract(text) in {None, "site", "occurred_at"}, text
            for secret in SECRETS:
                assert secret not in text
    else:
        # A sender's own text may be quoted back (a code, a location), never one it did not
        # put in that element.
        said = json.dumps(value)
        for secret in SECRETS:
            assert secret not in outcome.reason or secret in said
