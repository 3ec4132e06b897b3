"""A day of one emergency department's HL7 v2 ADT traffic, seeded, with synthetic patients,
and the truth behind it: what each message should be answered, and which contract events the
adapter's documented mapping defines for the day (computed here from the visits, not by the
adapter's code).

The traffic has what a real engine sends and what goes wrong: registrations, updates, pending
admits, discharges, conversions to inpatient; an A03 sent before an A08 and a decision to admit
sent after the discharge; messages sent twice; a registration cancelled (A11) and a discharge
cancelled then sent again (A13); merges (A40); a discharge without an assigned location; HL7
escapes and repeated fields; versions 2.3, 2.4 and 2.5.1, and one in 2.2; a lab result; an
outpatient registration; a disposition the trust did not map. The same day is also there as the
trust's FHIR feed would post it: each Encounter as it changes, and as hourly Bundles.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from events.contract import rfc3339
from producers.epr.settings import FHIR_DTA_EXTENSION

LONDON = ZoneInfo("Europe/London")
TRUST, SITE, FACILITY = "RQX", "RQXM1", "HOMERTON"
AckCode = Literal["AA", "AE", "AR"]

_FAMILY = (
    "Quarrington",
    "Vellacott",
    "Ashbourne",
    "Pemberthy",
    "Okonkwo-Brandt",
    "Thistlewood",
    "Marchetti",
    "Oyelaran",
    "Wrenfield",
    "Castellanos",
    "Haverstock",
    "Dunmore",
)
_GIVEN = (
    "Albertine",
    "Cosimo",
    "Ebenezer",
    "Florentyna",
    "Ignatius",
    "Lucasta",
    "Peregrine",
    "Rosamund",
    "Thaddeus",
    "Wilhelmina",
    "Zephaniah",
    "Octavia",
)
_STREETS = ("Lavender Grove", "Mossbury Road", "Cresset Street", "Orsman Terrace")
# PV1-36 codes (HL7 table 0112) by outcome, as the adapter's default mapping reads them.
_DISPOSITIONS = {"discharged": "01", "transferred": "02", "left_before_treatment": "07"}
# The same dispositions in SNOMED CT, as the FHIR feed codes them ("LBT" a trust's local code).
_SNOMED = {"01": "306689006", "02": "19712007", "07": "LBT", "09": "306706006"}


@dataclass(frozen=True, slots=True)
class Patient:
    nhs_number: str
    family: str
    given: str
    birth_date: str  # YYYYMMDD, as PID-7 carries it

    def identifiers(self) -> tuple[str, ...]:
        """Every form of what must never leave the adapter."""
        born = self.birth_date
        return (
            self.nhs_number,
            self.family,
            self.given,
            born,
            f"{born[:4]}-{born[4:6]}-{born[6:]}",
        )


@dataclass(frozen=True, slots=True)
class Sent:
    """One message as the engine sends it, and the ACK code it must get."""

    at: datetime
    text: str
    ack: AckCode


@dataclass
class Visit:
    number: str
    patient: Patient
    arrived: datetime
    version: str
    mode: str = "F"  # PV2-38: A ambulance, F on foot
    events: list[dict[str, object]] = field(default_factory=list)


@dataclass
class Corpus:
    messages: list[Sent]
    patients: list[Patient]
    events: list[dict[str, object]]  # the truth: the mapping's events, ids of our own
    encounters: list[Posted]  # the same day as FHIR: each Encounter as its state changes

    def bundles(self) -> list[dict[str, object]]:
        """The Encounters as FHIR `collection` Bundles, one per hour, in the order posted."""
        hours: dict[datetime, list[dict[str, object]]] = {}
        for posted in self.encounters:
            hour = posted.at.replace(minute=0, second=0, microsecond=0)
            hours.setdefault(hour, []).append({"resource": posted.encounter})
        return [{"resourceType": "Bundle", "type": "collection", "timestamp": rfc3339(hour),
                 "entry": entries} for hour, entries in hours.items()]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Posted:
    """One Encounter as the trust's FHIR feed posts it, and the HTTP status it must get."""

    at: datetime
    encounter: dict[str, object]
    status: int


