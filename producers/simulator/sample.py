"""A seeded, reproducible stream of contract events for the NEL sites: a sample day or a load test.

A sketch calibrated to published NEL figures (attendances, four-hour and 12-hour waits, handover
delays, adult G&A occupancy), not a model of patient flow: every attendance, conveyance and ward
snapshot is drawn independently from its site's profile. The same seed always gives the same lines.

    uecflow sample --start 2025-11-20 --days 1 --seed 7 > samples/nel-day.jsonl
"""

from __future__ import annotations

import argparse
import heapq
import json
import random
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import accumulate, cycle
from typing import Any
from zoneinfo import ZoneInfo

from uecflow.command import runs
from uecflow.config import Registry

LONDON = ZoneInfo("Europe/London")
HOUR = 3600
# The previous day's afternoon is generated too, so the first day opens with patients already
# in the department (some of them heading for a 12-hour wait) and wards already reported.
WARM_UP_FROM_HOUR = 12


@dataclass(frozen=True, slots=True)
class SiteProfile:
    """A site's published shape: daily volumes, waits and beds."""

    attendances: int  # A&E attendances on an ordinary weekday
    within_4h: float  # type 1, non-mental-health share within 4 h
    over_12h: float  # type 1, non-mental-health share over 12 h
    type3_share: float  # attendances seen in a co-located urgent treatment centre
    ambulances: int  # conveyances a day
    handover_over_60: float
    ga_wards: int
    other_wards: tuple[str, ...]
    ga_occupancy: float


_ALL_OTHER_WARDS = ("adult_critical_care", "paediatric_ga", "maternity", "mental_health")

PROFILES: dict[str, SiteProfile] = {
    "R1H12": SiteProfile(450, 0.70, 0.015, 0.0, 85, 0.04, 16, _ALL_OTHER_WARDS, 0.955),
    "R1HKH": SiteProfile(330, 0.68, 0.018, 0.06, 75, 0.15, 13, _ALL_OTHER_WARDS[:3], 0.995),
    "R1HNH": SiteProfile(300, 0.66, 0.015, 0.08, 60, 0.05, 8, _ALL_OTHER_WARDS[1:], 0.95),
    "RF4QH": SiteProfile(600, 0.52, 0.030, 0.0, 100, 0.08, 16, _ALL_OTHER_WARDS, 0.965),
    "RF4DG": SiteProfile(300, 0.46, 0.028, 0.10, 55, 0.05, 7, _ALL_OTHER_WARDS[:2], 0.945),
    "RQXM1": SiteProfile(330, 0.89, 0.005, 0.0, 60, 0.02, 9, _ALL_OTHER_WARDS[:3], 0.935),
}
# A site a deployment added to the registry still gets a plausible day.
DEFAULT_PROFILE = SiteProfile(350, 0.65, 0.025, 0.0, 65, 0.05, 10, _ALL_OTHER_WARDS[:2], 0.95)

# Relative arrivals by London local hour: quiet 03:00-07:00, busy 10:00-20:00.
ARRIVALS_BY_HOUR = (
    2.4, 1.9, 1.5, 1.2, 1.0, 1.0, 1.3, 2.1, 3.6, 5.0, 5.9, 6.1,
    6.0, 5.8, 5.7, 5.6, 5.6, 5.6, 5.7, 5.5, 5.0, 4.4, 3.7, 3.0,
)  # fmt: skip
# Ambulance conveyances are flatter: 999 calls do not wait for the morning.
AMBULANCES_BY_HOUR = (
    3.3, 3.0, 2.7, 2.4, 2.2, 2.2, 2.5, 3.0, 3.8, 4.6, 5.2, 5.4,
    5.4, 5.3, 5.2, 5.1, 5.0, 5.0, 4.9, 4.8, 4.6, 4.3, 3.9, 3.6,
)  # fmt: skip
WEEKDAY_FACTOR = (1.07, 1.02, 1.0, 1.0, 1.0, 0.96, 0.97)  # Monday first

