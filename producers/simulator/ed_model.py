"""One site as a discrete-event model: its emergency department, ambulances and G&A wards.

Walk-ins and ambulances arrive as non-homogeneous Poisson processes (hour of day, day of week,
winter). An ambulance patient is handed over when a cubicle is free, and keeps it until they
leave the department, or at 45 minutes into corridor care whatever the department's state
(London's release to respond); walk-ins are assessed seated.
Every patient then waits for a clinician (majors, minors or the urgent treatment centre). A
patient with a decision to admit waits for a ward bed, which frees only when an inpatient goes
home: so bed pressure fills the spaces and holds ambulances at the door. Four-hour performance,
12-hour waits, handover delays and occupancy are not drawn, they follow. Pure: no clock, no I/O.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from events.contract import Event
from producers.simulator import calibration as cal
from producers.simulator.london_hours import DAY, HOUR, MINUTE, local_hour
from producers.simulator.scenarios import MAX_DEMAND_FACTOR, Casualties, SiteScenario
from producers.simulator.scheduler import Scheduler
from producers.simulator.site_feed import SiteFeed
from producers.simulator.wards import GeneralWards, StayFate, Ward, build_wards

# The model runs this long before the period asked for, so the department and the wards are in
# their usual state (and some patients already long in the department) when events start.
WARM_UP = 2 * DAY
_WALK_IN_CURVE = [share / sum(cal.ARRIVALS_BY_HOUR) for share in cal.ARRIVALS_BY_HOUR]
_AMBULANCE_CURVE = [share / sum(cal.AMBULANCES_BY_HOUR) for share in cal.AMBULANCES_BY_HOUR]


@dataclass(frozen=True, slots=True)
class Fate:
    """Every random draw a patient's journey needs, made at arrival as uniforms: the same
    patient then meets the same luck in every scenario, and only their waits differ."""

    token: str
    accept_u: float  # thinning: does this candidate arrive at all, at the scenario's rate
    kind_u: float
    mode_u: float
    treatment_u: float
    admit_u: float
    outcome_u: float
    patience_u: float
    placement_u: float
    handover_u: float
    transfer_u: float
    stay: StayFate

    @classmethod
    def draw(cls, rng: random.Random) -> Fate:
        r = rng.random
        token = f"{rng.getrandbits(64):016x}"
        return cls(token, r(), r(), r(), r(), r(), r(), r(), r(), r(), r(), StayFate.draw(rng))


@dataclass(slots=True, eq=False)
class Patient:
    fate: Fate
    path: str  # "majors", "minors" or "utc"
    mental_health: bool
    arrival_mode: str
    admit_chance: float
    arrived_at: float | None = None
    dta_at: float | None = None
    space: Pool[Conveyance] | None = None  # the cubicle they hold (None: corridor or seated)
    started: bool = False  # a clinician has started: the patient no longer gives up
    gone: bool = False

    @property
    def stay(self) -> StayFate:
        return self.fate.stay

    @property
    def token(self) -> str:
        return self.fate.token


@dataclass(slots=True, eq=False)
class Conveyance:
    token: str
    patient: Patient
    arrived_at: float
    gone: bool = False  # placed in a cubicle or released to the corridor: no longer queueing


class _Waiting(Protocol):
    gone: bool  # no longer queueing: left, or placed by another queue


Item = TypeVar("Item", bound=_Waiting)


@dataclass(slots=True)
class Pool(Generic[Item]):
    """A counted resource with a first-come queue; a queued item that has gone is skipped."""

    capacity: int
    start: Callable[[Item], None]
    busy: int = 0
    queue: deque[Item] = field(default_factory=deque)

    def request(self, item: Item) -> None:
        self.queue.append(item)
        self._start_waiting()

    def release(self) -> None:
        self.busy -= 1
        self._start_waiting()

    def resize(self, capacity: int) -> None:
        self.capacity = capacity
        self._start_waiting()

    def pace(self) -> float:
        """How long a job takes relative to a quiet day. Clinicians decide sooner as a queue
        builds (service times fall with workload in EDs: KC and Terwiesch 2009, Batt and
        Terwiesch 2017; senior review at the front door, streaming, flex staff)."""
        # Only a queue longer than those being seen: a little more work is not done faster.
        pressure = len(self.queue) / max(1, self.capacity) - 1
        return 1 / (1 + cal.PRESSURE_SPEED_UP * min(cal.PRESSURE_CAP, max(0.0, pressure)))

    def _start_waiting(self) -> None:
        queue = self.queue
        while queue and self.busy < self.capacity:
            item = queue.popleft()
            if not item.gone:
                self.busy += 1
                self.start(item)


class SiteModel:
    """One site, simulated from `WARM_UP` before `send_from` until `end`; events from
    `send_from` on (and, at `send_from`, those of patients already there)."""

    def __init__(
        self,
        calibration: cal.SiteCalibration,
        scenario: SiteScenario,
        *,
        seed: int,
        send_from: float,
        end: float,
    ) -> None:
        self.site = scenario.site
        self.calibration = calibration
        self.scenario = scenario
        self.send_from, self.end = send_from, end
        self.scheduler = Scheduler(send_from - WARM_UP)
        self.feed = SiteFeed(self.site, scenario)
        self._seed = seed
        self._walk_in_rng = self._rng("walk-ins")
        self._ambulance_rng = self._rng("ambulances")
        self.wards: GeneralWards[Patient] = build_wards(
            self.scheduler,
            calibration,
            self._rng("wards"),
            self._stay_factor,
            self._support_factor,
            self._bed_found,
        )
        self.cubicles: Pool[Conveyance] = Pool(calibration.majors_spaces, self._enter_cubicle)
        self.majors: Pool[Patient] = Pool(calibration.majors_clinicians, self._start_workup)
        self.minors: Pool[Patient] = Pool(calibration.minors_clinicians, self._start_treatment)
        self.utc: Pool[Patient] = Pool(calibration.utc_clinicians, self._start_treatment)
        self._in_department: dict[str, Patient] = {}
        self._at_the_door: dict[str, Conveyance] = {}
        self._start()

    def _rng(self, purpose: str) -> random.Random:
        # One stream per site and purpose: a site's draws never depend on another site's.
        return random.Random(f"{self._seed}:{self.site}:{purpose}")

    def events(self) -> Iterator[Event]:
        """The site's events in occurred_at order (its warm-up's patients sent at the start)."""
        sent, scheduler = self.feed.sent, self.scheduler
        while True:
            while sent:
                yield sent.popleft()
            if scheduler.next_time >= self.end:
                return
            scheduler.step()

    # ---- set-up ------------------------------------------------------------------------------

    def _start(self) -> None:
        begin = self.scheduler.now
        self.wards.fill_at_start(self.calibration.profile.ga_occupancy)
        self._staff()
        self.scheduler.at(math.floor(begin / HOUR) * HOUR + HOUR, self._on_the_hour)
        self.scheduler.at(self.send_from, self._open_feed)
        self._next_walk_in(begin)
        self._next_ambulance(begin)
        for index, casualties in enumerate(self.scenario.casualties):
            self._expect(casualties, self._rng(f"casualties-{index}"))

    def _open_feed(self, _: None) -> None:
        """Start sending: first whoever is already in the department or at the door, with the
        times they arrived, then every ward's state (unless the hourly one is due now)."""
        self.feed.sending = True
        backlog: list[tuple[float, int, str, Patient | Conveyance]] = []
        for patient in self._in_department.values():
            backlog.append((patient.arrived_at or self.scheduler.now, 1, "arrival", patient))
            if patient.dta_at is not None:
                backlog.append((patient.dta_at, 2, "dta", patient))
        for conveyance in self._at_the_door.values():
            backlog.append((conveyance.arrived_at, 0, "ambulance", conveyance))
        for at, _order, what, subject in sorted(backlog, key=lambda item: item[:2]):
            if isinstance(subject, Conveyance):
                self.feed.ambulance_arrival(at, subject.token)
            elif what == "arrival":
                self._send_arrival(subject)
            else:
                self.feed.decision_to_admit(at, subject.token)
        if self.scheduler.now % HOUR:
            self._send_ward_states()

    # ---- arrivals ----------------------------------------------------------------------------

    def _next_walk_in(self, after: float) -> None:
        per_day = self.calibration.profile.attendances - self.calibration.profile.ambulances
        # Walk-ins do not rise in winter (summer is as busy); conveyances do.
        self._next_candidate(after, per_day, _WALK_IN_CURVE, 0.0, self._walk_in_rng, self._walk_in)

    def _next_ambulance(self, after: float) -> None:
        per_day = self.calibration.profile.ambulances
        relief = cal.SUMMER_RELIEF_AMBULANCES
        self._next_candidate(
            after, per_day, _AMBULANCE_CURVE, relief, self._ambulance_rng, self._ambulance
        )

    def _next_candidate(
        self,
        after: float,
        per_day: float,
        curve: list[float],
        summer_relief: float,
        rng: random.Random,
        arrive: Callable[[None], None],
    ) -> None:
        # Piecewise constant by hour; exponential gaps are memoryless, so a gap that crosses the
        # hour is redrawn from the hour's end at the next hour's rate. Candidates come at the
        # thinning ceiling; each arrives with the scenario's share of it.
        t = after
        while True:
            hour = local_hour(t)
            rate = per_day * curve[hour.hour] * cal.WEEKDAY_FACTOR[hour.weekday]
            rate *= cal.winter_factor(t, summer_relief) * MAX_DEMAND_FACTOR
            gap = rng.expovariate(rate / HOUR)
            if t + gap < hour.ends:
                self.scheduler.at(t + gap, arrive)
                return
            t = hour.ends

    def _walk_in(self, _: None) -> None:
        now = self.scheduler.now
        self._next_walk_in(now)
        fate = Fate.draw(self._walk_in_rng)
        if fate.accept_u * MAX_DEMAND_FACTOR < self.scenario.multipliers(now).walk_ins:
            self._arrive_walking(self._walk_in_patient(fate))

    def _ambulance(self, _: None) -> None:
        now = self.scheduler.now
        self._next_ambulance(now)
        token = f"{self._ambulance_rng.getrandbits(64):016x}"
        fate = Fate.draw(self._ambulance_rng)
        if fate.accept_u * MAX_DEMAND_FACTOR < self.scenario.multipliers(now).ambulances:
            self._arrive_by_ambulance(token, self._ambulance_patient(fate))

    def _expect(self, casualties: Casualties, rng: random.Random) -> None:
        gap = casualties.over / max(1, casualties.count)
        for index in range(casualties.count):
            fate = Fate.draw(rng)
            token = f"{rng.getrandbits(64):016x}"
            by_ambulance = fate.mode_u < casualties.by_ambulance
            patient = Patient(
                fate,
                path="majors",
                mental_health=False,
                arrival_mode="ambulance" if by_ambulance else "walk_in",
                admit_chance=cal.ADMIT_CASUALTY,
            )
            at = casualties.at + index * gap
            if by_ambulance:
                self.scheduler.at(at, self._casualty_by_ambulance, (token, patient))
            else:
                self.scheduler.at(at, self._arrive_walking, patient)

    def _casualty_by_ambulance(self, casualty: tuple[str, Patient]) -> None:
        self._arrive_by_ambulance(*casualty)

    def _walk_in_patient(self, fate: Fate) -> Patient:
        type3 = self.calibration.profile.type3_share
        mode = "walk_in" if fate.mode_u < 0.93 else "other"  # other: police, other services
        if fate.kind_u < type3:
            return Patient(fate, "utc", mental_health=False, arrival_mode=mode, admit_chance=0.0)
        within = (fate.kind_u - type3) / (1 - type3)
        if within < cal.MENTAL_HEALTH_SHARE:  # assessed in majors, then a mental-health bed
            return Patient(fate, "majors", mental_health=True, arrival_mode=mode, admit_chance=0.0)
        if within < cal.MENTAL_HEALTH_SHARE + cal.MAJORS_SHARE_OF_WALK_INS:
            chance = cal.ADMIT_WALK_IN_MAJORS
            return Patient(
                fate, "majors", mental_health=False, arrival_mode=mode, admit_chance=chance
            )
        chance = cal.ADMIT_MINORS
        return Patient(fate, "minors", mental_health=False, arrival_mode=mode, admit_chance=chance)

    def _ambulance_patient(self, fate: Fate) -> Patient:
        mental_health = fate.kind_u < cal.MENTAL_HEALTH_SHARE
        chance = 0.0 if mental_health else cal.ADMIT_AMBULANCE
        return Patient(
            fate,
            "majors",
            mental_health=mental_health,
            arrival_mode="ambulance",
            admit_chance=chance,
        )

    # ---- the department ----------------------------------------------------------------------

    def _arrive_walking(self, patient: Patient) -> None:
        self._clock_starts(patient)
        self._pool_of(patient).request(patient)
        self.scheduler.after(
            cal.PATIENCE.quantile(patient.fate.patience_u) * HOUR, self._give_up, patient
        )

    def _arrive_by_ambulance(self, token: str, patient: Patient) -> None:
        now = self.scheduler.now
        conveyance = Conveyance(token, patient, now)
        self._at_the_door[token] = conveyance
        self.feed.ambulance_arrival(now, token)
        delay = cal.AMBULANCE_CLOCK_START_MINUTES * MINUTE
        self.scheduler.after(delay, self._ambulance_clock, conveyance)
        self.cubicles.request(conveyance)
        self.scheduler.after(cal.RELEASE_TO_RESPOND_MINUTES * MINUTE, self._release, conveyance)

    def _ambulance_clock(self, conveyance: Conveyance) -> None:
        if conveyance.patient.arrived_at is None:
            self._clock_starts(conveyance.patient)

    def _clock_starts(self, patient: Patient) -> None:
        patient.arrived_at = self.scheduler.now
        self._in_department[patient.token] = patient
        self._send_arrival(patient)

    def _send_arrival(self, patient: Patient) -> None:
        department_type = 3 if patient.path == "utc" else 1
        self.feed.arrival(
            patient.arrived_at or self.scheduler.now,
            patient.token,
            department_type,
            patient.arrival_mode,
            patient.mental_health,
        )

    def _release(self, conveyance: Conveyance) -> None:
        """London's release to respond: after 45 minutes the crew hands over whatever the
        department's state, into corridor care (a chair or trolley that holds no cubicle)."""
        if not conveyance.gone:
            self._enter(conveyance, None)

    def _enter_cubicle(self, conveyance: Conveyance) -> None:
        self._enter(conveyance, self.cubicles)

    def _enter(self, conveyance: Conveyance, space: Pool[Conveyance] | None) -> None:
        conveyance.gone = True
        conveyance.patient.space = space
        # A crew released at 45 minutes hands over at once, in the corridor: no cubicle to ready.
        low, mode, high = (
            cal.HANDOVER_MINUTES if space is not None else cal.RELEASED_HANDOVER_MINUTES
        )
        minutes = _triangular(conveyance.patient.fate.handover_u, low, mode, high)
        self.scheduler.after(minutes * MINUTE, self._hand_over, conveyance)

    def _hand_over(self, conveyance: Conveyance) -> None:
        now = self.scheduler.now
        del self._at_the_door[conveyance.token]
        self.feed.handover(now, conveyance.token)
        patient = conveyance.patient
        if patient.arrived_at is None:
            self._clock_starts(patient)
        self.majors.request(patient)

    def _give_up(self, patient: Patient) -> None:
        if not patient.started and not patient.gone:
            self._depart(patient, "left_before_treatment")

    def _start_workup(self, patient: Patient) -> None:
        patient.started = True
        minutes = cal.MAJORS_WORKUP.quantile(patient.fate.treatment_u) * self._slowness(self.majors)
        self.scheduler.after(minutes * MINUTE, self._majors_decision, patient)

    def _start_treatment(self, patient: Patient) -> None:
        patient.started = True
        pool = self._pool_of(patient)
        duration = cal.UTC_TREATMENT if patient.path == "utc" else cal.MINORS_TREATMENT
        minutes = duration.quantile(patient.fate.treatment_u) * self._slowness(pool)
        self.scheduler.after(minutes * MINUTE, self._treated, patient)

    def _slowness(self, pool: Pool[Patient]) -> float:
        site_pace = 1.0 if pool is self.utc else self.calibration.decision_time
        return site_pace * pool.pace()

    def _pool_of(self, patient: Patient) -> Pool[Patient]:
        if patient.path == "majors":
            return self.majors
        return self.utc if patient.path == "utc" else self.minors

    def _majors_decision(self, patient: Patient) -> None:
        self.majors.release()
        if patient.mental_health:
            minutes = min(cal.MH_PLACEMENT.quantile(patient.fate.placement_u), cal.MH_PLACEMENT_CAP)
            self.scheduler.after(minutes * MINUTE, self._placed, patient)
        else:
            self._decide(patient)

    def _treated(self, patient: Patient) -> None:
        self._pool_of(patient).release()
        self._decide(patient)

    def _decide(self, patient: Patient) -> None:
        now = self.scheduler.now
        chance = patient.admit_chance * self._admission_factor(now)
        if patient.fate.admit_u < chance:
            patient.dta_at = now
            self.feed.decision_to_admit(now, patient.token)
            self.wards.request_bed(patient)
        else:
            self._depart(patient, _not_admitted(patient))

    def _placed(self, patient: Patient) -> None:
        transferred = patient.fate.outcome_u < cal.MH_TRANSFERRED
        self._depart(patient, "transferred" if transferred else "discharged")

    def _bed_found(self, patient: Patient, ward: Ward) -> None:
        low, high = cal.TRANSFER_TO_WARD_MINUTES
        minutes = low + (high - low) * patient.fate.transfer_u
        self.scheduler.after(minutes * MINUTE, self._reach_ward, (patient, ward))

    def _reach_ward(self, admission: tuple[Patient, Ward]) -> None:
        patient, ward = admission
        self._depart(patient, "admitted")
        self.wards.admit(patient, ward)

    def _depart(self, patient: Patient, outcome: str) -> None:
        patient.gone = True
        self._in_department.pop(patient.token, None)
        self.feed.departure(self.scheduler.now, patient.token, outcome)
        if patient.space is not None:
            patient.space.release()
            patient.space = None

    # ---- every hour --------------------------------------------------------------------------

    def _on_the_hour(self, _: None) -> None:
        self._staff()
        self.wards.review_pressure()
        self.wards.drift_other_wards()
        self._send_ward_states()
        self.scheduler.after(HOUR, self._on_the_hour)

    def _staff(self) -> None:
        now = self.scheduler.now
        share = cal.STAFFING_BY_HOUR[local_hour(now).hour]
        share *= self.scenario.multipliers(now).staffing
        self.majors.resize(max(1, round(self.calibration.majors_clinicians * share)))
        self.minors.resize(max(1, round(self.calibration.minors_clinicians * share)))
        self.utc.resize(max(1, round(self.calibration.utc_clinicians * share)))

    def _send_ward_states(self) -> None:
        now = self.scheduler.now
        for ward in self.wards.wards:
            self.feed.ward_state(now, ward)
        for other in self.wards.others:
            self.feed.ward_state(now, other.ward)

    # ---- winter and scenarios ----------------------------------------------------------------

    def _admission_factor(self, at: float) -> float:
        multiplier = self.scenario.multipliers(at).admissions
        # Admission avoidance: the longer the queue for beds, the more borderline patients go
        # home with same-day emergency care or a virtual ward instead.
        queue = max(0, len(self.wards.waiting) - cal.AVOIDANCE_FROM)
        avoidance = 1 / (1 + cal.AVOIDANCE_SLOPE * queue)
        return multiplier * avoidance * cal.winter_factor(at, cal.SUMMER_RELIEF_ADMISSIONS)

    def _stay_factor(self, at: float) -> float:
        multiplier = self.scenario.multipliers(at).length_of_stay
        return multiplier * cal.winter_factor(at, cal.SUMMER_RELIEF_STAY)

    def _support_factor(self, at: float) -> float:
        return self.scenario.multipliers(at).support_wait


def _not_admitted(patient: Patient) -> str:
    u = patient.fate.outcome_u
    if patient.path == "utc":
        return "discharged" if u < 0.97 else "other"
    if u < cal.DISCHARGED:
        return "discharged"
    return "transferred" if u < cal.DISCHARGED + cal.TRANSFERRED else "other"


def _triangular(u: float, low: float, mode: float, high: float) -> float:
    """The triangular distribution's quantile at `u`."""
    split = (mode - low) / (high - low)
    if u < split:
        return low + math.sqrt(u * (high - low) * (mode - low))
    return high - math.sqrt((1 - u) * (high - low) * (high - mode))