def adapter_settings(directory: Path, key: bytes, extra: str = "") -> Path:
    """The adapter settings the corpus is written for (its facility is Homerton), with `key`
    and `extra` TOML; the file's path."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "corpus.key").write_bytes(key)
    path = directory / "corpus.toml"
    path.write_text(
        f'trust = "{TRUST}"\n{extra}\n[locations]\n"{FACILITY}" = "{SITE}"\n'
        '[[keys]]\nfrom = "2020-01-01T00:00:00Z"\nfile = "corpus.key"\n',
        encoding="utf-8",
    )
    return path


def counted(events: Iterable[dict[str, object]]) -> Counter[tuple[object, ...]]:
    """Events as the worker counts them: per attendance and kind the latest wins (the contract's
    rule); then without ids, which differ between the adapter (keyed hashes) and the truth (named
    after the visit)."""
    latest: dict[tuple[object, object], dict[str, object]] = {}
    for event in events:
        key = (event["attendance_id"], event["event_type"])
        if key not in latest or str(event["occurred_at"]) > str(latest[key]["occurred_at"]):
            latest[key] = event
    return Counter(
        (event["event_type"], event["occurred_at"], event["site"], event.get("outcome"),
         event.get("arrival_mode", "walk_in"))
        for event in latest.values()
    )  # fmt: skip


def generate(start: datetime, seed: int, visits: int = 240) -> Corpus:
    """`visits` ED attendances arriving over the 24 hours from `start`, nothing later than
    `start` + 24 h, every message in the order the engine sends it."""
    rng = random.Random(seed)
    writer = _Writer(rng)
    end = start + timedelta(hours=24)
    for number in range(visits):
        arrived = start + timedelta(seconds=rng.randrange(22 * 3600))
        writer.visit(f"HOM{20260000 + number}", arrived, end, number)
    writer.oddities(start)
    messages = sorted(writer.messages, key=lambda sent: sent.at)
    encounters = sorted(writer.encounters, key=lambda posted: posted.at)
    return Corpus(messages, writer.patients, writer.truth(), encounters)


class _Writer:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.messages: list[Sent] = []
        self.patients: list[Patient] = []
        self.visits: list[Visit] = []
        self.encounters: list[Posted] = []
        self._fhir: dict[str, dict[str, object]] = {}
        self._control = 0

    def truth(self) -> list[dict[str, object]]:
        return [event for visit in self.visits for event in visit.events]

    def patient(self) -> Patient:
        rng = self.rng
        born = datetime(1930, 1, 1) + timedelta(days=rng.randrange(0, 80 * 365))
        nhs = "999" + "".join(str(rng.randrange(10)) for _ in range(7))
        patient = Patient(nhs, rng.choice(_FAMILY), rng.choice(_GIVEN), born.strftime("%Y%m%d"))
        self.patients.append(patient)
        return patient

    def visit(self, number: str, arrived: datetime, end: datetime, index: int) -> None:
        rng = self.rng
        version = ("2.5.1", "2.4", "2.3")[index % 3]
        mode = "A" if rng.random() < 0.3 else "F"
        visit = Visit(number, self.patient(), arrived, version, mode)
        self.visits.append(visit)
        self.send("A04", visit, arrived, ack="AA")
        arrival_mode = "ambulance" if mode == "A" else "walk_in"
        visit.events.append(_event("ae.arrival", visit, arrived, arrival_mode=arrival_mode))
        stay = timedelta(seconds=int(60 * rng.lognormvariate(5.3, 0.6)))  # median 3.3 h
        left = arrived + stay
        admitted = rng.random() < 0.27
        if rng.random() < 0.4:
            self.send("A08", visit, arrived + stay / 3, ack="AA")
        if admitted:
            decided = arrived + timedelta(seconds=int(stay.total_seconds() * rng.uniform(0.3, 0.8)))
            if decided < end:
                late = index % 17 == 0  # the decision's message reaches us after the discharge
                self.send("A14", visit, decided, ack="AA", delay=stay * 1.1 if late else None)
                visit.events.append(_event("ae.decision_to_admit", visit, decided))
        if left >= end:
            return  # still in the department when the day's traffic ends
        if admitted and index % 2:
            self.send("A06", visit, left, ack="AA", admission_type="E")
            visit.events.append(_event("ae.departure", visit, left, outcome="admitted"))
            return
        outcome = "admitted" if admitted else _outcome(rng)
        code = "09" if admitted else _DISPOSITIONS[outcome]
        self.send("A03", visit, left, ack="AA", disposition=code)
        visit.events.append(_event("ae.departure", visit, left, outcome=outcome))
        if index % 11 == 0:  # an update after the discharge: the A03 came first
            self.send("A08", visit, left, ack="AA", delay=timedelta(minutes=3))
        if index % 13 == 0:  # the same discharge sent twice
            self.messages.append(self.messages[-1])
            self.encounters.append(self.encounters[-1])

    def oddities(self, start: datetime) -> None:
        rng = self.rng
        at = start + timedelta(hours=3)
        # Registered in error, then cancelled: the adapter ends the attendance at the cancel.
        wrong = Visit("HOMX0001", self.patient(), at, "2.5.1")
        self.visits.append(wrong)
        self.send("A04", wrong, at, ack="AA")
        self.send("A11", wrong, at + timedelta(minutes=9), ack="AA")
        wrong.events += [
            _event("ae.arrival", wrong, at, arrival_mode="walk_in"),
            _event("ae.departure", wrong, at + timedelta(minutes=9), outcome="other"),
        ]
        # Discharged, the discharge cancelled, discharged again later: the later one stands.
        back = Visit("HOMX0002", self.patient(), at, "2.4")
        self.visits.append(back)
        first, second = at + timedelta(hours=2), at + timedelta(hours=5)
        self.send("A04", back, at, ack="AA")
        self.send("A03", back, first, ack="AA", disposition="01")
        self.send("A13", back, first + timedelta(minutes=20), ack="AA")
        self.send("A03", back, second, ack="AA", disposition="01")
        back.events += [
            _event("ae.arrival", back, at, arrival_mode="walk_in"),
            _event("ae.departure", back, second, outcome="discharged"),
        ]
        # No assigned location on the discharge; an unmapped disposition: both refused (AE), so
        # the attendances stay open.
        lost = Visit("HOMX0003", self.patient(), at, "2.5.1")
        odd = Visit("HOMX0004", self.patient(), at, "2.3")
        self.visits += [lost, odd]
        for visit in (lost, odd):
            self.send("A04", visit, at, ack="AA")
            visit.events.append(_event("ae.arrival", visit, at, arrival_mode="walk_in"))
        self.send("A03", lost, at + timedelta(hours=1), ack="AE", disposition="01", location="")
        self.send("A03", odd, at + timedelta(hours=1), ack="AE", disposition="99")
        # Visit numbers with characters HL7 escapes; merges; an outpatient; other versions.
        escaped = Visit("HOM^2026&7", self.patient(), at, "2.5.1")
        self.visits.append(escaped)
        self.send("A04", escaped, at, ack="AA")
        escaped.events.append(_event("ae.arrival", escaped, at, arrival_mode="walk_in"))
        for hour in (5, 14):
            self.merge(start + timedelta(hours=hour, minutes=rng.randrange(60)))
        outpatient = Visit("HOMO0001", self.patient(), at, "2.5.1")
        self.send("A04", outpatient, at, ack="AA", patient_class="O")
        ancient = Visit(self.visits[5].number, self.visits[5].patient, at, "2.2")
        self.send("A08", ancient, at + timedelta(hours=1), ack="AR")
        self.lab_result(at + timedelta(hours=2))

    def send(
        self,
        trigger: str,
        visit: Visit,
        at: datetime,
        *,
        ack: AckCode,
        delay: timedelta | None = None,
        disposition: str = "",
        location: str = FACILITY,
        patient_class: str = "E",
        admission_type: str = "E",
    ) -> None:
        sent_at = at + (delay if delay is not None else timedelta(seconds=self.rng.uniform(1, 90)))
        pv1 = _pv1(self, visit, at, trigger, disposition, location, patient_class, admission_type)
        segments = [
            self.msh(trigger, visit.version, sent_at),
            f"EVN|{trigger}|{_ts(self.rng, sent_at)}||||{_ts(self.rng, at)}",
            _pid(visit.patient),
            f"NK1|1|{visit.patient.family}^Mary|MTH|{self.rng.randrange(1, 99)} {_STREETS[0]}",
            pv1,
            "PV2|" + "|" * 37 + visit.mode,
            f"NTE|1||Seen in Resus\\T\\Majors \\F\\ {visit.patient.given} said \\S\\ ok \\E\\",
        ]
        self.messages.append(Sent(sent_at, "\r".join(segments) + "\r", ack))
        self.encounter(trigger, visit, at, sent_at, disposition, location, patient_class, ack)

    def encounter(
        self,
        trigger: str,
        visit: Visit,
        at: datetime,
        sent_at: datetime,
        disposition: str,
        location: str,
        patient_class: str,
        ack: AckCode,
    ) -> None:
        """The visit's Encounter as the FHIR feed posts it after this message, if it changes."""
        state = self._fhir.setdefault(visit.number, _encounter(visit, patient_class))
        moment = rfc3339(at.replace(microsecond=0))
        if trigger == "A04":
            state["period"] = {"start": moment}
        elif trigger == "A14":
            extensions = state["extension"]
            assert isinstance(extensions, list)
            extensions.append({"url": FHIR_DTA_EXTENSION, "valueDateTime": moment})
        elif trigger in ("A03", "A06", "A11"):
            state["status"] = "entered-in-error" if trigger == "A11" else "finished"
            state["period"] = {**state["period"], "end": moment}  # type: ignore[dict-item]
            code = "09" if trigger == "A06" else disposition
            if code:
                coding = [{"system": "http://snomed.info/sct", "code": _SNOMED.get(code, code)}]
                state["hospitalization"] = {"dischargeDisposition": {"coding": coding}}
            if not location:
                state.pop("location")
        else:
            return
        posted = json.loads(json.dumps(state))  # a copy, as sent then
        self.encounters.append(Posted(sent_at, posted, 200 if ack == "AA" else 422))

    def msh(self, trigger: str, version: str, at: datetime, kind: str = "ADT") -> str:
        self._control += 1
        structure = "^ADT_A01" if version == "2.5.1" and kind == "ADT" else ""
        message_type = f"{kind}^{trigger}{structure}"
        if version == "2.3" and self._control % 5 == 0:
            message_type = kind  # some 2.3 senders leave the trigger to EVN-1
        stamp = at.astimezone(LONDON).strftime("%Y%m%d%H%M%S")
        return (
            f"MSH|^~\\&|CERNER|{FACILITY}|UECFLOW|NEL|{stamp}||{message_type}|"
            f"C{self._control:07d}|P|{version}"
        )

    def merge(self, at: datetime) -> None:
        kept, gone = self.patient(), self.patient()
        segments = [
            self.msh("A40", "2.5.1", at),
            f"EVN|A40|{_ts(self.rng, at)}",
            _pid(kept),
            f"MRG|{gone.nhs_number}^^^NHS^NH~M{self.rng.randrange(10**6)}^^^RQX^MR",
        ]
        self.messages.append(Sent(at, "\r".join(segments) + "\r", "AA"))

    def lab_result(self, at: datetime) -> None:
        patient = self.patient()
        segments = [
            self.msh("R01", "2.5.1", at, kind="ORU"),
            _pid(patient),
            "OBR|1||L1|CBC",
            "OBX|1|NM|HB||131|g/L",
        ]
        self.messages.append(Sent(at, "\r".join(segments) + "\r", "AR"))


