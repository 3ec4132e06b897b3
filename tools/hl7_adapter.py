"""`uecflow hl7` as a child process, and an MLLP client that reads a whole ACK: for the
integration tests and the benchmark."""

from __future__ import annotations

import signal
import socket
import subprocess
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from streams.topics import Topics
from tools.harness import ROOT, UECFLOW, free_port, wait_for
from tools.processes import spawn

VT, FS, CR = b"\x0b", b"\x1c", b"\r"


@dataclass
class Hl7Adapter:
    settings: Path
    bootstrap: str
    topics: Topics
    log_path: Path
    port: int = field(default_factory=free_port)
    metrics_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [
            str(UECFLOW), "hl7", "--settings", str(self.settings),
            "--bootstrap", self.bootstrap, "--topic-prefix", self.topics.prefix,
            "--partitions", str(self.topics.partitions),
            "--port", str(self.port), "--metrics-port", str(self.metrics_port),
        ]  # fmt: skip
        self.process = spawn(command, self.log_path, cwd=ROOT)
        wait_for(self.listening, "uecflow hl7 to listen", 60)

    def listening(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"uecflow hl7 exited: {self.log_path.read_text()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            return False
        return True

    def metrics(self) -> str:
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as response:
            return str(response.read().decode())

    def stop(self) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(30)


class MllpConnection:
    """One engine connection: send a message, get its whole ACK (or b"" if closed)."""

    def __init__(self, port: int, timeout: float = 30.0) -> None:
        self._socket = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self._buffer = b""

    def send(self, text: str) -> bytes:
        self._socket.sendall(VT + text.encode() + FS + CR)
        while FS + CR not in self._buffer:
            chunk = self._socket.recv(65536)
            if not chunk:
                return b""
            self._buffer += chunk
        block, _, self._buffer = self._buffer.partition(FS + CR)
        return block.removeprefix(VT)

    def close(self) -> None:
        self._socket.close()
