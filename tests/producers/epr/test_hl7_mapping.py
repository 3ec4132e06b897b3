"""Each kind of ADT message becomes the event the documented mapping says, read from the fields
it names; nothing about the patient is read; and a whole generated day maps to its truth."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from pathlib import Path

import hl7
import pytest

from producers.epr.hl7_mapping import Ignored, Mapped, Unmappable, map_message
from producers.epr.settings import AdapterSettings, load_adapter_settings
from tests.producers.epr.conftest import KEY, NEW_KEY, write_settings
from tools.adt_corpus import counted, generate
from uecflow.config import load_registry


def adt(trigger: str, pv1: dict[int, str], *, version: str = "2.5.1", evn6: str = "",
        pv2: dict[int, str] | None = None, msh9: str | None = None) -> hl7.Message:  # fmt: skip
    fields = [""] * 52
    fields[1:4] = ["1", "E", "ED^MAJ^3^HOMERTON"]
    fields[19] = "V100"
    fields[44] = "20261205101500"
    for number, value in pv1.items():
        fields[number] = value
    second = [""] * 40
    for number, value in (pv2 or {}).items():
        second[number] = value
    segments = [
        f"MSH|^~\\&|EPR|HOM|UECFLOW|NEL|20261205120000||{msh9 or f'ADT^{trigger}'}|1|P|{version}",
        f"EVN|{trigger}|20261205120000||||{evn6}",
        "PID|1||9990001112^^^NHS^NH||Secretname^Hidden||19750203|F",
        "PV1|" + "|".join(fields[1:]),
        "PV2|" + "|".join(second[1:]),
    ]
    return hl7.parse("\r".join(segments))


def mapped(outcome: object) -> dict[str, object]:
    assert isinstance(outcome, Mapped), outcome
    return outcome.event


def test_a_registration_is_an_arrival_at_the_admit_time_in_london_time(
    settings: AdapterSettings,
) -> None:
    event = mapped(map_message(adt("A04", {}, pv2={38: "A"}), settings))
    assert event["event_type"] == "ae.arrival"
    assert event["occurred_at"] == "2026-12-05T10:15:00Z"  # GMT in December
    assert event["site"] == "RQXM1"
    assert event["arrival_mode"] == "ambulance"
    assert event["department_type"] == 1
    summer = mapped(map_message(adt("A04", {44: "20260705101500"}), settings))
    assert summer["occurred_at"] == "2026-07-05T09:15:00Z"  # BST
    offset = mapped(map_message(adt("A04", {44: "202607051015+0000"}), settings))
    assert offset["occurred_at"] == "2026-07-05T10:15:00Z"


def test_in_octobers_repeated_hour_a_time_without_offset_is_the_first(
    settings: AdapterSettings,
) -> None:
    event = mapped(map_message(adt("A04", {44: "20261025013000"}), settings))
    assert event["occurred_at"] == "2026-10-25T00:30:00Z"  # 01:30 BST, not 01:30 GMT


def test_the_attendance_id_is_the_visit_numbers_hmac_under_the_key_in_force_at_its_start(
    settings: AdapterSettings,
) -> None:
    event = mapped(map_message(adt("A04", {19: "V\\T\\100"}), settings))
    digest = hmac.new(KEY, b"V&100", hashlib.sha256).hexdigest()[:32]
    assert event["attendance_id"] == f"RQX-{digest}"
    later = mapped(map_message(adt("A04", {19: "V&100".replace("&", "\\T\\"),
                                           44: "20300105101500"}), settings))  # fmt: skip
    assert (
        later["attendance_id"]
        == f"RQX-{hmac.new(NEW_KEY, b'V&100', hashlib.sha256).hexdigest()[:32]}"
    )
    # The departure, sent after the rotation for a visit that started before it, keeps its id.
    after = adt("A03", {19: "V\\T\\100", 36: "01", 45: "20300101000500", 44: "20291231230000"})
    before = adt("A04", {19: "V\\T\\100", 44: "20291231230000"})
    assert (
        mapped(map_message(after, settings))["attendance_id"]
        == mapped(map_message(before, settings))["attendance_id"]
    )


def test_the_same_message_twice_gives_the_same_event_id(settings: AdapterSettings) -> None:
    first = mapped(map_message(adt("A04", {}), settings))
    again = mapped(map_message(adt("A04", {}), settings))
    assert first == again
    moved = mapped(map_message(adt("A04", {44: "20261205101600"}), settings))
    assert moved["event_id"] != first["event_id"]


@pytest.mark.parametrize(
    ("disposition", "outcome"),
    [
        ("01", "discharged"),
        ("09", "admitted"),
        ("02", "transferred"),
        ("07", "left_before_treatment"),
        ("", "other"),
    ],
)
def test_a_discharge_is_a_departure_at_the_discharge_time_with_its_disposition(
    settings: AdapterSettings, disposition: str, outcome: str
) -> None:
    event = mapped(map_message(adt("A03", {36: disposition, 45: "20261205143000"}), settings))
    assert (event["event_type"], event["occurred_at"], event["outcome"]) == (
        "ae.departure", "2026-12-05T14:30:00Z", outcome,
    )  # fmt: skip


def test_a_disposition_the_trust_did_not_map_is_an_error_naming_it(
    settings: AdapterSettings,
) -> None:
    outcome = map_message(adt("A03", {36: "99", 45: "20261205143000"}), settings)
    assert outcome == Unmappable(
        "AE", "PV1-36: discharge disposition '99' is not in the trust's mapping"
    )


def test_a_pending_admit_is_a_decision_to_admit_at_the_event_time(
    settings: AdapterSettings,
) -> None:
    event = mapped(map_message(adt("A14", {}, evn6="20261205113000"), settings))
    assert (event["event_type"], event["occurred_at"]) == (
        "ae.decision_to_admit", "2026-12-05T11:30:00Z",
    )  # fmt: skip
    assert isinstance(map_message(adt("A08", {}, pv2={8: "20261205113000"}), settings), Ignored)


def test_a_trust_that_signals_decisions_with_an_a08_field_gets_them_from_it(
    tmp_path: Path,
) -> None:
    signal = '[decision_to_admit]\ntrigger = "A08"\nfield = "ZED-2"'
    a08 = load_adapter_settings(write_settings(tmp_path, signal), load_registry(None))
    message = adt("A08", {})
    with_field = hl7.parse(str(message).rstrip("\r") + "\rZED|1|20261205113000")
    event = mapped(map_message(with_field, a08))
    assert (event["event_type"], event["occurred_at"]) == (
        "ae.decision_to_admit", "2026-12-05T11:30:00Z",
    )  # fmt: skip
    assert isinstance(map_message(message, a08), Ignored)  # an update without the field
    assert isinstance(map_message(adt("A14", {}, evn6="20261205113000"), a08), Ignored)


def test_an_emergency_admission_from_the_department_is_an_admitted_departure(
    settings: AdapterSettings,
) -> None:
    pv1 = {2: "I", 3: "W12^B^4^HOMERTON", 4: "E", 6: "ED^MAJ^3^HOMERTON"}
    for trigger in ("A06", "A01"):
        event = mapped(map_message(adt(trigger, pv1, evn6="20261205150000"), settings))
        assert (event["outcome"], event["occurred_at"]) == ("admitted", "2026-12-05T15:00:00Z")
    elective = map_message(adt("A01", {**pv1, 4: "R"}, evn6="20261205150000"), settings)
    assert isinstance(elective, Ignored)


def test_cancellations_are_handled_as_documented(settings: AdapterSettings) -> None:
    cancelled = mapped(map_message(adt("A11", {}, evn6="20261205102500"), settings))
    assert (cancelled["event_type"], cancelled["outcome"]) == ("ae.departure", "other")
    assert isinstance(map_message(adt("A11", {2: "I"}, evn6="20261205102500"), settings), Ignored)
    assert isinstance(map_message(adt("A13", {}, evn6="20261205102500"), settings), Ignored)


def test_other_messages_are_acknowledged_and_not_sent(settings: AdapterSettings) -> None:
    for trigger in ("A40", "A02", "A31"):
        assert isinstance(map_message(adt(trigger, {}), settings), Ignored)
    assert isinstance(map_message(adt("A04", {2: "O"}), settings), Ignored)  # outpatient


@pytest.mark.parametrize(
    ("message", "code", "reason"),
    [
        (
            adt("A04", {}, version="2.2"),
            "AR",
            "MSH-12: version '2.2' is not read (2.3 to 2.5.1 are)",
        ),
        (adt("A04", {}, msh9="ORU^R01"), "AR", "MSH-9: message type 'ORU' is not ADT"),
        (adt("A04", {3: ""}), "AE", "PV1-3: the assigned location has no facility: no site"),
        (
            adt("A04", {3: "ED^^^ELSEWHERE"}),
            "AE",
            "PV1-3: facility 'ELSEWHERE' is not in the trust's locations",
        ),
        (adt("A04", {19: ""}), "AE", "PV1-19: the visit number is empty"),
        (adt("A04", {44: "2026120"}), "AE", "PV1-44: not an HL7 date/time to the minute"),
        (
            adt("A04", {44: "20191231230000"}),
            "AE",
            "PV1-44: no key is in force at 2019-12-31T23:00:00+00:00: the oldest starts later",
        ),
        (adt("A03", {45: ""}), "AE", "no time: PV1-45, EVN-6, EVN-2 are all empty"),
    ],
)
def test_what_cannot_be_mapped_gets_its_code_and_a_reason_without_patient_data(
    settings: AdapterSettings, message: hl7.Message, code: str, reason: str
) -> None:
    if reason.startswith("no time"):
        message = hl7.parse(str(message).replace("EVN|A03|20261205120000", "EVN|A03|"))
    assert map_message(message, settings) == Unmappable(code, reason)  # type: ignore[arg-type]


def test_versions_2_3_with_the_trigger_only_in_evn_1_are_read(settings: AdapterSettings) -> None:
    event = mapped(map_message(adt("A04", {}, version="2.3", msh9="ADT"), settings))
    assert event["event_type"] == "ae.arrival"


def test_a_generated_day_maps_to_its_truth_and_each_message_to_its_ack(
    settings: AdapterSettings,
) -> None:
    corpus = generate(datetime(2026, 10, 24, 12, 0, tzinfo=UTC), seed=5)  # over a DST change
    events: dict[str, dict[str, object]] = {}
    for sent in corpus.messages:
        outcome = map_message(hl7.parse(sent.text), settings)
        code = outcome.code if isinstance(outcome, Unmappable) else "AA"
        assert code == sent.ack, sent.text.split("\r")[0]
        if isinstance(outcome, Mapped):
            events[str(outcome.event["event_id"])] = outcome.event
    assert counted(events.values()) == counted(corpus.events)