def _pv1(
    writer: _Writer,
    visit: Visit,
    at: datetime,
    trigger: str,
    disposition: str,
    location: str,
    patient_class: str,
    admission_type: str,
) -> str:
    rng = writer.rng
    fields = [""] * 52
    fields[1] = "1"
    fields[2] = "I" if trigger == "A06" else patient_class
    fields[3] = f"ED^MAJ^{rng.randrange(1, 30)}^{location}" if location else ""
    fields[4] = admission_type
    if trigger == "A06":
        fields[3] = f"W12^B^{rng.randrange(1, 30)}^{FACILITY}"
        fields[6] = f"ED^MAJ^1^{FACILITY}"
    fields[7] = "C1234^Okafor^Ada~C9876^Lindqvist^Tove"  # repeated: two attending doctors
    fields[19] = visit.number.replace("^", "\\S\\").replace("&", "\\T\\")
    fields[36] = disposition
    fields[44] = _ts(rng, visit.arrived)
    if trigger == "A03":
        fields[45] = _ts(rng, at)
    return "PV1|" + "|".join(fields[1:]).rstrip("|")


def _encounter(visit: Visit, patient_class: str) -> dict[str, object]:
    """The Encounter's first state, with what an EPR puts about the patient (never read)."""
    patient = visit.patient
    born = patient.birth_date
    return {
        "resourceType": "Encounter",
        "status": "in-progress",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                  "code": "EMER" if patient_class == "E" else "AMB"},
        "identifier": [{"system": "https://fhir.homerton.nhs.uk/Id/visit", "value": visit.number}],
        "contained": [{"resourceType": "Patient", "id": "p",
                       "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number",
                                       "value": patient.nhs_number}],
                       "name": [{"family": patient.family, "given": [patient.given]}],
                       "birthDate": f"{born[:4]}-{born[4:6]}-{born[6:]}",
                       "address": [{"line": [_STREETS[1]], "city": "London"}]}],
        "subject": {"reference": "#p", "display": f"{patient.given} {patient.family}"},
        "location": [{"location": {"identifier": {"value": FACILITY}}}],
        "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/encounter-modeOfArrival",
                       "valueCoding": {"system": "http://terminology.hl7.org/CodeSystem/v2-0430",
                                       "code": visit.mode}}],
    }  # fmt: skip


