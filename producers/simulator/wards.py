"""A site's wards: adult G&A beds that admitted patients wait for, and the wards' bed states.

A patient admitted from the ED takes a bed only when one is free: beds free as inpatients leave
and are ready for the next patient after a turnaround. Inpatients stay for the clinical part of
their admission and are found medically fit (no criteria to reside) by a ward or board round,
through the day at the pace the wards discharge. Pathway 0 patients go home within the hour;
the others wait for their pathway's support and leave at a discharge slot (mostly afternoons;
fewer at weekends). Occupancy, medically fit patients and the queue of patients waiting in the
ED for a bed all follow from that.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Generic, Protocol, TypeVar

from producers.simulator import calibration as cal
from producers.simulator.london_hours import DAY, HOUR, at_local, local_hour, next_day
from producers.simulator.sample import OTHER_CORE_BEDS, OTHER_OCCUPANCY, OTHER_WARD_NAMES
from producers.simulator.scheduler import Scheduler

_DISCHARGE_CDF = [c / sum(cal.DISCHARGES_BY_HOUR) for c in accumulate(cal.DISCHARGES_BY_HOUR)]
_PATHWAY_CDF = list(accumulate(share for share, _ in cal.PATHWAYS))
BEDS_PER_WARD = 28


@dataclass(frozen=True, slots=True)
class StayFate:
    """An admission's random draws (uniforms), made when the patient arrived so that every
    scenario gives the same patient the same stay."""

    clinical_u: float
    found_fit_u: float  # when in the day the rounds find the patient medically fit
    pathway_u: float
    pathway_wait_u: float
    discharge_hour_u: float
    weekend_u: float

    @classmethod
    def draw(cls, rng: random.Random) -> StayFate:
        r = rng.random
        return cls(r(), r(), r(), r(), r(), r())


class Admitted(Protocol):
    """What the wards need of a patient waiting in the ED for a bed."""

    @property
    def stay(self) -> StayFate: ...


Patient = TypeVar("Patient", bound=Admitted)


@dataclass(slots=True)
class Ward:
    name: str
    token: str  # makes the ward's snapshot event ids unique to this run
    ward_type: str
    core: int
    escalation: int  # beds it can open under pressure
    escalation_open: bool = False
    occupied: int = 0
    nctr: int = 0
    turning_round: int = 0  # empty, but not yet cleaned and ready for the next patient

    @property
    def open_beds(self) -> int:
        return self.core + (self.escalation if self.escalation_open else 0)

    @property
    def free(self) -> int:
        return self.open_beds - self.occupied - self.turning_round


@dataclass(slots=True, eq=False)
class Inpatient:
    ward: Ward
    stay: StayFate
    medically_fit: bool = False
    left: bool = False


@dataclass(slots=True)
class _OtherWard:
    """A ward outside adult G&A (critical care, children, maternity, mental health): reported,
    so that the exclusion shows, but not modelled patient by patient."""

    ward: Ward
    level: float


StayFactor = Callable[[float], float]  # length-of-stay multiplier at an instant


@dataclass(slots=True)
class GeneralWards(Generic[Patient]):
    """The adult G&A beds of one site and the patients waiting in the ED for them."""

    scheduler: Scheduler
    wards: list[Ward]
    others: list[_OtherWard]
    stay_factor: StayFactor
    support_factor: StayFactor  # multiplies the days to arrange a pathway's support
    on_bed: Callable[[Patient, Ward], None]
    rng: random.Random
    waiting: deque[Patient] = field(default_factory=deque)
    # Medically fit, support arranged, waiting for their discharge slot: the discharge lounge
    # can take them early. A dict keeps them in the order they became ready.
    ready: dict[Inpatient, None] = field(default_factory=dict)

    def request_bed(self, patient: Patient) -> None:
        self.waiting.append(patient)
        self._fill_beds()

    def fill_at_start(self, occupancy: float) -> None:
        """Beds as full as the site usually is, each patient part-way through their stay (some
        already medically fit, waiting for support to be arranged)."""
        for ward in self.wards:
            for _ in range(min(ward.core, round(ward.core * occupancy))):
                ward.occupied += 1
                self._part_way(ward)

    def _part_way(self, ward: Ward) -> None:
        now = self.scheduler.now
        # A bed is more likely to hold a long stay than a short one (length-biased sampling):
        # accept a drawn stay with probability in proportion to its length.
        while True:
            stay = StayFate.draw(self.rng)
            clinical = _clinical_days(stay, 1.0)
            total = min(clinical + _pathway_days(stay) + _MEAN_DAYS_TO_LEAVE, _LONGEST_STAY_DAYS)
            if self.rng.random() * _LONGEST_STAY_DAYS < total:
                break
        patient = Inpatient(ward, stay)
        elapsed = self.rng.random() * total
        if elapsed < clinical:
            remaining = (clinical - elapsed) * self.stay_factor(now)
            self.scheduler.at(now + remaining * DAY, self._judge_fit, patient)
            return
        patient.medically_fit = True
        ward.nctr += 1
        ready = now + (total - elapsed) * DAY
        self.scheduler.at(ready, self._support_arranged, patient)
        leaves = _discharge_slot(ready, stay.discharge_hour_u, stay.weekend_u)
        self.scheduler.at(leaves, self._discharge, patient)

    def review_pressure(self) -> None:
        """The hourly bed meeting: open escalation beds while patients wait for a bed and close
        them when none do; by day, move ready patients to the discharge lounge."""
        if len(self.waiting) >= cal.ESCALATION_TRIGGER:
            closed = [w for w in self.wards if w.escalation and not w.escalation_open]
            if closed:
                closed[0].escalation_open = True
        elif not self.waiting:
            for ward in self.wards:
                if ward.escalation_open and ward.occupied + ward.turning_round <= ward.core:
                    ward.escalation_open = False
                    break
        first, last = cal.DISCHARGE_LOUNGE_HOURS
        if self.waiting and first <= local_hour(self.scheduler.now).hour < last:
            for patient in list(self.ready)[: min(len(self.waiting), cal.DISCHARGE_LOUNGE_PLACES)]:
                self._discharge(patient)
        self._fill_beds()

    def drift_other_wards(self) -> None:
        for other in self.others:
            ward = other.ward
            target = round(ward.core * other.level)
            step = self.rng.choice((-1, 0, 1)) + (target > ward.occupied) - (target < ward.occupied)
            ward.occupied = max(0, min(ward.core, ward.occupied + step))

    def _fill_beds(self) -> None:
        while self.waiting:
            ward = max(self.wards, key=lambda w: w.free)
            if ward.free <= 0:
                return
            patient = self.waiting.popleft()
            ward.occupied += 1
            self.on_bed(patient, ward)

    def admit(self, patient: Patient, ward: Ward) -> None:
        """The patient reached the ward: the clinical part of the stay starts."""
        now = self.scheduler.now
        days = _clinical_days(patient.stay, self.stay_factor(now))
        self.scheduler.at(now + days * DAY, self._judge_fit, Inpatient(ward, patient.stay))

    def _judge_fit(self, patient: Inpatient) -> None:
        # Ward and board rounds find medically fit patients through the day, at the pace the
        # wards discharge them: the census then moves little from hour to hour.
        fit_at = _discharge_slot(self.scheduler.now, patient.stay.found_fit_u, _EVERY_DAY)
        self.scheduler.at(fit_at, self._become_fit, patient)

    def _become_fit(self, patient: Inpatient) -> None:
        patient.medically_fit = True
        patient.ward.nctr += 1
        stay = patient.stay
        days = _pathway_days(stay) * self.support_factor(self.scheduler.now)
        ready = self.scheduler.now + days * DAY
        self.scheduler.at(ready, self._support_arranged, patient)
        if days:  # support arranged: they leave at a discharge slot of that day or the next
            leaves = _discharge_slot(ready, stay.discharge_hour_u, stay.weekend_u)
        else:  # home the same day once medicines, letter and transport are ready
            leaves = ready + cal.DISCHARGE_PREPARATION.quantile(stay.discharge_hour_u) * HOUR
        self.scheduler.at(leaves, self._discharge, patient)

    def _support_arranged(self, patient: Inpatient) -> None:
        if not patient.left:
            self.ready[patient] = None

    def _discharge(self, patient: Inpatient) -> None:
        if patient.left:  # gone already, by the discharge lounge
            return
        patient.left = True
        self.ready.pop(patient, None)
        ward = patient.ward
        ward.occupied -= 1
        ward.nctr -= patient.medically_fit
        ward.turning_round += 1
        self.scheduler.after(cal.BED_TURNAROUND_HOURS * HOUR, self._bed_ready, ward)

    def _bed_ready(self, ward: Ward) -> None:
        ward.turning_round -= 1
        self._fill_beds()


def build_wards(
    scheduler: Scheduler,
    site: cal.SiteCalibration,
    rng: random.Random,
    stay_factor: StayFactor,
    support_factor: StayFactor,
    on_bed: Callable[[Patient, Ward], None],
) -> GeneralWards[Patient]:
    count = max(1, round(site.ga_beds / BEDS_PER_WARD))
    # Core beds spread evenly; escalation beds on the first few wards (their side rooms, day
    # areas and discharge lounges).
    cores = [site.ga_beds // count + (index < site.ga_beds % count) for index in range(count)]
    extra = [min(6, max(0, site.escalation_beds - 6 * index)) for index in range(count)]
    general = [
        Ward(f"Ward {3 + i // 4}{'ABCD'[i % 4]}", _token(rng), "adult_ga", core, escalation)
        for i, (core, escalation) in enumerate(zip(cores, extra, strict=True))
    ]
    others = [
        _OtherWard(
            Ward(OTHER_WARD_NAMES[kind], _token(rng), kind, rng.randint(*OTHER_CORE_BEDS[kind]), 0),
            OTHER_OCCUPANCY[kind],
        )
        for kind in site.profile.other_wards
    ]
    for other in others:
        other.ward.occupied = round(other.ward.core * other.level)
    return GeneralWards(scheduler, general, others, stay_factor, support_factor, on_bed, rng)


def _token(rng: random.Random) -> str:
    return f"{rng.getrandbits(64):016x}"


def _clinical_days(stay: StayFate, factor: float) -> float:
    return cal.CLINICAL_STAY.quantile(stay.clinical_u) * factor


def _pathway_days(stay: StayFate) -> float:
    pathway = min(bisect_right(_PATHWAY_CDF, stay.pathway_u), len(cal.PATHWAYS) - 1)
    wait = cal.PATHWAYS[pathway][1]
    return 0.0 if wait is None else wait.quantile(stay.pathway_wait_u)


_EVERY_DAY = 0.0  # a weekend draw that always allows: rounds find fit patients at weekends too
# From the clinical stay's end to leaving, for pathway 0: the round that finds them fit, then home.
_MEAN_DAYS_TO_LEAVE = 0.5
_LONGEST_STAY_DAYS = 25.0  # longer stays are rare enough to weigh as this long when sampling


def _discharge_slot(after: float, hour_u: float, weekend_u: float) -> float:
    """A discharge, or the round that finds a patient medically fit: at the patient's drawn
    point of the day's discharge curve, on the first day from `after` on where that point is
    still to come and that is a weekday (or a weekend day, if their weekend draw allows)."""
    day = local_hour(after).day
    while True:
        if day.weekday() < 5 or weekend_u < cal.WEEKEND_DISCHARGE_RATE:
            at = at_local(day, _discharge_hours(hour_u * _LAST_SLOT_SHARE))
            if at >= after:
                return at
        day = next_day(day)


# The latest point of the day's discharge curve drawn: the last few hours hold hardly any.
_LAST_SLOT_SHARE = 0.97


def _discharge_hours(share: float) -> float:
    """Hours into the day by which `share` of the day's discharges are made."""
    whole = min(bisect_right(_DISCHARGE_CDF, share), 23)
    below = _DISCHARGE_CDF[whole - 1] if whole else 0.0
    return whole + min(1.0, (share - below) / (_DISCHARGE_CDF[whole] - below))
