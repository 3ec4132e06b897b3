"""The README is a newcomer's first page: short, its commands work, its links and map are true."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MAX_README_CHARACTERS = 15_000
# Shown in the README but not run here, each for its reason.
NOT_RUN = {
    "bin/test": "it is the whole check, this test among it",
    "scripts/kafka-local start": "starts a Kafka broker",
    "bin/uecflow worker": "needs Kafka, and serves until stopped",
    "docker compose up --build": "needs a Docker engine, which the CI machine has not",
}
# Where the product's modules live: the README's map must name each of them.
PRODUCT_PACKAGES = ["events", "uecflow", "streams", "producers"]
NOT_MAPPED_FOLDERS = {"tests"}  # mirrors the tree; the map says so in one line
UNMAPPED_MADE_BY_TOOLS = {"build", "var", "__pycache__"}
# Names the pages give that look like paths or modules but are not: data a benchmark makes, topics.
NOT_FILES = {
    "benchmarks/data/",
    *(f"uecflow.{s}" for s in ("ae", "beds", "ambulance", "dead-letter")),
}
STALE_OR_PLACEHOLDER = [
    *("come next", "comes next", "of a later issue"),
    *("METRICS_TABLE", "BENCHMARKS", "DECISIONS", "SAMPLE_TABLE", "SIMULATOR_SECTION"),
]


def _fenced_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def _shell_commands(text: str) -> list[str]:
    commands = []
    for block in _fenced_blocks(text, "sh"):
        for line in block.replace("\\\n", " ").splitlines():
            command = line.split("  #")[0].strip()
            if command and not command.startswith("#"):
                commands.append(command)
    return commands


def _map_paths(text: str) -> set[str]:
    """The paths of the README's tree map, rebuilt from its two-space indentation."""
    (block,) = _fenced_blocks(text, "text")
    parents: list[str] = []
    paths = set()
    for line in block.splitlines():
        depth = (len(line) - len(line.lstrip(" "))) // 2
        name = line.split()[0]
        parents[depth:] = [name]
        paths.add("".join(parents).rstrip("/"))
    return paths


def test_the_readme_is_short_enough_to_read_through() -> None:
    assert len(README) < MAX_README_CHARACTERS


def test_every_command_skipped_is_still_shown() -> None:
    assert set(NOT_RUN) <= set(_shell_commands(README))


@pytest.mark.parametrize(
    "command", [c for c in _shell_commands(README) if c not in NOT_RUN], ids=lambda c: c
)
def test_a_readme_command_that_needs_no_server_succeeds(command: str) -> None:
    done = subprocess.run(
        shlex.split(command), cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_at_a_file_that_exists(page: Path) -> None:
    text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.M | re.S)
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    relative = [t for t in targets if not re.match(r"[a-z]+:", t)]
    missing = [t for t in relative if not (page.parent / t).exists()]
    assert not missing, f"{page.relative_to(ROOT)} links to missing {missing}"


def test_the_tree_map_names_every_module_of_the_product_and_no_other() -> None:
    modules = {
        str(path.relative_to(ROOT))
        for package in PRODUCT_PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if path.name != "__init__.py"
    }
    mapped = {path for path in _map_paths(README) if path.endswith(".py")}
    assert mapped == modules


def test_everything_the_tree_map_names_exists() -> None:
    assert not [path for path in _map_paths(README) if not (ROOT / path).exists()]


def test_the_tree_map_names_every_package_and_top_level_folder() -> None:
    folders = {path for path in ROOT.iterdir() if path.is_dir() and _is_source(path)}
    packages = {
        init.parent
        for folder in folders - {ROOT / name for name in NOT_MAPPED_FOLDERS}
        for init in folder.rglob("__init__.py")
    }
    names = {str(path.relative_to(ROOT)) for path in folders | packages}
    assert names <= _map_paths(README)


def _is_source(folder: Path) -> bool:
    """Not a hidden folder nor one a tool makes (.gitignore's build, var, *.egg-info)."""
    return (
        not folder.name.startswith(".")
        and folder.name not in UNMAPPED_MADE_BY_TOOLS
        and (not folder.name.endswith(".egg-info"))
    )


def test_no_page_says_something_comes_later_or_leaves_a_placeholder() -> None:
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        assert not [s for s in STALE_OR_PLACEHOLDER if s in text], page.relative_to(ROOT)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_path_or_module_a_page_names_exists(page: Path) -> None:
    tops = "|".join(p.name for p in ROOT.iterdir() if p.is_dir() and _is_source(p))
    named = re.findall(rf"`((?:{tops})[/.][\w./-]*)`", page.read_text(encoding="utf-8"))
    missing = [name for name in named if name not in NOT_FILES and not _exists(name)]
    assert not missing, f"{page.relative_to(ROOT)} names {missing}"


def _exists(name: str) -> bool:
    """A path, or a dotted module path with perhaps a class and attribute after its module."""
    if "/" in name:
        return (ROOT / name).exists()
    package = ROOT
    for part in name.split("."):
        if (package / part).with_suffix(".py").exists():
            return True
        if not (package / part / "__init__.py").exists():
            return False
        package = package / part
    return True