def _pid(patient: Patient) -> str:
    return (
        f"PID|1||{patient.nhs_number}^^^NHS^NH~M{patient.nhs_number[3:]}^^^RQX^MR||"
        f"{patient.family}^{patient.given}^^^Mx~{patient.family}^{patient.given[:3]}^^^^^N||"
        f"{patient.birth_date}|U|||{_STREETS[1]}^^London^^E8 1RR^GBR~{_STREETS[2]}^^London"
    )


def _ts(rng: random.Random, at: datetime) -> str:
    """An HL7 time: local, as most EPRs send it, or with its offset; always with the offset
    where the local time alone is ambiguous (the hour repeated in October) or does not exist."""
    local = at.astimezone(LONDON)
    naive = local.replace(tzinfo=None)
    read_back = naive.replace(tzinfo=LONDON, fold=0).astimezone(UTC)
    if rng.random() < 0.2 or read_back != at.astimezone(UTC).replace(microsecond=0):
        return local.strftime("%Y%m%d%H%M%S%z")
    return local.strftime("%Y%m%d%H%M%S")


def _event(kind: str, visit: Visit, at: datetime, **extra: object) -> dict[str, object]:
    moment = rfc3339(at.replace(microsecond=0))
    return {
        "event_id": f"truth-{kind}-{visit.number}-{moment}",
        "event_type": kind,
        "occurred_at": moment,
        "site": SITE,
        "attendance_id": f"truth-{visit.number}",
        **extra,
    }


def _outcome(rng: random.Random) -> str:
    draw = rng.random()
    return "discharged" if draw < 0.9 else "transferred" if draw < 0.95 else "left_before_treatment"
