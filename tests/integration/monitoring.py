"""Real Prometheus and Alertmanager, at the versions docker-compose.yml ships (built by
`scripts/monitoring-tools install`), as child processes with their own ports and data
directories, and a webhook receiver that records what Alertmanager delivers. Nothing here is a
stand-in: the servers are the ones production runs.
"""

from __future__ import annotations

import json
import subprocess
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tools.harness import free_port, wait_for
from tools.monitoring_servers import binary
from tools.processes import spawn

ALERTMANAGER, PROMETHEUS = binary("alertmanager"), binary("prometheus")


def missing_servers() -> str | None:
    """Why the monitoring tests cannot run here, or None. .ci/run builds both."""
    if not PROMETHEUS or not ALERTMANAGER:
        return "needs Prometheus and Alertmanager: scripts/monitoring-tools install"
    return None


def _get_json(url: str, timeout: float = 10) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.load(response)


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@dataclass
class Server:
    """A server binary in a child process, logging to a file in its directory."""

    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _launch(self, command: Sequence[str], name: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = spawn(command, self.directory / f"{name}.log")
        wait_for(self._up, f"{name} on {self.url}", 60)

    def _up(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.command_name} exited: {self.log_tail()}")
        return _ready(f"{self.url}/-/ready")

    @property
    def command_name(self) -> str:
        return type(self).__name__.lower()

    def log_tail(self, lines: int = 30) -> str:
        text = (self.directory / f"{self.command_name}.log").read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Prometheus(Server):
    """Prometheus with a config written from `targets`, `rule_files` and `alertmanager`."""

    def start(
        self,
        targets: Sequence[str],
        rule_files: Sequence[Path] = (),
        alertmanager: str | None = None,
        interval: str = "1s",
        storage: Path | None = None,
        jobs: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """`targets` are workers; `jobs` other scrape jobs by name (the gateway's)."""
        scraped = {"uecflow-worker": list(targets), **(jobs or {})}
        config = {
            "global": {"scrape_interval": interval, "evaluation_interval": interval},
            "rule_files": [str(path) for path in rule_files],
            "scrape_configs": [
                {"job_name": job, "static_configs": [{"targets": list(found)}]}
                for job, found in scraped.items()
            ],
        }
        if alertmanager:
            config["alerting"] = {
                "alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]
            }
        path = self.directory / "prometheus.yml"
        self.directory.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(config))  # YAML is a superset of JSON
        self._launch(
            [
                str(PROMETHEUS),
                f"--config.file={path}",
                f"--storage.tsdb.path={storage or self.directory / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--web.enable-lifecycle",
                # Resolved and repeated alerts reach Alertmanager within seconds in tests.
                "--rules.alert.resend-delay=1s",
            ],
            "prometheus",
        )

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        """An instant query's result vector (raises on a PromQL error)."""
        params = {"query": expr} | ({"time": str(at)} if at is not None else {})
        url = f"{self.url}/api/v1/query?{urllib.parse.urlencode(params)}"
        body = _get_json(url)
        if body.get("status") != "success":
            raise AssertionError(f"{expr}: {body}")
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def alerts(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = _get_json(f"{self.url}/api/v1/alerts")["data"]["alerts"]
        return result

    def scraped(self) -> bool:
        return any(sample["value"][1] == "1" for sample in self.query("up"))


@dataclass
class Alertmanager(Server):
    def start(self, config: Path, external_url: str | None = None) -> None:
        """`external_url`: where people open it, behind a proxy (its silence links start with
        it); it still answers at the root here."""
        shown = (
            [f"--web.external-url={external_url}", "--web.route-prefix=/"] if external_url else []
        )
        self._launch(
            [
                str(ALERTMANAGER),
                f"--config.file={config}",
                f"--storage.path={self.directory / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                # One node: no gossip port to collide with other runs.
                "--cluster.listen-address=",
                *shown,
            ],
            "alertmanager",
        )

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def alerts(self) -> list[dict[str, Any]]:
        """Every alert Alertmanager holds, with its state (active, suppressed) and inhibitors."""
        result: list[dict[str, Any]] = _get_json(f"{self.url}/api/v2/alerts")
        return result


@dataclass
class Notification:
    receiver: str  # the path the webhook was posted to: /scc, /R1H, ...
    status: str  # firing | resolved (of the group)
    alerts: list[dict[str, Any]]


class WebhookSink:
    """Records every webhook notification Alertmanager posts, by path (one path per receiver)."""

    def __init__(self) -> None:
        self.notifications: list[Notification] = []
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length))
                with sink._lock:
                    sink.notifications.append(
                        Notification(self.path, body["status"], body["alerts"])
                    )
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])

    def url(self, receiver: str) -> str:
        return f"http://127.0.0.1:{self.port}/{receiver}"

    def alerts(self, receiver: str) -> list[dict[str, Any]]:
        """Every alert (as delivered, with its own status) posted to one receiver, in order."""
        with self._lock:
            return [
                alert
                for note in self.notifications
                if note.receiver == f"/{receiver}"
                for alert in note.alerts
            ]

    def receivers_of(self, alertname: str) -> set[str]:
        with self._lock:
            return {
                note.receiver.strip("/")
                for note in self.notifications
                for alert in note.alerts
                if alert["labels"].get("alertname") == alertname
            }

    @contextmanager
    def running(self) -> Iterator[WebhookSink]:
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
