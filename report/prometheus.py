"""The Prometheus HTTP query API (instant and range queries), with errors that fit on one line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx


class PrometheusError(Exception):
    """Prometheus could not be reached or would not answer the query: the message says which."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One series' value at the query instant. Values are floats, NaN included, as sent."""

    labels: dict[str, str]
    value: float


@dataclass(frozen=True, slots=True)
class Series:
    """One series over a range: (Unix seconds, value) points in time order."""

    labels: dict[str, str]
    points: tuple[tuple[float, float], ...]


class PrometheusClient:
    def __init__(
        self, url: str, timeout: float = 10.0, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.url = url.rstrip("/")
        if not self.url.startswith(("http://", "https://")):
            raise PrometheusError(f"not an http:// or https:// URL: {url!r}")
        try:
            self._client = httpx.Client(base_url=self.url, timeout=timeout, transport=transport)
        except httpx.InvalidURL as error:
            raise PrometheusError(f"not a usable URL: {url!r}: {error}") from None

    def __enter__(self) -> PrometheusClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._client.close()

    def instant(self, expr: str, at: datetime) -> list[Sample]:
        data = self._query("/api/v1/query", {"query": expr, "time": _unix(at)}, "vector")
        return [Sample(dict(item["metric"]), float(item["value"][1])) for item in data["result"]]

    def range(self, expr: str, start: datetime, end: datetime, step: timedelta) -> list[Series]:
        params = {
            "query": expr,
            "start": _unix(start),
            "end": _unix(end),
            "step": f"{step.total_seconds():g}",
        }
        data = self._query("/api/v1/query_range", params, "matrix")
        return [
            Series(
                dict(item["metric"]),
                tuple((float(when), float(value)) for when, value in item["values"]),
            )
            for item in data["result"]
        ]

    def _query(self, path: str, params: dict[str, str], kind: str) -> dict[str, Any]:
        try:
            response = self._client.get(path, params=params)
        except httpx.InvalidURL as error:
            raise PrometheusError(f"not a usable URL: {self.url!r}: {error}") from None
        except httpx.HTTPError as error:
            raise PrometheusError(f"cannot reach Prometheus at {self.url}: {error}") from None
        body = _json(response)
        if body is None:
            raise PrometheusError(
                f"{self.url} answered HTTP {response.status_code} without the Prometheus"
                " query API's JSON: is it Prometheus?"
            )
        if body.get("status") != "success":
            raise PrometheusError(
                f"Prometheus at {self.url} refused the query: {body.get('error')}"
            )
        data: dict[str, Any] = body["data"]
        if data.get("resultType") != kind:
            raise PrometheusError(f"Prometheus answered a {data.get('resultType')}, not a {kind}")
        return data


def _json(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) and "status" in body else None


def _unix(moment: datetime) -> str:
    return f"{moment.timestamp():.3f}"
