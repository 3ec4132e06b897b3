"""The Dockerfile: the pinned install, a non-root user, and `uecflow` as the entrypoint."""

from __future__ import annotations

import json
import re
import tomllib

from tests.deploy.stack import ROOT

DOCKERFILE = ROOT / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    found = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, rest = line.strip().partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def test_the_base_is_python_3_11_slim() -> None:
    (base,) = [rest for keyword, rest in instructions() if keyword == "FROM"]
    assert base.startswith("python:3.11")
    assert base.endswith("-slim")


def test_the_project_is_installed_with_the_exact_pins() -> None:
    runs = " ".join(rest for keyword, rest in instructions() if keyword == "RUN")
    assert re.search(r"pip install (--constraint|-c) constraints\.txt \.", runs)
    assert '"pip==25.3"' in runs  # the pip scripts/bootstrap uses
    assert "pip==25.3" in (ROOT / "scripts" / "bootstrap").read_text(encoding="utf-8")


def test_it_runs_as_a_user_that_is_not_root() -> None:
    users = [rest for keyword, rest in instructions() if keyword == "USER"]
    assert users
    assert users[-1] not in ("root", "0")


def test_the_entrypoint_is_uecflow() -> None:
    (entrypoint,) = [rest for keyword, rest in instructions() if keyword == "ENTRYPOINT"]
    assert json.loads(entrypoint) == ["uecflow"]


def test_every_package_is_copied_and_every_copy_exists() -> None:
    copied = set()
    for keyword, rest in instructions():
        if keyword == "COPY":
            *sources, _ = rest.split()
            copied |= set(sources)
    assert all((ROOT / source).exists() for source in copied), copied
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = {name.split(".")[0] for name in pyproject["tool"]["setuptools"]["packages"]}
    assert packages | {"pyproject.toml", "constraints.txt", "README.md"} <= copied


def test_local_state_stays_out_of_the_build_context() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".git", ".venv", ".env"} <= set(ignored)
