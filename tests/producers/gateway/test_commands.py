"""`uecflow gateway` helpers an operator runs: tokens, and the published OpenAPI document."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from producers.gateway import openapi_document
from producers.gateway.credentials import hash_token, parse_credentials
from uecflow.cli import main as uecflow
from uecflow.config import Registry

ROOT = Path(__file__).resolve().parents[3]
PUBLISHED = ROOT / "schemas" / "gateway-openapi.json"


def main(argv: list[str]) -> int:
    return uecflow(["gateway", *argv])


def test_published_openapi_is_the_one_the_gateway_serves(client: TestClient) -> None:
    published = json.loads(PUBLISHED.read_text(encoding="utf-8"))
    regenerate = f"run: uecflow gateway --openapi > {PUBLISHED.relative_to(ROOT)}"
    assert published == openapi_document(), regenerate
    assert client.get("/openapi.json").json() == published


def test_the_openapi_request_body_is_the_event_contract() -> None:
    document = openapi_document()
    schemas = document["components"]["schemas"]
    assert set(schemas["Event"]["discriminator"]["mapping"]) >= {"ae.arrival", "beds.ward_state"}
    assert document["paths"]["/v1/events"]["post"]["security"] == [{"HTTPBearer": []}]
    assert "#/$defs/" not in json.dumps(document)


def test_uecflow_gateway_openapi_prints_the_published_document() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "uecflow", "gateway", "--openapi"],
        capture_output=True,
        check=True,
        timeout=60,
        cwd=ROOT,
    )
    assert json.loads(done.stdout) == json.loads(PUBLISHED.read_text(encoding="utf-8"))


def test_new_token_prints_a_token_and_an_entry_that_admits_it(
    registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new-token", "--trust", "RF4", "--id", "bhrut-ie-1"]) == 0
    out = capsys.readouterr().out
    token = out.splitlines()[0].rsplit(" ", 1)[1]
    credential = parse_credentials(out, registry).identify(token)
    assert credential is not None
    assert (credential.id, credential.trust) == ("bhrut-ie-1", "RF4")


def test_new_token_refuses_an_unknown_trust(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new-token", "--trust", "RAL", "--id", "x"]) == 2
    assert "R1H, RF4, RQX" in capsys.readouterr().err


def test_new_token_makes_the_ambulance_services_scoped_expiring_credential(
    registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    scoped = ["--sites", "*", "--event-types", "ambulance.*", "--expires", "2027-03-31"]
    assert main(["new-token", "--trust", "LAS", "--id", "las-cad", *scoped]) == 0
    out = capsys.readouterr().out
    token = out.splitlines()[0].rsplit(" ", 1)[1]
    assert token.startswith("uecflow_")
    credential = parse_credentials(out, registry).identify(token)
    assert credential is not None
    assert credential.sites == set(registry.sites)
    assert credential.event_types == ("ambulance.*",)
    assert str(credential.expires) == "2027-03-31"


@pytest.mark.parametrize(("token", "code"), [("k" * 43, 0), ("short", 2)])
def test_hash_token_reads_the_token_from_standard_input(token: str, code: int) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "uecflow", "gateway", "hash-token"],
        input=token + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == code
    if code == 0:
        assert done.stdout.strip() == hash_token(token)
    else:
        assert "at least 32 characters" in done.stderr


def test_serving_without_credentials_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "--credentials" in capsys.readouterr().err


def test_a_bad_credentials_file_stops_the_gateway_before_it_listens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "credentials.toml"
    path.write_text('[[credentials]]\nid = "x"\ntrust = "NOPE"\n')
    assert main(["--credentials", str(path)]) == 2
    assert "trust must be one of" in capsys.readouterr().err
