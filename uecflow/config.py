"""NEL reference data: sites, trusts, places and targets, loaded from one replaceable TOML file."""

from __future__ import annotations

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
    over_12h_max: int
    mffd_rate_max: float
    # (first London day in force, minimum share), oldest first.
    ae_4h_performance_min: tuple[tuple[date, float], ...]
    stale_after_minutes: dict[str, float]
    # The highest OPEL level that is not told to the SCC: 2 tells it of OPEL 3 and 4.
    opel_level_max: int = 2

    def four_hour_min(self, day: date) -> float | None:
        """The four-hour standard in force on a London calendar day (None before the first)."""
        current = None
        for start, value in self.ae_4h_performance_min:
            if start <= day:
                current = value
        return current

    @property
    def four_hour_latest(self) -> float:
        """The newest four-hour standard in the schedule: what a static threshold shows."""
        return self.ae_4h_performance_min[-1][1]


@dataclass(frozen=True, slots=True)
class Email:
    """The SMTP relay alert e-mail goes through (NHSmail: STARTTLS on 587, authenticated)."""

    smarthost: str  # host:port
    sender: str
    username: str
    password_file: str  # read by Alertmanager: the password is never in a generated file
    require_tls: bool


@dataclass(frozen=True, slots=True)
class Alerting:
    """How breaches become pages: hold times, the four-hour floor, and who is told."""

    four_hour_min_departures: int
    # This share of the sites' feeds of one kind stale at once is a central fault, not theirs.
    central_stale_share: float
    # A trust whose events the gateway rejects at more than this share (15 min) is told.
    trust_rejected_share: float
    for_minutes: dict[str, float]
    # "scc", "platform" and one per trust code: "mailto:ADDRESS" (e-mail through `email`),
    # "msteams:URL" (a Microsoft Teams incoming webhook) or an http(s) URL (a webhook).
    receivers: dict[str, str]
    # Where people open uecflow: Grafana at /grafana, Prometheus at /prometheus, Alertmanager at
    # /alertmanager and the action cards at /runbooks/, behind one reverse proxy. Every link in
    # an alert starts with it: a message read on a phone needs absolute links.
    public_url: str
    email: Email
    keep_firing_minutes: float
    group_wait_seconds: float
    group_interval_seconds: float
    repeat_interval_hours: float


@dataclass(frozen=True, slots=True)
class Registry:
    sites: dict[str, Site]
    trusts: dict[str, Trust]
    targets: Targets
    lateness_horizon: timedelta
    future_tolerance: timedelta
    alerting: Alerting

    @property
    def places(self) -> tuple[str, ...]:
        return tuple(sorted({site.place for site in self.sites.values()}))

    def sites_of_trust(self, trust: str) -> tuple[str, ...]:
        return tuple(code for code, site in self.sites.items() if site.trust == trust)

    def sites_of_place(self, place: str) -> tuple[str, ...]:
        return tuple(code for code, site in self.sites.items() if site.place == place)


def load_registry(path: str | Path | None = None) -> Registry:
    """Load the reference data: `path`, else the NEL default shipped here."""
    name = str(path or "the default nel.toml")
    try:
        if path:
            text = Path(path).read_text(encoding="utf-8")
        else:
            text = resources.files("uecflow").joinpath("nel.toml").read_text(encoding="utf-8")
        return _registry_from(tomllib.loads(text))
    except ConfigError as error:
        raise ConfigError(f"{name}: {error}") from error
    except OSError as error:
        raise ConfigError(f"cannot read {name}: {error.strerror}") from error
    except KeyError as error:
        raise ConfigError(f"{name}: missing {error}") from error
    except (TypeError, ValueError) as error:  # includes TOML syntax and UTF-8 errors
        raise ConfigError(f"{name}: {error}") from error


def _registry_from(raw: dict[str, Any]) -> Registry:
    _unique("trust", [t["code"] for t in raw["trusts"]])
    _unique("site", [s["code"] for s in raw["sites"]])
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
    _scoring_off(raw.get("opel", {}))
    return Registry(
        sites=sites,
        trusts=trusts,
        targets=_targets_from(raw["targets"]),
        lateness_horizon=timedelta(hours=float(raw["flow"]["lateness_horizon_hours"])),
        future_tolerance=timedelta(hours=float(raw["flow"].get("future_tolerance_hours", 24))),
        alerting=_alerting_from(raw.get("alerting", {}), trusts),
    )


def _scoring_off(raw: dict[str, Any]) -> None:
    """OPEL scoring needs the framework's bands, weights and aggregation, which could not be
    read (docs/opel.md): the parameter table must stay empty rather than hold invented ones."""
    if not raw.get("parameters"):
        return
    if not str(raw.get("reference", "")).strip():
        raise ConfigError("opel.parameters: bands need the published framework's reference")
    raise ConfigError(
        "opel.parameters: OPEL scoring is not implemented (the framework's aggregation is not"
        " yet encoded and tested against its worked examples): leave the table empty"
    )


