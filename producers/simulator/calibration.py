"""What the simulator is calibrated to: each site's demand and capacity, and NEL-wide patient flow.

Demand comes from the sample generator's per-site profiles (`SiteProfile`: NHS England monthly
A&E statistics and UEC sitreps, the NEL joint forward plan 2023/24; see DOMAIN.md). What is not
published per site (decision times, treatment spaces, G&A beds) was fitted by running the model
so that a normal winter weekday gives each site's four-hour performance, 08:00 occupancy and
handover delays; docs/simulator.md has the figures and how close they come, and
`uecflow simulate --calibration-report` measures them again. Each NEL-wide
parameter below says whether it is fitted (to which published figure), sourced, or assumed (a
plausible modelling choice with no NEL figure behind it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from statistics import NormalDist

from producers.simulator.london_hours import local_hour
from producers.simulator.sample import (
    AMBULANCES_BY_HOUR,
    ARRIVALS_BY_HOUR,
    DEFAULT_PROFILE,
    MENTAL_HEALTH_SHARE,
    PROFILES,
    WEEKDAY_FACTOR,
    SiteProfile,
)

# Reused from the sample generator's calibration, and read by the model from here.
__all__ = [
    "AMBULANCES_BY_HOUR",
    "ARRIVALS_BY_HOUR",
    "MENTAL_HEALTH_SHARE",
    "WEEKDAY_FACTOR",
    "site_calibration",
]


@dataclass(frozen=True, slots=True)
class Lognormal:
    """A right-skewed duration given by its mean and the sigma of its logarithm."""

    mean: float
    sigma: float

    def quantile(self, u: float) -> float:
        """The value at probability `u` (a uniform draw, kept so a patient's luck is the same in
        every scenario)."""
        z = _STANDARD_NORMAL.inv_cdf(min(max(u, 1e-12), 1 - 1e-12))
        return math.exp(math.log(self.mean) - self.sigma**2 / 2 + self.sigma * z)


_STANDARD_NORMAL = NormalDist()


@dataclass(frozen=True, slots=True)
class SiteCalibration:
    """A site's demand (its profile), pace and capacity. `decision_time` multiplies the NEL-wide
    time from a clinician starting to a decision (diagnostics, specialist review: the main thing
    that sets a site's four-hour performance apart). ED capacity is relative to demand: `cover`
    is the share of the average workload (arrivals x time to a decision) that the clinicians on
    duty at full day staffing carry at once; `spaces` is treatment spaces (cubicles and corridor
    trolleys) per average majors patient in work-up."""

    profile: SiteProfile
    decision_time: float
    spaces: float
    ga_beds: int  # adult G&A core beds
    cover: float = 1.1
    escalation_beds: int = 12  # extra G&A beds the site opens when patients wait for a bed

    @property
    def majors_spaces(self) -> int:
        return max(2, round(self._majors_load() * self.spaces / self.decision_time))

    @property
    def majors_clinicians(self) -> int:
        return max(1, round(self._majors_load() * self.cover))

    @property
    def minors_clinicians(self) -> int:
        minors = self._type1_walk_ins() * (1 - MENTAL_HEALTH_SHARE - MAJORS_SHARE_OF_WALK_INS)
        minutes = MINORS_TREATMENT.mean * self.decision_time
        return max(1, round(minors * minutes / _MINUTES_A_DAY * self.cover))

    @property
    def utc_clinicians(self) -> int:
        """The co-located urgent treatment centre (type 3): not a bottleneck anywhere in NEL."""
        walk_ins = self.profile.attendances - self.profile.ambulances
        load = walk_ins * self.profile.type3_share * UTC_TREATMENT.mean / _MINUTES_A_DAY
        return max(1, round(load * 1.6))

    def _type1_walk_ins(self) -> float:
        walk_ins = self.profile.attendances - self.profile.ambulances
        return walk_ins * (1 - self.profile.type3_share)

    def _majors_load(self) -> float:
        share = MENTAL_HEALTH_SHARE + MAJORS_SHARE_OF_WALK_INS
        majors = self.profile.ambulances + self._type1_walk_ins() * share
        return majors * MAJORS_WORKUP.mean * self.decision_time / _MINUTES_A_DAY


_MINUTES_A_DAY = 24 * 60.0
# Queen's: "its ED, built for 325 patients a day, sees over 650" (NEL figures in DOMAIN.md);
# the sample's ordinary weekday (600) is a little below what the simulator should reach.
_QUEENS = replace(PROFILES["RF4QH"], attendances=650)
# Fitted to "about 10,000 ED attendances in the week before Christmas 2022" at Barts Health
# (DOMAIN.md): its sites see this many more walk-ins than the sample's ordinary weekday.
BARTS_WALK_IN_FACTOR = 1.3


def _barts(code: str) -> SiteProfile:
    profile = PROFILES[code]
    walk_ins = (profile.attendances - profile.ambulances) * BARTS_WALK_IN_FACTOR
    return replace(profile, attendances=round(walk_ins) + profile.ambulances)


# Fitted by running the model (`uecflow simulate --calibration-report`, docs/simulator.md):
# four-hour performance follows `decision_time`, handover delays `spaces`, 08:00 occupancy and
# waits after a decision to admit `ga_beds`. Whipps Cross has so few cubicles that most crews
# wait for the release at 45 minutes: its handover delays then saturate in a surge.
_SITES: dict[str, SiteCalibration] = {
    "R1H12": SiteCalibration(
        _barts("R1H12"), decision_time=0.733, spaces=0.92, ga_beds=450, escalation_beds=24
    ),
    "R1HKH": SiteCalibration(_barts("R1HKH"), decision_time=0.669, spaces=0.25, ga_beds=315),
    "R1HNH": SiteCalibration(_barts("R1HNH"), decision_time=0.75, spaces=0.99, ga_beds=288),
    "RF4QH": SiteCalibration(
        _QUEENS, decision_time=1.335, spaces=0.99, ga_beds=540, escalation_beds=24
    ),
    "RF4DG": SiteCalibration(PROFILES["RF4DG"], decision_time=1.313, spaces=1.56, ga_beds=252),
    "RQXM1": SiteCalibration(PROFILES["RQXM1"], decision_time=0.49, spaces=0.95, ga_beds=290),
}


def site_calibration(code: str) -> SiteCalibration:
    """A site's calibration; a site a deployment added to the registry gets a plausible one."""
    known = _SITES.get(code)
    if known is not None:
        return known
    # Mid-table capacity; beds for about a fifth of attendances admitted for 4.3 days at 95%.
    profile = DEFAULT_PROFILE
    return SiteCalibration(
        profile, decision_time=1.0, spaces=1.4, ga_beds=round(profile.attendances * 0.9)
    )


# ---- NEL-wide patient flow -------------------------------------------------------------------

# Assumed: the case mix. Type 1 walk-ins needing majors assessment rather than minors, and the
# chance of admission by route (about a fifth of all attendances are admitted).
MAJORS_SHARE_OF_WALK_INS = 0.33
ADMIT_AMBULANCE = 0.55
ADMIT_WALK_IN_MAJORS = 0.38
ADMIT_MINORS = 0.03
ADMIT_CASUALTY = 0.65
# Assumed. Not admitted: the other `ae.departure` outcomes (left before treatment emerges from
# waits and patience).
DISCHARGED, TRANSFERRED = 0.91, 0.04  # the remainder: "other"
# Mental-health attendances: a share go on to a mental-health bed elsewhere ("transferred").
MH_TRANSFERRED = 0.35

# Assumed, then scaled per site by the fitted `decision_time`. Minutes from a clinician starting
# to the decision (investigations and results included).
MAJORS_WORKUP = Lognormal(165.0, 0.5)
MINORS_TREATMENT = Lognormal(55.0, 0.6)
# Sourced in kind (service times fall with workload: KC and Terwiesch 2009, Batt and Terwiesch
# 2017), assumed in size. Decisions come sooner: pace 1 / (1 + SPEED_UP * pressure), pressure is
# waiting / being seen - 1, from 0 up to PRESSURE_CAP (so at most twice as fast, with five
# waiting for each patient being seen).
PRESSURE_SPEED_UP = 0.25
PRESSURE_CAP = 4.0
UTC_TREATMENT = Lognormal(35.0, 0.6)
# Fitted to "36.8% of A&E mental-health attendances waited over 12 hours" (NEL joint forward
# plan): after assessment, the wait for a mental-health bed or liaison review (beds are ELFT's
# and NELFT's, outside the model).
MH_PLACEMENT = Lognormal(440.0, 1.0)
MH_PLACEMENT_CAP = 36 * 60.0  # minutes: by then a bed is found out of area
HANDOVER_MINUTES = (5.0, 12.0, 30.0)  # assumed: triangular (low, mode, high), space free
RELEASED_HANDOVER_MINUTES = (5.0, 10.0, 20.0)  # assumed: the same, released into the corridor
# Sourced (NHS England A&E waiting times rules): an ambulance patient's four-hour clock starts at
# handover or 15 minutes after arrival, whichever is earlier.
AMBULANCE_CLOCK_START_MINUTES = 15.0
# Sourced: London's release to respond (since January 2023, DOMAIN.md): a crew kept waiting this
# long hands over into corridor care, unconditionally: it is the rule, not a spare trolley.
RELEASE_TO_RESPOND_MINUTES = 45.0
TRANSFER_TO_WARD_MINUTES = (15.0, 60.0)  # assumed
# Assumed. Hours a walk-in waits for treatment before giving up: about 2% of those kept waiting
# 4 hours leave (left before treatment), one in eight of those kept 8 hours.
PATIENCE = Lognormal(27.5, 0.8)

# Assumed: days of the clinical part of an emergency admission (a stay averages 4.3 days with
# the wait once medically fit, median 3.2).
CLINICAL_STAY = Lognormal(3.1, 0.95)
# Fitted to "10.79% of G&A beds occupied by patients medically fit for discharge" (NEL joint
# forward plan) at the 08:00 sitrep. Discharge pathways (DOMAIN.md: 0 home; 1 home with
# support; 2 community bed; 3 care home): share, and the wait in days to arrange the support.
PATHWAYS: tuple[tuple[float, Lognormal | None], ...] = (
    (0.80, None),
    (0.11, Lognormal(1.0, 0.7)),
    (0.05, Lognormal(2.5, 0.7)),
    (0.04, Lognormal(4.0, 0.7)),
)
# Assumed. Relative discharges by London hour: wards discharge in the afternoon, hardly at night;
# rounds find patients medically fit at the same pace.
DISCHARGES_BY_HOUR = (
    0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.0, 2.0, 3.5,
    5.0, 6.5, 7.5, 8.0, 7.5, 6.5, 5.0, 3.5, 2.0, 1.0, 0.5, 0.2,
)  # fmt: skip
# Assumed. Hours from a pathway 0 patient being found medically fit to leaving the ward.
DISCHARGE_PREPARATION = Lognormal(0.5, 0.5)
WEEKEND_DISCHARGE_RATE = 0.7  # chance a patient medically fit at the weekend goes before Monday
# Assumed. Hours from a discharge to the bed being ready for the next patient: cleaned, the
# ward told, the bed manager's allocation made.
BED_TURNAROUND_HOURS = 2.0
# Assumed, all three: how a site responds to bed pressure. Without them a bed-saturated site
# (Whipps Cross) gridlocks within days. Open a ward's escalation beds when this many admitted
# patients wait for a bed.
ESCALATION_TRIGGER = 15
# While patients wait for a bed, from 08:00 to 20:00 the discharge lounge takes up to this many
# ready patients an hour out of their beds before their discharge slot.
DISCHARGE_LOUNGE_HOURS = (8, 20)
DISCHARGE_LOUNGE_PLACES = 6
# Admission avoidance: with more than AVOIDANCE_FROM patients waiting for a bed, the chance of
# admission is divided by 1 + AVOIDANCE_SLOPE for each one more.
AVOIDANCE_FROM = 10
AVOIDANCE_SLOPE = 0.02

# Assumed. Clinicians on duty by London hour, as a share of the day's full staffing.
STAFFING_BY_HOUR = (
    0.65, 0.65, 0.6, 0.6, 0.6, 0.6, 0.65, 0.7, 0.85, 1.0, 1.0, 1.0,
    1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.9, 0.8, 0.7,
)  # fmt: skip

# Assumed. Winter pressure: at full winter (mid-January, weight 1) the model is calibrated; by
# midsummer (weight 0) conveyances, the admitted share and lengths of stay are this much lower.
SUMMER_RELIEF_AMBULANCES = 0.08
SUMMER_RELIEF_ADMISSIONS = 0.10
SUMMER_RELIEF_STAY = 0.12
WINTER_PEAK_DAY_OF_YEAR = 15


def winter_factor(at: float, summer_relief: float) -> float:
    """1 at the height of winter, `1 - summer_relief` at midsummer, smoothly in between."""
    day_of_year = local_hour(at).day.timetuple().tm_yday
    weight = (1 + math.cos(2 * math.pi * (day_of_year - WINTER_PEAK_DAY_OF_YEAR) / 365.25)) / 2
    return 1 - summer_relief * (1 - weight)
