"""The metrics of every site as of one instant, and their trust, place and system totals."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from streams.core.metrics import FlowParts, Value, metric_values
from uecflow.config import Registry


@dataclass(frozen=True, slots=True)
class FlowSnapshot:
    as_of: datetime
    sites: Mapping[str, FlowParts]
    registry: Registry

    def parts_of(self, site_codes: Iterable[str]) -> FlowParts:
        return FlowParts.total(self.sites[code] for code in site_codes)

    def site(self, code: str) -> dict[str, Value]:
        return metric_values(self.sites[code])

    def trust(self, code: str) -> dict[str, Value]:
        return metric_values(self.parts_of(self.registry.sites_of_trust(code)))

    def place(self, name: str) -> dict[str, Value]:
        return metric_values(self.parts_of(self.registry.sites_of_place(name)))

    def system(self) -> dict[str, Value]:
        return metric_values(self.parts_of(self.sites))