ADMITTED_SHARE = 0.30
MENTAL_HEALTH_SHARE = 0.05
MH_WITHIN_4H, MH_OVER_12H = 0.30, 0.368
TYPE3_WITHIN_4H = 0.97
NCTR_SHARE = 0.108
SNAPSHOT_HOURS = {
    8: 0.01,
    14: -0.015,
    20: 0.0,
}  # London hour: occupancy shift (discharges by 14:00)
OTHER_OCCUPANCY = {
    "adult_critical_care": 0.88,
    "paediatric_ga": 0.80,
    "maternity": 0.75,
    "mental_health": 0.95,
}
OTHER_WARD_NAMES = {
    "adult_critical_care": "Critical Care Unit",
    "paediatric_ga": "Children's Ward",
    "maternity": "Maternity Ward",
    "mental_health": "Mental Health Assessment Unit",
}
OTHER_CORE_BEDS = {
    "adult_critical_care": (8, 20),
    "paediatric_ga": (15, 25),
    "maternity": (20, 32),
    "mental_health": (12, 20),
}
NOT_ADMITTED = (("discharged", 0.86), ("left_before_treatment", 0.07), ("other", 0.04))
LATE_SHARE = 0.03  # delivered 1-10 minutes after it happened (interface engine batches)
DUPLICATE_SHARE = 0.002
# About one line in a thousand breaks the contract, taking each kind of breakage in turn so that
# even a one-day sample shows every one of them on the rejects path.
BAD_GAP = (500, 1500)

