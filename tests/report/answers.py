"""Prometheus answers as the report reads them, for the report's tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from report.prometheus import Sample
from report.situation import STREAMS
from streams.core.metrics import FRESHNESS
from uecflow.config import load_registry

REGISTRY = load_registry(None)
AT = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def site_labels(code: str) -> dict[str, str]:
    site = REGISTRY.sites[code]
    return {"site": code, "trust": site.trust, "place": site.place}


def sample(family: str, value: float, **labels: str) -> Sample:
    return Sample({"__name__": family, "job": "uecflow-worker", **labels}, value)


def fresh_feeds(at: datetime = AT, age: timedelta = timedelta(minutes=1)) -> list[Sample]:
    return [
        sample(FRESHNESS, (at - age).timestamp(), **site_labels(code), stream=stream)
        for code in REGISTRY.sites
        for stream in STREAMS
    ]
