"""The `uecflow` command as a whole: one pattern for every subcommand, `--config` before or after
the command name, `--version`, help that names `uecflow <command>`, exit status 2 on misuse."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import pytest

from uecflow.cli import COMMANDS, main

ROOT = Path(__file__).resolve().parents[2]
NEL = ROOT / "uecflow" / "nel.toml"
SAMPLE = ROOT / "samples" / "nel-day.jsonl"


def status(argv: list[str]) -> int:
    """The exit status a user would see: argparse's own errors and --help exit from inside."""
    try:
        return main(argv)
    except SystemExit as exit_:
        code = exit_.code
    assert isinstance(code, int)
    return code


# Options each command needs to get as far as reading the configuration, and no further.
def reads_config(tmp: Path) -> dict[str, list[str]]:
    return {
        "replay": ["replay", str(SAMPLE)],
        "schema": ["schema"],
        "worker": ["worker", "--data-dir", str(tmp / "worker")],
        "sample": ["sample", "--start", "2025-11-20"],
        "produce": ["produce", str(SAMPLE), "--bootstrap", "127.0.0.1:1"],
        "gateway": ["gateway", "--openapi"],
        "hl7": ["hl7", "--settings", str(tmp / "hl7.toml"), "--bootstrap", "127.0.0.1:1"],
        "simulate": ["simulate", "--hours", "1"],
        "alerts": ["alerts", "generate", "--out", str(tmp / "alerts")],
        "report": ["report", "--prometheus", "http://127.0.0.1:1", "--out", str(tmp / "r")],
        "dashboards": ["dashboards", "generate", "--out", str(tmp / "dashboards")],
        "sitrep": ["sitrep", str(SAMPLE), "--day", "2025-11-20", "--out", str(tmp / "s")],
    }


def test_every_command_is_covered_here(tmp_path: Path) -> None:
    assert set(reads_config(tmp_path)) == set(COMMANDS)


def test_version_is_the_installed_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert status(["--version"]) == 0
    assert capsys.readouterr().out == f"uecflow {version('uecflow')}\n"


def test_replay_takes_the_config_after_the_command_name() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "uecflow", "replay", "--config", str(NEL), str(SAMPLE)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert "10,177 lines: 10,147 applied, 10 rejected, 20 duplicates" in done.stdout


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("before", [True, False], ids=["before", "after"])
def test_every_command_reads_the_config_it_is_given(
    command: str, before: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.toml"
    argv = reads_config(tmp_path)[command]
    config = ["--config", str(missing)]
    assert status([*config, *argv] if before else [*argv, *config]) == 2
    err = capsys.readouterr().err
    assert err == f"uecflow {command}: cannot read {missing}: No such file or directory\n"


def renamed_site_config(tmp_path: Path) -> Path:
    path = tmp_path / "renamed.toml"
    path.write_text(NEL.read_text(encoding="utf-8").replace('"RQXM1"', '"RQXZ9"'), "utf-8")
    return path


def schema_sites(capsys: pytest.CaptureFixture[str]) -> list[str]:
    schema = json.loads(capsys.readouterr().out)
    found = {
        tuple(value["enum"])
        for definition in schema["$defs"].values()
        for key, value in definition.get("properties", {}).items()
        if key == "site"
    }
    assert len(found) == 1
    return list(next(iter(found)))


@pytest.mark.parametrize(
    "argv",
    [
        lambda config: ["--config", config, "schema"],
        lambda config: ["schema", "--config", config],
    ],
    ids=["before", "after"],
)
def test_the_config_given_is_the_one_used(
    argv: Callable[[str], list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert status(argv(str(renamed_site_config(tmp_path)))) == 0
    assert "RQXZ9" in schema_sites(capsys)


def test_uecflow_config_in_the_environment_is_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("UECFLOW_CONFIG", str(renamed_site_config(tmp_path)))
    assert status(["schema"]) == 0
    assert "RQXZ9" in schema_sites(capsys)
    assert status(["schema", "--config", str(NEL)]) == 0  # the command line wins
    assert "RQXM1" in schema_sites(capsys)


@pytest.mark.parametrize("command", list(COMMANDS))
def test_help_names_the_command_as_the_user_types_it(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert status([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: uecflow {command} ")
    assert "--config FILE" in out


@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_unknown_option_is_a_usage_error(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert status([*reads_config(tmp_path)[command], "--no-such-option"]) == 2
    assert "unrecognized arguments: --no-such-option" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["replay", "no-such-file.jsonl"], "uecflow replay: cannot read no-such-file.jsonl"),
        (["gateway"], "uecflow gateway: --credentials FILE is required"),
        (["produce", "no-such-file.jsonl"], "uecflow produce: cannot read no-such-file.jsonl"),
        (["simulate", "--site", "XXX01"], "uecflow simulate: --site XXX01: not in the site"),
        (["report", "--prometheus", "http://127.0.0.1:1"], "uecflow report: say where to write"),
    ],
)
def test_options_that_cannot_work_say_why_in_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert status(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(message)
    assert err.count("\n") == 1


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert status([]) == 2
    assert "usage: uecflow" in capsys.readouterr().err
