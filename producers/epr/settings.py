"""One trust's EPR adapter configuration: where its sites are, what its codes mean, its keys.

Integration engines differ, so each trust's adapter reads a TOML file (docs/epr-adapters.md has
a commented example, `producers/epr/example-trust.toml`). Everything has a documented default
but the trust, its locations and its keys:

    trust = "R1H"
    [locations]                 # PV1-3 facility (or point of care) -> ODS site code
    "RLH" = "R1H12"
    [[keys]]                    # HMAC-SHA-256 keys; a visit uses the key in force at its start
    from = "2026-01-01T00:00:00Z"
    file = "r1h-2026.key"       # relative to this file; 32 bytes or more

A file that breaks a rule is refused whole, naming the rule, before the adapter listens.
"""

from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from uecflow.config import Registry

Outcome = Literal["admitted", "discharged", "transferred", "left_before_treatment", "other"]
ArrivalMode = Literal["ambulance", "walk_in", "other"]

MIN_KEY_BYTES = 32

# PV1-36 -> outcome. Table 0112 is user-defined (the standard suggests no values); these are the
# US billing (UB) codes many EPRs ship with. A trust maps its own in its settings file.
DEFAULT_DISPOSITIONS: dict[str, Outcome] = {
    "01": "discharged",  # home or self care
    "02": "transferred",  # another short-term general hospital
    "03": "transferred",  # skilled nursing facility
    "04": "transferred",  # intermediate care facility
    "05": "transferred",  # another type of institution
    "06": "discharged",  # home under the care of a home health service
    "07": "left_before_treatment",  # left against medical advice
    "09": "admitted",  # admitted as an inpatient to this hospital
    "20": "other",  # expired
}
# HL7 table 0430 (mode of arrival, PV2-38).
DEFAULT_ARRIVAL_MODES: dict[str, ArrivalMode] = {
    "A": "ambulance",
    "H": "ambulance",  # helicopter
    "C": "walk_in",  # car
    "F": "walk_in",  # on foot
    "P": "walk_in",  # public transport
    "O": "other",
    "U": "other",
}
# SNOMED CT discharge destinations (the ECDS's), as UK Core Encounters carry them.
DEFAULT_FHIR_DISPOSITIONS: dict[str, Outcome] = {
    "306689006": "discharged",  # discharge to home
    "306691003": "discharged",  # discharge to residential home
    "19712007": "transferred",  # patient transfer, to another health care facility
    "306706006": "admitted",  # discharge to ward
    "305398007": "other",  # admission to mortuary
}
FHIR_DTA_EXTENSION = "https://fhir.nel.nhs.uk/uecflow/StructureDefinition/decision-to-admit"


class AdapterSettingsError(ValueError):
    """The adapter's file cannot be used; the message says what to change."""


class HmacKey(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    starts: datetime = Field(alias="from")
    file: Path


class DecisionToAdmit(BaseModel):
    """How the trust's engine signals a decision to admit: a pending admit (`A14`), or an
    update (`A08`) whose `field` holds the decision's time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    trigger: Literal["A14", "A08"] = "A14"
    field: str = "PV2-8"  # v2.5 "expected admit date/time": many engines put the DTA there

    @field_validator("field")
    @classmethod
    def _a_field(cls, value: str) -> str:
        segment, _, number = value.partition("-")
        if len(segment) != 3 or not number.isdigit() or int(number) < 1:
            raise ValueError("must name a field as SEGMENT-NUMBER, like PV2-8")
        return value


class AdapterFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    trust: str
    timezone: str = "Europe/London"
    locations: dict[str, str]
    site_component: Literal["facility", "point_of_care"] = "facility"
    emergency_classes: tuple[str, ...] = ("E",)
    # PV1-4 (HL7 table 0007) of an A01/A06 that ends an ED attendance: emergency, accident.
    emergency_admission_types: tuple[str, ...] = ("E", "A")
    decision_to_admit: DecisionToAdmit = DecisionToAdmit()
    dispositions: dict[str, Outcome] = Field(default_factory=lambda: dict(DEFAULT_DISPOSITIONS))
    missing_disposition: Outcome = "other"
    arrival_modes: dict[str, ArrivalMode] = Field(
        default_factory=lambda: dict(DEFAULT_ARRIVAL_MODES)
    )
    department_types: dict[str, Annotated[int, Field(ge=1, le=3)]] = Field(default_factory=dict)
    fhir_dispositions: dict[str, Outcome] = Field(
        default_factory=lambda: dict(DEFAULT_FHIR_DISPOSITIONS)
    )
    fhir_decision_to_admit_extension: str = FHIR_DTA_EXTENSION
    keys: list[HmacKey] = Field(min_length=1)


class AdapterSettings:
    """A trust's adapter file, checked against the registry, with its keys read."""

    def __init__(self, file: AdapterFile, keys: tuple[tuple[datetime, bytes], ...]) -> None:
        self.file = file
        self.trust = file.trust
        self.zone = ZoneInfo(file.timezone)
        # Newest first: a visit takes the first key that started at or before it.
        self.keys = tuple(sorted(keys, key=lambda pair: pair[0], reverse=True))

    def site_of(self, location: str) -> str | None:
        return self.file.locations.get(location)


def load_adapter_settings(path: Path, registry: Registry) -> AdapterSettings:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        file = AdapterFile.model_validate(raw)
    except OSError as error:
        raise AdapterSettingsError(f"cannot read {path}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise AdapterSettingsError(f"{path} is not TOML: {error}") from None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise AdapterSettingsError(f"{path}: {where}: {first['msg']}") from None
    return AdapterSettings(file, _checked(file, path, registry))


def _checked(
    file: AdapterFile, path: Path, registry: Registry
) -> tuple[tuple[datetime, bytes], ...]:
    if file.trust not in registry.trusts:
        raise AdapterSettingsError(f"{path}: trust {file.trust!r} is not in the registry")
    own = set(registry.sites_of_trust(file.trust))
    for location, site in file.locations.items():
        if site not in own:
            raise AdapterSettingsError(
                f"{path}: locations.{location}: {site!r} is not a site of trust {file.trust}"
            )
    try:
        ZoneInfo(file.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise AdapterSettingsError(f"{path}: timezone {file.timezone!r} is unknown") from None
    return tuple(_key(entry, path) for entry in file.keys)


def _key(entry: HmacKey, path: Path) -> tuple[datetime, bytes]:
    if entry.starts.tzinfo is None:
        raise AdapterSettingsError(f"{path}: keys.from must have a UTC offset")
    where = entry.file if entry.file.is_absolute() else path.parent / entry.file
    try:
        secret = where.read_bytes().strip()
    except OSError as error:
        raise AdapterSettingsError(f"cannot read the key {where}: {error.strerror}") from None
    if len(secret) < MIN_KEY_BYTES:
        raise AdapterSettingsError(f"the key {where} is shorter than {MIN_KEY_BYTES} bytes")
    return entry.starts, secret