def _unique(kind: str, codes: list[str]) -> None:
    repeated = sorted({code for code in codes if codes.count(code) > 1})
    if repeated:
        raise ConfigError(f"{kind} code listed twice: {', '.join(repeated)}")


def _targets_from(raw: dict[str, Any]) -> Targets:
    entries = raw["ae_4h_performance_min"]
    if not all(type(entry["from"]) is date for entry in entries):
        raise ConfigError("ae_4h_performance_min: each 'from' must be a TOML date, e.g. 2025-04-01")
    schedule = sorted((entry["from"], float(entry["value"])) for entry in entries)
    return Targets(
        ga_occupancy_max=float(raw["ga_occupancy_max"]),
        handover_max_minutes=float(raw["handover_max_minutes"]),
        over_12h_max=int(raw.get("over_12h_max", 0)),
        mffd_rate_max=float(raw.get("mffd_rate_max", 0.15)),
        opel_level_max=_opel_level(raw.get("opel_level_max", 2)),
        ae_4h_performance_min=tuple(schedule),
        stale_after_minutes={k: float(v) for k, v in raw["stale_after_minutes"].items()},
    )


RECEIVER_KINDS = ("mailto:", "msteams:https://", "https://", "http://")


def _absolute(value: object) -> str:
    text = str(value).rstrip("/")
    if not text.startswith(("https://", "http://")) or len(text.split("/")[2]) == 0:
        raise ConfigError("alerting.public_url: must be an absolute http(s) URL")
    return text


def _email_from(raw: dict[str, Any]) -> Email:
    return Email(
        smarthost=str(raw.get("smarthost", "send.nhs.net:587")),
        sender=str(raw.get("from", "uecflow-alerts@nel.invalid")),
        username=str(raw.get("username", "")),
        password_file=str(raw.get("password_file", "")),
        require_tls=bool(raw.get("require_tls", True)),
    )


def _share(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise ConfigError(f"alerting.{name}: must be a share, above 0 and at most 1")
    return float(value)


def _opel_level(value: object) -> int:
    if type(value) is not int or not 1 <= value <= 4:
        raise ConfigError("targets.opel_level_max: must be an OPEL level, 1 to 4")
    return value


ALERT_HOLDS = (
    "occupancy",
    "four_hour",
    "over_12h",
    "handover",
    "mffd",
    "stale",
    "never_reported",
    "worker_down",
    "gateway_down",
    "rejected",
    "opel",
)


def _alerting_from(raw: dict[str, Any], trusts: dict[str, Trust]) -> Alerting:
    holds = dict.fromkeys(ALERT_HOLDS, 0.0) | {
        name: float(minutes) for name, minutes in raw.get("for_minutes", {}).items()
    }
    unknown = sorted(set(holds) - set(ALERT_HOLDS))
    if unknown:
        raise ConfigError(f"alerting.for_minutes: unknown alert {', '.join(unknown)}")
    receivers = {str(k): str(v) for k, v in raw.get("receivers", {}).items()}
    strangers = sorted(set(receivers) - {"scc", "platform", *trusts})
    if strangers:
        raise ConfigError(f"alerting.receivers: not a trust: {', '.join(strangers)}")
    unknown_kind = sorted(
        name for name, to in receivers.items() if not to.startswith(RECEIVER_KINDS)
    )
    if unknown_kind:
        raise ConfigError(
            f"alerting.receivers: {', '.join(unknown_kind)}: must start with"
            f" {', '.join(RECEIVER_KINDS)}"
        )
    default = receivers.get("scc", "http://127.0.0.1:9099/scc")
    receivers = {"scc": default, "platform": receivers.get("platform", default)} | {
        code: receivers.get(code, default) for code in trusts
    }
    return Alerting(
        four_hour_min_departures=int(raw.get("four_hour_min_departures", 20)),
        central_stale_share=_share(raw.get("central_stale_share", 0.5), "central_stale_share"),
        trust_rejected_share=_share(raw.get("trust_rejected_share", 0.05), "trust_rejected_share"),
        for_minutes=holds,
        receivers=receivers,
        public_url=_absolute(raw.get("public_url", "https://uecflow.nel.invalid")),
        email=_email_from(raw.get("email", {})),
        keep_firing_minutes=float(raw.get("keep_firing_minutes", 0)),
        group_wait_seconds=float(raw.get("group_wait_seconds", 30)),
        group_interval_seconds=float(raw.get("group_interval_seconds", 300)),
        repeat_interval_hours=float(raw.get("repeat_interval_hours", 4)),
    )
