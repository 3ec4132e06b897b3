"""The gateway's logs stay readable when Kafka is down: aiokafka repeats itself thousands of
times a second then, and only the first of each kind gets through in any ten seconds."""

from __future__ import annotations

import logging

from producers.gateway.cli import QuietRepeats
from tests.producers.gateway.conftest import FakeClock


def _record(logger: str, template: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord(logger, logging.ERROR, __file__, 1, template, args, None)


def test_a_repeated_aiokafka_message_passes_once_per_interval() -> None:
    clock = FakeClock()
    quiet = QuietRepeats(interval=10.0, clock=clock)
    template = "Unable connect to node with id %s: %s"
    passed = [quiet.filter(_record("aiokafka", template, 1, f"try {n}")) for n in range(1000)]
    assert passed.count(True) == 1
    assert quiet.filter(_record("aiokafka", "Unable to update metadata from %s", [1]))
    clock.now += 10.0
    assert quiet.filter(_record("aiokafka", template, 1, "again"))


def test_the_gateways_own_messages_always_pass() -> None:
    quiet = QuietRepeats(interval=10.0, clock=FakeClock())
    gateway = _record("uecflow.gateway", "Kafka did not acknowledge")
    assert all(quiet.filter(gateway) for _ in range(100))
