"""The daily sitrep's fields, in its order, and which of uecflow's metrics fills each. Pure.

Field names and order are those of NHS England's published "UEC Daily SitRep" web file (the
2022-23 time series, whose sheet and column headings mirror the web form; the ambulance
sheet's from the files of earlier winters). A field uecflow cannot compute is kept, empty,
with the reason, so that the row still lines up with the form (docs/sitrep.md).

The reporting period is the London day D, 00:00:00 to 23:59:59; the bed figures are the
snapshot at 08:00 on the day of reporting, D + 1 (NHS England, "Process and definitions for
the daily situation report web form").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from streams.core.instants import LONDON
from streams.core.metrics import METRIC, Value

Values = Mapping[str, Value]  # a site's or a trust's metric values, by metric name
When = Literal["beds", "day"]  # the 08:00 snapshot on D + 1, or the end of day D


@dataclass(frozen=True, slots=True)
class Field:
    sheet: str  # the sitrep's sheet (section) the field is on
    name: str  # the field's heading, as the sitrep writes it
    when: When
    # From the metric values as of `when`: None where uecflow cannot fill it (`why_not`).
    value: Callable[[Values], Value] | None = None
    why_not: str = ""
    metrics: tuple[str, ...] = ()  # the metrics `value` reads

    @property
    def filled(self) -> bool:
        return self.value is not None


def _metric(name: str) -> Callable[[Values], Value]:
    assert METRIC[name].unit == "count", f"{name}: the sitrep's fields are counts"
    return lambda values: values[name]


def _between_30_and_60(values: Values) -> Value:
    """Handovers over 30 and at most 60 minutes: those over 30 less those over 60."""
    over_30, over_60 = values["handovers_over_30_today"], values["handovers_over_60_today"]
    return None if over_30 is None or over_60 is None else over_30 - over_60


def _filled(sheet: str, name: str, when: When, metric: str) -> Field:
    return Field(sheet, name, when, _metric(metric), metrics=(metric,))


def _empty(sheet: str, name: str, when: When, why: str) -> Field:
    return Field(sheet, name, when, why_not=why)


_VOID = "no event says a bed is void (unavailable to non-covid admissions)"
_PAEDS = "paediatric G&A ward snapshots are accepted but not counted by any metric yet"
_FLU = "no event carries a diagnosis"
_LONG_STAY = "ward snapshots carry no inpatient's length of stay"
_CLOSURES = "no event reports an A&E closure or divert"

FIELDS: tuple[Field, ...] = (
    _filled("Adult G&A beds", "Adult G&A Beds Open", "beds", "ga_beds_open"),
    _empty(
        "Adult G&A beds",
        "Adult G&A beds unavailable to non-covid admissions \u201cvoid\u201d",
        "beds",
        _VOID,
    ),
    _filled("Adult G&A beds", "Adult G&A beds occ'd", "beds", "ga_beds_occupied"),
    _empty("Paediatric G&A beds", "Paeds G&A Beds Open", "beds", _PAEDS),
    _empty(
        "Paediatric G&A beds",
        "Paeds G&A beds unavailable to non-covid admissions \u201cvoid\u201d",
        "beds",
        _VOID,
    ),
    _empty("Paediatric G&A beds", "Paeds G&A beds occ'd", "beds", _PAEDS),
    _filled("Adult critical care", "CC Adult Open", "beds", "cc_beds_open"),
    _filled("Adult critical care", "CC Adult Occ", "beds", "cc_beds_occupied"),
    _empty("Flu", "G&A flu beds", "beds", _FLU),
    _empty("Flu", "CC flu beds", "beds", _FLU),
    _empty("Beds Occ by long stay patients", "> 21 days", "beds", _LONG_STAY),
    _empty("Beds Occ by long stay patients", "> 7 days", "beds", _LONG_STAY),
    _empty("A&E Closures", "A&E Closures", "day", _CLOSURES),
    _empty("A&E Diverts", "A&E Diverts", "day", _CLOSURES),
    _filled(
        "Ambulance Arrivals and Delays", "Arriving by ambulance", "day", "ambulance_arrivals_today"
    ),
    Field(
        "Ambulance Arrivals and Delays",
        "Delay 30-60 mins",
        "day",
        _between_30_and_60,
        metrics=("handovers_over_30_today", "handovers_over_60_today"),
    ),
    _filled("Ambulance Arrivals and Delays", "Delay >60 mins", "day", "handovers_over_60_today"),
)


def metrics_read(when: When) -> tuple[str, ...]:
    """Every metric the fields of `when` read."""
    return tuple(dict.fromkeys(m for f in FIELDS if f.when == when for m in f.metrics))


@dataclass(frozen=True, slots=True)
class Instants:
    """Where a day's figures are read: the beds at 08:00 on D + 1, the rest at D's end."""

    day: date

    @property
    def beds(self) -> datetime:
        return datetime.combine(self.day + timedelta(days=1), time(8), LONDON)

    @property
    def day_end(self) -> datetime:
        """The last instant of D in London (its counts "today" are D's whole day)."""
        midnight = datetime.combine(self.day + timedelta(days=1), time(0), LONDON)
        return midnight - timedelta(microseconds=1)

    def of(self, when: When) -> datetime:
        return self.beds if when == "beds" else self.day_end


def row(beds: Values, day: Values) -> dict[str, Value]:
    """One site's or trust's sitrep row, field by field (None: not filled)."""
    at = {"beds": beds, "day": day}
    return {f.name: None if f.value is None else f.value(at[f.when]) for f in FIELDS}
