"""Scenarios: what differs from a normal day, as effects that compose by `+`.

A scenario is three kinds of effect, each limited to some sites and a window of simulated time:
a pressure (demand, acuity, length of stay and staffing multiplied), casualties (a burst of extra
patients at one site) and a silence (a site's feed of one stream stops reaching uecflow). An
effect changes nothing before its window opens and nothing at a site it does not name: the
model draws every patient's fate in advance from per-site random streams, so a run with a
scenario and one without are the same patients until the scenario starts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from producers.simulator.london_hours import DAY, HOUR

StreamName = Literal["ae", "beds", "ambulance"]
SCENARIO_NAMES = ("normal", "winter-surge", "major-incident", "silent-feed")
# Arrivals are drawn at this multiple of the normal rate and thinned, so that a surge adds
# patients to the same day instead of redrawing it: no pressure may multiply demand beyond it.
MAX_DEMAND_FACTOR = 2.0
# A winter surge has been building for this long when the simulated period starts.
SURGE_LEAD_TIME = 3 * DAY


@dataclass(frozen=True, slots=True)
class Window:
    starts: float = float("-inf")
    ends: float = float("inf")

    def holds(self, at: float) -> bool:
        return self.starts <= at < self.ends


@dataclass(frozen=True, slots=True)
class Pressure:
    """Multipliers on a site's normal flow while the window holds (1.0: unchanged)."""

    sites: frozenset[str] | None  # None: every site
    window: Window
    walk_ins: float = 1.0
    ambulances: float = 1.0
    admissions: float = 1.0  # the chance that a patient is admitted
    length_of_stay: float = 1.0
    staffing: float = 1.0  # ED clinicians on duty
    support_wait: float = 1.0  # days to arrange a discharge pathway's support (care capacity)

    def applies(self, site: str, at: float) -> bool:
        return (self.sites is None or site in self.sites) and self.window.holds(at)


@dataclass(frozen=True, slots=True)
class Casualties:
    """Extra patients arriving at one site, evenly spread over `over` seconds from `at`."""

    site: str
    at: float
    count: int
    over: float = 2 * HOUR
    by_ambulance: float = 0.6


@dataclass(frozen=True, slots=True)
class Silence:
    """A site's feed of one stream stops: nothing of it reaches uecflow within the window."""

    site: str
    stream: StreamName
    window: Window


@dataclass(frozen=True, slots=True)
class Multipliers:
    walk_ins: float = 1.0
    ambulances: float = 1.0
    admissions: float = 1.0
    length_of_stay: float = 1.0
    staffing: float = 1.0
    support_wait: float = 1.0


NORMAL = Multipliers()


@dataclass(frozen=True, slots=True)
class Scenario:
    names: tuple[str, ...] = ("normal",)
    pressures: tuple[Pressure, ...] = ()
    casualties: tuple[Casualties, ...] = ()
    silences: tuple[Silence, ...] = ()

    def __add__(self, other: Scenario) -> Scenario:
        names = tuple(n for n in (*self.names, *other.names) if n != "normal") or ("normal",)
        return Scenario(
            names=names,
            pressures=self.pressures + other.pressures,
            casualties=self.casualties + other.casualties,
            silences=self.silences + other.silences,
        )

    def for_site(self, site: str) -> SiteScenario:
        return SiteScenario(
            site,
            tuple(p for p in self.pressures if p.sites is None or site in p.sites),
            tuple(c for c in self.casualties if c.site == site),
            tuple(s for s in self.silences if s.site == site),
        )


@dataclass(frozen=True, slots=True)
class SiteScenario:
    """The effects that touch one site: what its model and its feeds ask about."""

    site: str
    pressures: tuple[Pressure, ...]
    casualties: tuple[Casualties, ...]
    silences: tuple[Silence, ...]

    def multipliers(self, at: float) -> Multipliers:
        active = [p for p in self.pressures if p.window.holds(at)]
        if not active:
            return NORMAL
        return Multipliers(
            walk_ins=math.prod(p.walk_ins for p in active),
            ambulances=math.prod(p.ambulances for p in active),
            admissions=math.prod(p.admissions for p in active),
            length_of_stay=math.prod(p.length_of_stay for p in active),
            staffing=math.prod(p.staffing for p in active),
            support_wait=math.prod(p.support_wait for p in active),
        )

    def silenced(self, stream: str, at: float) -> bool:
        return any(s.stream == stream and s.window.holds(at) for s in self.silences)

    def change_points(self) -> tuple[float, ...]:
        """The instants at which this site's multipliers may change."""
        edges = {edge for p in self.pressures for edge in (p.window.starts, p.window.ends)}
        return tuple(sorted(edge for edge in edges if abs(edge) != float("inf")))


def normal() -> Scenario:
    return Scenario()


def winter_surge(start: float) -> Scenario:
    """Flu, RSV and norovirus at every site: a surge three days old when the period starts."""
    return Scenario(
        names=("winter-surge",),
        pressures=(
            Pressure(
                sites=None,
                window=Window(start - SURGE_LEAD_TIME),
                walk_ins=1.05,
                ambulances=1.10,  # respiratory illness: more 999 calls
                admissions=1.05,  # sicker patients
                length_of_stay=1.05,
                staffing=0.95,  # staff off sick
                support_wait=1.2,  # community and care teams stretched too: fewer discharges
            ),
        ),
    )


def major_incident(site: str, at: float, casualties: int = 50) -> Scenario:
    """A major incident near one site: casualties over two hours, most by ambulance."""
    return Scenario(names=("major-incident",), casualties=(Casualties(site, at, casualties),))


def silent_feed(
    site: str, stream: StreamName, at: float, lasting: float = float("inf")
) -> Scenario:
    """One site's feed of one stream goes silent at `at` (an interface engine down)."""
    return Scenario(
        names=("silent-feed",),
        silences=(Silence(site, stream, Window(at, at + lasting)),),
    )


def validate(scenario: Scenario, sites: Iterable[str]) -> None:
    """Refuse what the model cannot honour: demand beyond the thinning ceiling."""
    for site in sites:
        view = scenario.for_site(site)
        # Multipliers change only at change points: check every stretch, the first included.
        for at in (float("-inf"), *view.change_points()):
            factors = view.multipliers(at)
            if max(factors.walk_ins, factors.ambulances) > MAX_DEMAND_FACTOR:
                raise ValueError(
                    f"demand at {site} multiplied beyond {MAX_DEMAND_FACTOR:g}: "
                    "add casualties instead"
                )
