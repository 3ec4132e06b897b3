"""`uecflow gateway tokens add|list|revoke|rotate`: the credentials file run by commands, read
back as the gateway reads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from producers.gateway.credentials import load_credentials
from uecflow.cli import main as uecflow
from uecflow.config import Registry


def tokens(*argv: str) -> int:
    return uecflow(["gateway", "tokens", *argv])


def token_printed(capsys: pytest.CaptureFixture[str]) -> str:
    line = capsys.readouterr().out.splitlines()[0]
    return line.rsplit(" ", 1)[1]


def test_add_list_rotate_and_revoke_as_the_gateway_reads_them(
    tmp_path: Path, registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "credentials.toml"
    path.write_text("# NEL trusts' tokens: keep this comment\n")
    assert tokens("add", "--credentials", str(path), "--trust", "R1H", "--id", "barts-1") == 0
    barts = token_printed(capsys)
    las = ["--trust", "LAS", "--id", "las", "--sites", "*", "--event-types", "ambulance.*"]
    assert tokens("add", "--credentials", str(path), *las, "--expires", "2027-03-31") == 0
    old_las = token_printed(capsys)
    assert tokens("rotate", "--credentials", str(path), "--id", "las", "--new-id", "las-2") == 0
    new_las = token_printed(capsys)
    credentials = load_credentials(path, registry)
    assert path.read_text().startswith("# NEL trusts' tokens: keep this comment\n")
    rotated = credentials.identify(new_las)
    assert rotated is not None
    assert (rotated.trust, rotated.event_types, str(rotated.expires)) == (
        "LAS", ("ambulance.*",), "2027-03-31"
    )  # fmt: skip
    assert rotated.sites == set(registry.sites)
    assert tokens("revoke", "--credentials", str(path), "--id", "las") == 0
    capsys.readouterr()
    credentials = load_credentials(path, registry)
    revoked, active = credentials.identify(old_las), credentials.identify(barts)
    assert revoked is not None
    assert revoked.revoked
    assert active is not None
    assert not active.revoked
    assert tokens("list", "--credentials", str(path)) == 0
    listed = capsys.readouterr().out
    assert "las\tLAS\trevoked" in listed
    assert "las-2\tLAS\tactive\texpires 2027-03-31\tsites *\ttypes ambulance.*" in listed
    assert "barts-1\tR1H\tactive\texpires never\tsites R1H12,R1HKH,R1HNH\ttypes *" in listed
    assert old_las not in listed  # never a token or a hash
    assert "token_sha256" not in listed


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["revoke", "--id", "nobody"], "no credential with id 'nobody'"),
        (["add", "--trust", "RAL", "--id", "x"], "not written, the file would be wrong"),
        (["add", "--trust", "R1H", "--id", "barts-1"], "appears twice"),
    ],
)
def test_a_change_that_cannot_work_is_refused_and_the_file_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    path = tmp_path / "credentials.toml"
    assert tokens("add", "--credentials", str(path), "--trust", "R1H", "--id", "barts-1") == 0
    before = path.read_text()
    capsys.readouterr()
    assert tokens(argv[0], "--credentials", str(path), *argv[1:]) == 2
    assert message in capsys.readouterr().err
    assert path.read_text() == before
