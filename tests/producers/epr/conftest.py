from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from events.parse import EventParser
from producers.epr.mllp import Hl7Metrics, Listener
from producers.epr.settings import AdapterSettings, load_adapter_settings
from producers.kafka.sender import Message, SendFailed
from streams.topics import Topics
from uecflow.config import load_registry

KEY = b"k" * 16 + b"0123456789abcdef"  # 32 bytes: the shortest key accepted
NEW_KEY = b"n" * 40


def write_settings(directory: Path, extra: str = "") -> Path:
    (directory / "rqx.key").write_bytes(KEY + b"\n")
    (directory / "rqx-new.key").write_bytes(NEW_KEY)
    path = directory / "rqx.toml"
    path.write_text(
        'trust = "RQX"\n'
        f"{extra}\n"
        '[locations]\n"HOMERTON" = "RQXM1"\n'
        '[[keys]]\nfrom = "2020-01-01T00:00:00Z"\nfile = "rqx.key"\n'
        '[[keys]]\nfrom = "2030-01-01T00:00:00Z"\nfile = "rqx-new.key"\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def settings(tmp_path: Path) -> AdapterSettings:
    return load_adapter_settings(write_settings(tmp_path), load_registry(None))


@dataclass
class RecordingSender:
    """Kafka as the listener sees it: it acknowledges, or (with `failing`) it does not."""

    sent: list[Message] = field(default_factory=list)
    failing: bool = False

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def send_all(self, messages: Sequence[Message]) -> None:
        if self.failing:
            raise SendFailed("KafkaTimeoutError")
        self.sent.extend(messages)


def listener(
    settings: AdapterSettings, sender: RecordingSender, metrics: CollectorRegistry, **options: Any
) -> Listener:
    registry = load_registry(None)
    return Listener(settings, EventParser(registry), sender, TOPICS, Hl7Metrics(metrics), **options)


TOPICS = Topics(prefix="t")
