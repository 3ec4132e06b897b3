"""NEL reference data: sites, trusts, places and targets, loaded from one replaceable TOML file."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

CONFIG_ENV = "UECFLOW_CONFIG"


class ConfigError(ValueError):
    """The reference data file is missing something or contradicts itself."""


@dataclass(frozen=True, slots=True)
class Site:
    code: str
    name: str
    short_name: str
    trust: str
    place: str


@dataclass(frozen=True, slots=True)
class Trust:
    code: str
    name: str
    short_name: str


@dataclass(frozen=True, slots=True)
class Targets:
    ga_occupancy_max: float
    handover_max_minutes: float
    # (first London day in force, minimum share), oldest first.
    ae_4h_performance_min: tuple[tuple[date, float], ...]
    stale_after_minutes: dict[str, float]

    def four_hour_min(self, day: date) -> float | None:
        """The four-hour standard in force on a London calendar day (None before the first)."""
        current = None
        for start, value in self.ae_4h_performance_min:
            if start <= day:
                current = value
        return current


@dataclass(frozen=True, slots=True)
class Registry:
    sites: dict[str, Site]
    trusts: dict[str, Trust]
    targets: Targets
    lateness_horizon: timedelta

    @property
    def places(self) -> tuple[str, ...]:
        return tuple(sorted({site.place for site in self.sites.values()}))

    def sites_of_trust(self, trust: str) -> tuple[str, ...]:
        return tuple(code for code, site in self.sites.items() if site.trust == trust)

    def sites_of_place(self, place: str) -> tuple[str, ...]:
        return tuple(code for code, site in self.sites.items() if site.place == place)


def load_registry(path: str | Path | None = None) -> Registry:
    """Load the reference data: `path`, else $UECFLOW_CONFIG, else the NEL default shipped here."""
    chosen = path or os.environ.get(CONFIG_ENV)
    if chosen:
        text = Path(chosen).read_text(encoding="utf-8")
    else:
        text = resources.files("events").joinpath("nel.toml").read_text(encoding="utf-8")
    try:
        return _registry_from(tomllib.loads(text))
    except (KeyError, TypeError, ValueError) as error:
        raise ConfigError(f"invalid uecflow config {chosen or 'nel.toml'}: {error!r}") from error


def _registry_from(raw: dict[str, Any]) -> Registry:
    trusts = {
        t["code"]: Trust(code=t["code"], name=t["name"], short_name=t.get("short_name", t["name"]))
        for t in raw["trusts"]
    }
    sites = {
        s["code"]: Site(
            code=s["code"],
            name=s["name"],
            short_name=s.get("short_name", s["name"]),
            trust=s["trust"],
            place=s["place"],
        )
        for s in raw["sites"]
    }
    for site in sites.values():
        if site.trust not in trusts:
            raise ConfigError(f"site {site.code} names unknown trust {site.trust}")
    if not sites:
        raise ConfigError("the site registry is empty")
    return Registry(
        sites=sites,
        trusts=trusts,
        targets=_targets_from(raw["targets"]),
        lateness_horizon=timedelta(hours=float(raw["flow"]["lateness_horizon_hours"])),
    )


def _targets_from(raw: dict[str, Any]) -> Targets:
    schedule = sorted(
        (entry["from"], float(entry["value"])) for entry in raw["ae_4h_performance_min"]
    )
    return Targets(
        ga_occupancy_max=float(raw["ga_occupancy_max"]),
        handover_max_minutes=float(raw["handover_max_minutes"]),
        ae_4h_performance_min=tuple(schedule),
        stale_after_minutes={k: float(v) for k, v in raw["stale_after_minutes"].items()},
    )
