"""`uecflow produce` without a broker: what is refused, and what counts as sent."""

from __future__ import annotations

import pytest
from kafka.errors import KafkaTimeoutError

from events import Event
from events.parse import EventParser
from producers.kafka.produce import Message, Rejected, messages, send_all
from streams.topics import Topics
from tests.events_builder import REGISTRY, arrival, at, ward

TOPICS = Topics("uecflow", 12)
PARSER = EventParser(REGISTRY)


def line(event: Event) -> bytes:
    return event.model_dump_json().encode() + b"\n"


class Future:
    def __init__(self, ok: bool) -> None:
        self.ok, self.is_done = ok, True

    def succeeded(self) -> bool:
        return self.ok

    @property
    def exception(self) -> str:
        return "broker down"


class Producer:
    """Acknowledges every message except those whose value contains `refuse`."""

    def __init__(self, refuse: bytes = b"\x00") -> None:
        self.sent: list[tuple[str, bytes, bytes]] = []
        self._refuse = refuse

    def send(self, topic: str, key: bytes, value: bytes) -> Future:
        self.sent.append((topic, key, value))
        return Future(self._refuse not in value)

    def flush(self, timeout: float) -> None:
        pass


def test_each_valid_line_goes_to_its_streams_topic_keyed_by_site_as_written() -> None:
    beds = ward("w1", at("2025-11-20T08:00:00Z"), site="RQXM1", beds_open_core=10,
                beds_open_escalation=0, beds_occupied=9, nctr=1)  # fmt: skip
    lines = [line(arrival("a1", at("2025-11-20T08:00:00Z"))), line(beds)]
    out = list(messages(lines, PARSER, TOPICS))
    assert out == [
        Message(1, "uecflow.ae", b"R1H12", lines[0].rstrip(b"\n")),
        Message(2, "uecflow.beds", b"RQXM1", lines[1].rstrip(b"\n")),
    ]


def test_a_bad_line_is_refused_with_its_line_number_and_reason_and_not_sent() -> None:
    lines = [line(arrival("a1", at("2025-11-20T08:00:00Z"))), b'{"event_type": "ae.arrival"}\n']
    producer = Producer()
    tally = send_all(producer, messages(lines, PARSER, TOPICS), timeout=1)
    assert tally.sent == 1
    assert [problem.line for problem in tally.rejected] == [2]
    assert "event_id" in tally.rejected[0].reason
    assert len(producer.sent) == 1


def test_a_line_kafka_did_not_acknowledge_is_not_counted_as_sent() -> None:
    lines = [line(arrival("a1", at("2025-11-20T08:00:00Z"))),
             line(arrival("a2", at("2025-11-20T08:00:00Z"), site="RF4QH"))]  # fmt: skip
    tally = send_all(Producer(refuse=b"RF4QH"), messages(lines, PARSER, TOPICS), timeout=1)
    assert tally.sent == 1
    assert tally.failed == [Rejected(2, "not acknowledged by Kafka: broker down")]


@pytest.mark.parametrize("first", [b"\xef\xbb\xbf", b""])
def test_a_leading_byte_order_mark_is_ignored(first: bytes) -> None:
    lines = [first + line(arrival("a1", at("2025-11-20T08:00:00Z")))]
    assert isinstance(next(messages(lines, PARSER, TOPICS)), Message)


class Unreachable(Producer):
    """Takes the first `takes` messages, then refuses every send as Kafka does when it stays
    down past the timeout; never acknowledges anything in flush."""

    def __init__(self, takes: int) -> None:
        super().__init__()
        self._takes = takes

    def send(self, topic: str, key: bytes, value: bytes) -> Future:
        if len(self.sent) >= self._takes:
            raise KafkaTimeoutError("Failed to update metadata after 5.0 secs.")
        self.sent.append((topic, key, value))
        never = Future(False)
        never.is_done = False
        return never

    def flush(self, timeout: float) -> None:
        raise KafkaTimeoutError(f"Timeout after waiting for {timeout} secs.")


def test_once_kafka_cannot_take_a_line_no_more_are_sent_and_each_is_reported() -> None:
    lines = [line(arrival(f"a{n}", at("2025-11-20T08:00:00Z"))) for n in range(5)]
    lines.insert(3, b"not json\n")
    producer = Unreachable(takes=2)
    tally = send_all(producer, messages(lines, PARSER, TOPICS), timeout=5)
    assert len(producer.sent) == 2
    assert tally.sent == 0
    assert [problem.line for problem in tally.rejected] == [4]
    failed = {problem.line: problem.reason for problem in tally.failed}
    assert sorted(failed) == [1, 2, 3, 5, 6]
    assert failed[1] == "not acknowledged by Kafka: no acknowledgement in time"
    assert failed[3].startswith("not sent: Kafka did not take line 3")
    assert failed[6] == failed[3]
