"""`uecflow report` errors, each one line and exit status 2 (no traceback), and a report that
renders even when Prometheus knows nothing but the worker's clock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from report.render import PNG_SIZE
from tests.report.pages import pdf_pages, png_size
from tools.harness import free_port
from uecflow.cli import main

AT = "2026-01-15T12:00:00Z"
AT_UNIX = 1768478400.0


class FakeApi:
    """A stand-in for Prometheus' query API only, to reach the CLI's error paths cheaply (the
    monitoring test runs the real Prometheus)."""

    def __init__(self, answer: Any, status: int = 200) -> None:
        self.answer, self.status = answer, status
        self.queries: list[str] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = parse_qs(urlparse(self.path).query)
                api.queries.append(query.get("query", [""])[0])
                kind = "matrix" if "query_range" in self.path else "vector"
                body = api.answer(kind) if callable(api.answer) else api.answer
                raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(api.status)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[FakeApi] = []

    def start(answer: Any, status: int = 200) -> FakeApi:
        api = FakeApi(answer, status)
        Thread(target=api.server.serve_forever, daemon=True).start()
        servers.append(api)
        return api

    yield start
    for api in servers:
        api.server.shutdown()
        api.server.server_close()


def only_the_clock(kind: str) -> dict[str, Any]:
    result: list[dict[str, Any]] = []
    if kind == "vector":
        result = [
            {
                "metric": {"__name__": "uecflow_as_of_timestamp_seconds"},
                "value": [AT_UNIX, str(AT_UNIX)],
            }
        ]
    return {"status": "success", "data": {"resultType": kind, "result": result}}


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    assert err.startswith("uecflow report: ")
    return err


def test_prometheus_unreachable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    assert main(["report", "--prometheus", url, "--out", str(tmp_path / "r")]) == 2
    assert "cannot reach Prometheus at" in one_error_line(capsys)
    assert not list(tmp_path.iterdir())


def test_no_uecflow_data(serve: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def empty(kind: str) -> dict[str, Any]:
        return {"status": "success", "data": {"resultType": kind, "result": []}}

    api = serve(empty)
    code = main(["report", "--prometheus", api.url, "--at", AT, "--out", str(tmp_path / "r")])
    assert code == 2
    assert "no uecflow metrics in Prometheus" in one_error_line(capsys)
    assert not list(tmp_path.iterdir())


def test_not_prometheus(serve: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    api = serve("<html>Not Found</html>", status=404)
    assert main(["report", "--prometheus", api.url, "--out", str(tmp_path / "r")]) == 2
    assert "HTTP 404 without the Prometheus query API" in one_error_line(capsys)


def test_a_refused_query(serve: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    api = serve({"status": "error", "errorType": "bad_data", "error": "parse error"}, 400)
    assert main(["report", "--prometheus", api.url, "--out", str(tmp_path / "r")]) == 2
    assert "refused the query: parse error" in one_error_line(capsys)


def test_nowhere_to_write(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--prometheus", "http://127.0.0.1:1"]) == 2
    assert "--out PATH" in one_error_line(capsys)


def test_an_output_that_cannot_be_written(
    serve: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = serve(only_the_clock)
    out = tmp_path / "missing" / "r"
    assert main(["report", "--prometheus", api.url, "--at", AT, "--out", str(out)]) == 2
    assert "cannot write" in one_error_line(capsys)


def test_an_instant_that_is_not_rfc3339_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as stop:
        main(["report", "--prometheus", "http://127.0.0.1:1", "--at", "8am", "--out", "r"])
    assert stop.value.code == 2


def test_with_no_figures_at_all_the_page_still_renders_every_feed_stale(
    serve: Any, tmp_path: Path
) -> None:
    api = serve(only_the_clock)
    png, pdf, figures = tmp_path / "a.png", tmp_path / "b.pdf", tmp_path / "r.json"
    args = ["--prometheus", api.url, "--at", AT, "--png", str(png), "--pdf", str(pdf)]
    assert main(["report", *args, "--json", str(figures)]) == 0
    assert png_size(png) == PNG_SIZE
    assert pdf_pages(pdf) == 1
    rows = json.loads(figures.read_text())["rows"]
    assert rows["R1H12"]["feeds"]["ae"] == {"last_event": None, "stale": True}
    nothing = {"value": None, "breach": None, "stale": True, "since": None}
    assert rows["system"]["cells"]["occupancy"] == nothing
    # Now, the trends, the history behind each breach, and the end of yesterday.
    assert len(api.queries) == 4


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("localhost:9090", "not an http:// or https:// URL"),
        ("http://256.1.1.1:9090", "not a usable URL"),
        ("http://[::1", "not a usable URL"),
    ],
)
def test_a_url_that_cannot_be_prometheus(
    url: str, why: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--prometheus", url, "--out", str(tmp_path / "r")]) == 2
    assert why in one_error_line(capsys)
