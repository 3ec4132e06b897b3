"""The Faust app as built, before it runs: where it listens, and what /health says."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from faust.types import TP
from prometheus_client import CollectorRegistry

from streams.topics import Topics
from streams.worker.app import WorkerSettings, build_app, health
from streams.worker.pipeline import Pipeline
from tests.events_builder import REGISTRY, at

NOW = at("2025-11-20T12:00:00Z")


def test_the_web_pages_listen_only_where_host_says() -> None:
    app, _ = build_app(
        WorkerSettings(web_host="127.0.0.1", topics=Topics(prefix="t-bind")), REGISTRY
    )
    assert app.conf.web_bind == "127.0.0.1"


def _app(*, rebalancing: bool, remaining: dict[Any, int]) -> Any:
    recovery = SimpleNamespace(active_remaining=lambda: remaining)
    return SimpleNamespace(
        rebalancing=rebalancing, in_recovery=False, tables=SimpleNamespace(recovery=recovery)
    )


def test_health_is_ready_only_once_the_state_is_recovered_and_no_rebalance_is_under_way() -> None:
    pipeline = Pipeline(REGISTRY, lambda *_: None, lambda: NOW, CollectorRegistry())
    changelog = TP("t-worker-flow-state-changelog", 3)
    assert health(_app(rebalancing=False, remaining={changelog: 120}), pipeline) == {
        "status": "recovering",
        "changelog_remaining": {"t-worker-flow-state-changelog/3": 120},
    }
    pipeline.recover([])
    assert health(_app(rebalancing=False, remaining={}), pipeline) == {"status": "ready"}
    assert health(_app(rebalancing=True, remaining={}), pipeline)["status"] == "recovering"