Fields = dict[str, Any]
# One compact encoder for every line: json.dumps builds a new one per call with custom separators.
_ENCODER = json.JSONEncoder(separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class _Ward:
    name: str
    ward_type: str
    core: int
    escalation: int  # the most escalation beds it can open


@dataclass(slots=True)
class _Site:
    code: str
    profile: SiteProfile
    wards: tuple[_Ward, ...]


@dataclass(slots=True)
class _Stream:
    """Events made so far, handed out in delivery order once nothing earlier can still be made."""

    rng: random.Random
    pending: list[tuple[int, int, int, str]] = field(default_factory=list)
    numbers: dict[str, int] = field(default_factory=dict)
    made: int = 0

    def add(self, site: str, event_type: str, at: int, fields: Fields) -> None:
        number = self.numbers.get(site, 0) + 1
        self.numbers[site] = number
        event = {
            "event_id": f"evt-{site}-{number}",
            "event_type": event_type,
            "occurred_at": _stamp(at),
            "site": site,
            **fields,
        }
        late = self.rng.randint(60, 600) if self.rng.random() < LATE_SHARE else 0
        self.made += 1
        heapq.heappush(self.pending, (at + late, self.made, at, _dumps(event)))

    def release(self, before: int) -> Iterator[str]:
        """Everything delivered before `before`: the caller makes nothing that happens earlier."""
        while self.pending and self.pending[0][0] < before:
            yield heapq.heappop(self.pending)[3]

    def drain(self, end: int) -> Iterator[str]:
        """The rest, except what would only happen after the generated period."""
        while self.pending:
            _, _, at, line = heapq.heappop(self.pending)
            if at < end:
                yield line


def generate(
    *, start: date, days: int, seed: int, registry: Registry, dirty: bool = True
) -> Iterator[str]:
    """JSON lines (no newline) for `days` London days from `start`, plus the afternoon before.

    Lines come in delivery order: by occurred_at, except a few events a few minutes late. With
    `dirty`, about 0.2% of lines are re-sent and 0.1% break the contract; the clean lines are
    the same either way, so `dirty=False` yields exactly the lines a parser should accept.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    rng = random.Random(seed)
    sites = [_site(rng, code) for code in registry.sites]
    lines = _clean(rng, sites, start, days)
    if not dirty:
        return lines
    # A separate generator, so the dirt never shifts the clean lines.
    return _with_dirt(lines, random.Random(f"uecflow-dirt-{seed}"), registry)


def _site(rng: random.Random, code: str) -> _Site:
    profile = PROFILES.get(code, DEFAULT_PROFILE)
    return _Site(code, profile, _wards(rng, profile))


def _wards(rng: random.Random, profile: SiteProfile) -> tuple[_Ward, ...]:
    general = [
        _Ward(
            name=f"Ward {3 + index // 4}{'ABCD'[index % 4]}",
            ward_type="adult_ga",
            core=rng.randint(20, 30),
            escalation=rng.randint(2, 6) if rng.random() < 0.35 else 0,
        )
        for index in range(profile.ga_wards)
    ]
    others = [
        _Ward(OTHER_WARD_NAMES[kind], kind, rng.randint(*OTHER_CORE_BEDS[kind]), 0)
        for kind in profile.other_wards
    ]
    return tuple(general + others)


def _clean(rng: random.Random, sites: list[_Site], start: date, days: int) -> Iterator[str]:
    stream = _Stream(rng)
    for offset in range(-1, days):
        day = start + timedelta(days=offset)
        hours = _hour_starts(day)
        from_hour = WARM_UP_FROM_HOUR if offset < 0 else 0
        for site in sites:
            _site_day(stream, site, day, hours, from_hour)
        yield from stream.release(_midnight(day + timedelta(days=1)))
    yield from stream.drain(_midnight(start + timedelta(days=days)))


def _site_day(stream: _Stream, site: _Site, day: date, hours: list[int], from_hour: int) -> None:
    rng, profile = stream.rng, site.profile
    volume = WEEKDAY_FACTOR[day.weekday()] * rng.gauss(1.0, 0.04)
    for at in _arrivals(rng, profile.attendances * volume, ARRIVALS_BY_HOUR, hours, from_hour):
        _attendance(stream, site.code, profile, at)
    for at in _arrivals(rng, profile.ambulances * volume, AMBULANCES_BY_HOUR, hours, from_hour):
        _conveyance(stream, site.code, profile, at)
    for hour, shift in SNAPSHOT_HOURS.items():
        if hour >= from_hour:
            for ward in site.wards:
                _ward_state(stream, site, ward, hours[hour], shift)


def _arrivals(
    rng: random.Random, mean: float, curve: Sequence[float], hours: list[int], from_hour: int
) -> list[int]:
    picked = rng.choices(range(24), cum_weights=_cumulative(curve), k=round(mean))
    return sorted(hours[hour] + rng.randrange(HOUR) for hour in picked if hour >= from_hour)


def _cumulative(curve: Sequence[float]) -> list[float]:
    return list(accumulate(curve))


def _attendance(stream: _Stream, site: str, profile: SiteProfile, arrived: int) -> None:
    rng = stream.rng
    type3 = rng.random() < profile.type3_share
    mental_health = not type3 and rng.random() < MENTAL_HEALTH_SHARE
    admitted = not type3 and rng.random() < ADMITTED_SHARE
    within, over = _wait_shares(profile, type3, mental_health, admitted)
    stay = _stay(rng, within, over, type3)
    token = _token(rng)
    arrival: Fields = {
        "attendance_id": token,
        "department_type": 3 if type3 else 1,
        "arrival_mode": _arrival_mode(rng, type3),
        "mental_health": mental_health,
    }
    stream.add(site, "ae.arrival", arrived, arrival)
    if admitted:
        decided = arrived + _until_decision(rng, stay)
        stream.add(site, "ae.decision_to_admit", decided, {"attendance_id": token})
    outcome = "admitted" if admitted else _not_admitted(rng)
    stream.add(site, "ae.departure", arrived + stay, {"attendance_id": token, "outcome": outcome})


def _wait_shares(
    profile: SiteProfile, type3: bool, mental_health: bool, admitted: bool
) -> tuple[float, float]:
    """(share within 4 h, share over 12 h) for this kind of patient at this site."""
    if type3:
        return TYPE3_WITHIN_4H, 0.0
    if mental_health:
        return MH_WITHIN_4H, MH_OVER_12H
    # Patients who go home are quicker; solve for the admitted share so the blend hits the site.
    home = min(0.97, profile.within_4h + 0.10)
    if admitted:
        blended = (profile.within_4h - (1 - ADMITTED_SHARE) * home) / ADMITTED_SHARE
        return max(0.05, blended), profile.over_12h * 2.2
    return home, profile.over_12h * 0.5


def _stay(rng: random.Random, within: float, over: float, type3: bool) -> int:
    """Seconds in the department."""
    draw = rng.random()
    if draw < within:
        # Type 1 departures bunch up before the four-hour mark.
        minutes = rng.triangular(10, 240, 60) if type3 else rng.triangular(15, 240, 170)
    elif draw < 1 - over:
        minutes = rng.triangular(241, 720, 270)
    else:
        minutes = 721 + min(rng.expovariate(1 / 300), 1800)
    return int(minutes * 60)


def _until_decision(rng: random.Random, stay: int) -> int:
    # Long waits are mostly waits for a bed: the decision came early, then the trolley wait.
    share = rng.uniform(0.08, 0.35) if stay > 12 * HOUR else rng.uniform(0.3, 0.8)
    return int(stay * share)


def _arrival_mode(rng: random.Random, type3: bool) -> str:
    draw = rng.random()
    if not type3 and draw < 0.25:
        return "ambulance"
    return "other" if draw > 0.95 else "walk_in"


def _not_admitted(rng: random.Random) -> str:
    draw = rng.random()
    for outcome, share in NOT_ADMITTED:
        if draw < share:
            return outcome
        draw -= share
    return "transferred"


def _token(rng: random.Random) -> str:
    # Opaque like a trust's pseudonymisation output; 16 hex digits never read as an NHS number.
    return f"{rng.getrandbits(64):016x}"


def _conveyance(stream: _Stream, site: str, profile: SiteProfile, arrived: int) -> None:
    rng = stream.rng
    band = rng.random()
    if band < profile.handover_over_60:
        minutes = 61 + min(rng.expovariate(1 / 45), 300)
    elif band < profile.handover_over_60 * 1.6:
        # The 45-60 minute band London's release-to-respond rule watches: about 0.6 of the
        # over-60 count in the published handover delay figures' shape.
        minutes = rng.uniform(45.5, 60)
    else:
        minutes = rng.triangular(8, 45, 18)
    token = _token(rng)
    stream.add(site, "ambulance.arrival", arrived, {"handover_id": token})
    stream.add(site, "ambulance.handover", arrived + int(minutes * 60), {"handover_id": token})


def _ward_state(stream: _Stream, site: _Site, ward: _Ward, at: int, shift: float) -> None:
    rng = stream.rng
    beds_open = ward.core + rng.randint(0, ward.escalation)
    general = ward.ward_type == "adult_ga"
    level = (site.profile.ga_occupancy if general else OTHER_OCCUPANCY[ward.ward_type]) + shift
    # A full hospital has no slack: its wards vary less. Full wards take a couple in unfunded beds.
    spread = 0.01 + 0.5 * max(0.0, 1 - level)
    occupied = max(0, min(beds_open + 2, round(beds_open * rng.gauss(level, spread))))
    nctr = _nctr(rng, occupied) if general else 0
    state: Fields = {
        "ward": ward.name,
        "ward_type": ward.ward_type,
        "beds_open_core": ward.core,
        "beds_open_escalation": beds_open - ward.core,
        "beds_occupied": occupied,
        "nctr": nctr,
    }
    stream.add(site.code, "beds.ward_state", at, state)


def _nctr(rng: random.Random, occupied: int) -> int:
    return min(occupied, max(0, round(rng.gauss(occupied * NCTR_SHARE, 1.0))))


def _hour_starts(day: date) -> list[int]:
    """The UTC instant (epoch seconds) at which each London local hour of `day` starts."""
    return [
        int(datetime(day.year, day.month, day.day, hour, tzinfo=LONDON).timestamp())
        for hour in range(24)
    ]


def _midnight(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=LONDON).timestamp())


def _stamp(at: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


def _dumps(event: Fields) -> str:
    return _ENCODER.encode(event)


def _with_dirt(lines: Iterable[str], rng: random.Random, registry: Registry) -> Iterator[str]:
    """Re-send some lines a little later and slip in a few that break the contract."""
    resend: list[tuple[int, str]] = []
    breakages = cycle(_BREAKAGES)
    breakage, due = next(breakages), rng.randint(*BAD_GAP)
    for index, line in enumerate(lines):
        yield line
        if rng.random() < DUPLICATE_SHARE:
            heapq.heappush(resend, (index + rng.randint(3, 60), line))
        if index >= due and _fits(breakage, line):
            yield breakage(rng, json.loads(line), registry)
            breakage, due = next(breakages), index + rng.randint(*BAD_GAP)
        while resend and resend[0][0] <= index:
            yield heapq.heappop(resend)[1]
    yield from (line for _, line in sorted(resend))


Breakage = Callable[[random.Random, Fields, Registry], str]


def _fits(breakage: Breakage, line: str) -> bool:
    return breakage not in _BED_BREAKAGES or '"event_type":"beds.ward_state"' in line


def _local_time_without_offset(_rng: random.Random, event: Fields, _registry: Registry) -> str:
    event["occurred_at"] = event["occurred_at"].removesuffix("Z")
    return _dumps(event)


def _site_not_in_registry(rng: random.Random, event: Fields, registry: Registry) -> str:
    # A trust-wide feed leaking a site that has no A&E in the registry.
    code = rng.choice(("R1HM0", "RF4CE", "RQX01"))
    while code in registry.sites:
        code += "X"
    event["site"] = code
    return _dumps(event)


def _patient_identifier(rng: random.Random, event: Fields, _registry: Registry) -> str:
    # 999 numbers are NHS England's reserved test range: never a real patient's.
    event["nhs_number"] = f"999{rng.randrange(10**7):07d}"
    return _dumps(event)


def _truncated(rng: random.Random, event: Fields, _registry: Registry) -> str:
    text = _dumps(event)
    return text[: rng.randrange(len(text) // 2, len(text) - 1)]


def _nctr_over_occupied(rng: random.Random, event: Fields, _registry: Registry) -> str:
    event["nctr"] = event["beds_occupied"] + rng.randint(1, 5)
    return _dumps(event)


def _count_as_text(_rng: random.Random, event: Fields, _registry: Registry) -> str:
    # A spreadsheet export quoting its numbers.
    event["beds_occupied"] = str(event["beds_occupied"])
    return _dumps(event)


_BED_BREAKAGES: tuple[Breakage, ...] = (_nctr_over_occupied, _count_as_text)
_BREAKAGES: tuple[Breakage, ...] = (
    _local_time_without_offset,
    _site_not_in_registry,
    _nctr_over_occupied,
    _patient_identifier,
    _truncated,
    _count_as_text,
)


def _run(args: argparse.Namespace, registry: Registry) -> int:
    lines = generate(
        start=args.start, days=args.days, seed=args.seed, registry=registry, dirty=not args.clean
    )
    sys.stdout.writelines(f"{line}\n" for line in lines)
    sys.stdout.flush()
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `uecflow sample`."""
    parser.description = "Write a seeded, realistic stream of NEL contract events as JSON Lines."
    parser.add_argument("--start", type=date.fromisoformat, required=True, help="YYYY-MM-DD")
    parser.add_argument("--days", type=_positive, default=1, help="London days (default 1)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument(
        "--clean", action="store_true", help="no re-sent or contract-breaking lines"
    )
    runs(parser, _run)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value
