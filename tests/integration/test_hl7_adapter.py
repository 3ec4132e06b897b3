"""A day of one site's ADT traffic through `uecflow hl7` into a real broker and worker: every
message gets the ACK its truth says, the worker's figures equal `uecflow replay` of the events
the documented mapping defines (computed from the corpus's visits, not by the adapter), the
refused messages are dead letters with their reasons, and no byte the adapter wrote holds a
patient's NHS number, name or date of birth."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import hl7
import pytest
from kafka import KafkaConsumer

from streams.core.intake import Stream
from streams.topics import Topics
from tests.integration.live_metrics import assert_same_metrics, scrape_when_done
from tools.adt_corpus import Corpus, adapter_settings, generate
from tools.harness import Broker, Samples, Worker, replay_document, scrape_as_of
from tools.hl7_adapter import Hl7Adapter, MllpConnection

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

KEY = b"integration-test-key-" + b"x" * 20


@dataclass
class Delivered:
    corpus: Corpus
    acks: list[bytes]
    samples: Samples
    adapter_metrics: str
    adapter_log: bytes
    on_kafka: list[bytes]  # every key, value and header of every topic, dead letters too
    dead_letters: list[tuple[dict[str, bytes], bytes]]


@pytest.fixture(scope="module")
def delivered(broker: Broker, run_dir: Path) -> Delivered:
    topics = Topics(prefix=f"t{uuid.uuid4().hex[:10]}", partitions=6)
    # Whole seconds; the day ends an hour ago, so the live clock sees its 12-hour waits.
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=25)
    corpus = generate(start, seed=14)
    settings = adapter_settings(run_dir / f"{topics.prefix}-adapter", KEY)
    worker = Worker(broker.bootstrap, topics, run_dir / f"{topics.prefix}.log")
    adapter = Hl7Adapter(settings, broker.bootstrap, topics, run_dir / f"{topics.prefix}-hl7.log")
    worker.start()
    adapter.start()
    try:
        connection = MllpConnection(adapter.port)
        acks = [connection.send(sent.text) for sent in corpus.messages]
        connection.close()
        metrics = adapter.metrics()
        samples = scrape_when_done(worker, broker, topics, _sent(metrics))
    finally:
        adapter.stop()
        worker.stop()
    on_kafka, letters = _everything_on(broker.bootstrap, topics)
    return Delivered(corpus, acks, samples, metrics, adapter.log_path.read_bytes(), on_kafka,
                    letters)  # fmt: skip


def test_each_message_gets_the_ack_code_its_truth_says(delivered: Delivered) -> None:
    codes = [str(hl7.parse(ack.decode())["MSA.F1"]) for ack in delivered.acks]
    assert codes == [sent.ack for sent in delivered.corpus.messages]
    controls = [str(hl7.parse(ack.decode())["MSA.F2"]) for ack in delivered.acks]
    assert all(controls), "every ACK names the message it answers"


def test_the_workers_figures_equal_the_replay_of_the_events_the_mapping_defines(
    delivered: Delivered,
) -> None:
    truth = [json.dumps(event) for event in delivered.corpus.events]
    expected = replay_document(truth, scrape_as_of(delivered.samples))
    site = expected["sites"]["RQXM1"]
    assert site["ae_arrivals_today"] or site["ae_in_department"]  # not nothing against nothing
    assert_same_metrics(delivered.samples, expected)


def test_refused_messages_are_dead_letters_with_reasons_and_without_patient_segments(
    delivered: Delivered,
) -> None:
    refused = [sent for sent in delivered.corpus.messages if sent.ack != "AA"]
    assert len(delivered.dead_letters) == len(refused) == 4
    reasons = sorted(headers["uecflow-reason"].decode() for headers, _ in delivered.dead_letters)
    assert reasons == sorted(
        [
            "MSH-12: version '2.2' is not read (2.3 to 2.5.1 are)",
            "MSH-9: message type 'ORU' is not ADT",
            "PV1-3: the assigned location has no facility: no site",
            "PV1-36: discharge disposition '99' is not in the trust's mapping",
        ]
    )
    for _, value in delivered.dead_letters:
        assert value.startswith(b"MSH|")
        assert b"PID|" not in value
        assert b"NK1|" not in value


def test_no_byte_the_adapter_wrote_holds_a_patients_identifiers(delivered: Delivered) -> None:
    written = {
        "events and dead letters": b"\n".join(delivered.on_kafka),
        "logs": delivered.adapter_log,
        "metrics": delivered.adapter_metrics.encode(),
        "ACKs": b"\n".join(delivered.acks),
    }
    assert all(written.values()), "a grep of nothing finds nothing"
    sent = b"\n".join(message.text.encode() for message in delivered.corpus.messages)
    for patient in delivered.corpus.patients:
        assert patient.nhs_number.encode() in sent  # the traffic does carry them
        for secret in patient.identifiers():
            for what, data in written.items():
                assert secret.encode() not in data, f"{secret} in the adapter's {what}"


def _sent(metrics: str) -> int:
    return sum(
        int(float(line.rsplit(" ", 1)[1]))
        for line in metrics.splitlines()
        if line.startswith("uecflow_hl7_messages_total{") and 'result="sent"' in line
    )


def _everything_on(
    bootstrap: str, topics: Topics
) -> tuple[list[bytes], list[tuple[dict[str, bytes], bytes]]]:
    names = [topics.of(stream) for stream in Stream] + [topics.dead_letter]
    consumer = KafkaConsumer(
        *names, bootstrap_servers=bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=5000
    )
    found: list[bytes] = []
    letters: list[tuple[dict[str, bytes], bytes]] = []
    try:
        for message in consumer:
            headers = dict(message.headers)
            found += [message.key or b"", message.value or b"", *headers.values()]
            if message.topic == topics.dead_letter:
                letters.append((headers, message.value or b""))
    finally:
        consumer.close()
    return found, letters
