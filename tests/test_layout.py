"""The tree is the architecture: the core stays pure, and nothing outside tests leans on them."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ADAPTER_LIBRARIES = {"faust", "kafka", "aiokafka", "prometheus_client", "rich", "mode"}
NOT_TESTS = [
    "events",
    "uecflow",
    "streams",
    "producers",
    "alerts",
    "dashboards",
    "report",
    "sitrep",
]


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module


def _modules(*folders: str) -> list[Path]:
    return sorted(path for folder in folders for path in (ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", _modules("streams/core"), ids=lambda p: p.name)
def test_the_core_imports_no_adapter_library(path: Path) -> None:
    adapters = {name for name in _imports(path) if name.split(".")[0] in ADAPTER_LIBRARIES}
    assert not adapters, f"{path.relative_to(ROOT)} imports {sorted(adapters)}"


@pytest.mark.parametrize("path", _modules("streams/core"), ids=lambda p: p.name)
def test_the_core_imports_none_of_its_adapters(path: Path) -> None:
    inward = {
        name
        for name in _imports(path)
        if name.startswith("streams.") and not name.startswith("streams.core")
    }
    assert not inward, f"{path.relative_to(ROOT)} imports {sorted(inward)}"


@pytest.mark.parametrize(
    "path", _modules(*NOT_TESTS, "tools", "benchmarks"), ids=lambda p: str(p.relative_to(ROOT))
)
def test_nothing_outside_the_tests_imports_a_test_module(path: Path) -> None:
    tests = {name for name in _imports(path) if name.split(".")[0] == "tests"}
    assert not tests, f"{path.relative_to(ROOT)} imports {sorted(tests)}"


def test_no_gateway_module_is_left_loose_in_producers() -> None:
    assert not list((ROOT / "producers").glob("gateway_*.py"))
