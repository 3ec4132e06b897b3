"""`uecflow dashboards push` and its errors, against a stand-in HTTP server on 127.0.0.1.

The stand-in records each request and answers the way Grafana's HTTP API documents
(folders by uid, POST /api/dashboards/db). These tests check the shape of OUR requests and our
handling of the answers; they do not prove that a real Grafana accepts the dashboards (Grafana
cannot run on this machine; the schema test checks the JSON against the SDK's model).
"""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from dashboards.build import all_dashboards
from dashboards.push import folder_uid
from uecflow.cli import main as uecflow
from uecflow.config import load_registry

TOKEN = "glsa_test_token"


def main(argv: list[str]) -> int:
    return uecflow(["dashboards", *argv])


@dataclass
class Request:
    method: str
    path: str
    authorization: str
    body: Any


@dataclass
class StandIn:
    """What the stand-in Grafana holds and what it was asked."""

    url: str = ""
    folders: dict[str, str] = field(default_factory=dict)  # uid -> title
    requests: list[Request] = field(default_factory=list)
    accepted: set[str] = field(default_factory=lambda: {f"Bearer {TOKEN}"})


def _handler(state: StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep pytest's output clean

        def _answer(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            request = Request(
                self.command,
                self.path,
                self.headers.get("Authorization", ""),
                json.loads(raw) if raw else None,
            )
            state.requests.append(request)
            if request.authorization not in state.accepted:
                return self._answer(401, {"message": "Unauthorized"})
            return self._route(request)

        def _route(self, request: Request) -> None:
            if request.path.startswith("/api/folders/"):
                uid = request.path.removeprefix("/api/folders/")
                if request.method == "PUT":
                    state.folders[uid] = request.body["title"]
                if uid not in state.folders:
                    return self._answer(404, {"message": "folder not found"})
                return self._answer(200, {"uid": uid, "title": state.folders[uid]})
            if request.path == "/api/folders" and request.method == "POST":
                state.folders[request.body["uid"]] = request.body["title"]
                return self._answer(200, request.body)
            if request.path == "/api/dashboards/db" and request.method == "POST":
                uid = request.body["dashboard"]["uid"]
                return self._answer(200, {"status": "success", "uid": uid, "version": 1})
            return self._answer(404, {"message": "not found"})

        do_GET = do_POST = do_PUT = _handle

    return Handler


@pytest.fixture
def grafana() -> Iterator[StandIn]:
    state = StandIn()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _no_ambient_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GRAFANA_TOKEN", "GRAFANA_PASSWORD", "UECFLOW_CONFIG"):
        monkeypatch.delenv(name, raising=False)


def test_push_creates_the_folder_then_saves_every_dashboard_with_overwrite(
    grafana: StandIn,
) -> None:
    assert main(["push", "--url", grafana.url, "--token", TOKEN]) == 0
    uid = folder_uid("NEL UEC")
    assert grafana.folders == {uid: "NEL UEC"}
    calls = [(r.method, r.path) for r in grafana.requests]
    assert calls[:2] == [("GET", f"/api/folders/{uid}"), ("POST", "/api/folders")]
    saved = [r.body for r in grafana.requests if r.path == "/api/dashboards/db"]
    expected = all_dashboards(load_registry())
    assert [body["dashboard"]["uid"] for body in saved] == list(expected)
    for body in saved:
        assert body["folderUid"] == uid
        assert body["overwrite"] is True
        assert body["dashboard"] == expected[body["dashboard"]["uid"]]
    assert all(r.authorization == f"Bearer {TOKEN}" for r in grafana.requests)


def test_pushing_again_reuses_the_folder_and_restores_its_title(grafana: StandIn) -> None:
    uid = folder_uid("Winter pressures")
    grafana.folders[uid] = "renamed by someone"
    argv = ["push", "--url", grafana.url, "--token", TOKEN, "--folder", "Winter pressures"]
    assert main(argv) == 0
    assert grafana.folders == {uid: "Winter pressures"}
    assert ("POST", "/api/folders") not in [(r.method, r.path) for r in grafana.requests]
    assert [r.method for r in grafana.requests if r.path == f"/api/folders/{uid}"] == [
        "GET",
        "PUT",
    ]


def test_basic_auth_is_sent_for_user_and_password(grafana: StandIn) -> None:
    basic = "Basic " + base64.b64encode(b"admin:secret").decode()
    grafana.accepted = {basic}
    assert main(["push", "--url", grafana.url, "--user", "admin", "--password", "secret"]) == 0
    assert {r.authorization for r in grafana.requests} == {basic}


def test_refused_credentials_give_one_line_and_exit_2(
    grafana: StandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["push", "--url", grafana.url, "--token", "wrong"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert "401" in err
    assert grafana.url in err


@pytest.mark.parametrize("url", ["grafana:3000", "ftp://grafana", "http://", "not a url"])
def test_a_bad_url_gives_one_line_and_exit_2(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["push", "--url", url, "--token", TOKEN]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "not an http(s) URL" in err


def test_no_grafana_listening_gives_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert main(["push", "--url", f"http://127.0.0.1:{port}", "--token", TOKEN]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert "cannot reach Grafana" in err


def test_a_user_without_a_password_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["push", "--url", "http://127.0.0.1:9", "--user", "admin"]) == 2
    assert "--user needs --password" in capsys.readouterr().err


def test_generate_writes_each_dashboard(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--out", str(tmp_path)]) == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        f"{uid}.json" for uid in all_dashboards(load_registry())
    )
    assert "wrote 5 dashboards" in capsys.readouterr().out


def test_a_broken_config_gives_one_line_and_exit_2(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("UECFLOW_CONFIG", str(tmp_path / "missing.toml"))
    assert main(["generate", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "cannot read" in err
