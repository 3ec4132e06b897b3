"""The worker's /metrics body: rendered from the whole state, and reused while it is fresh."""

from __future__ import annotations

import math
import time

from prometheus_client import CollectorRegistry, Counter, generate_latest

# A /metrics render reads the whole state on the event loop (10 - 40 ms with NEL's 40 h): at
# 20 scrapes a second that starved the agents. A render is reused until RENDER_REUSE_FACTOR
# times its own cost has passed, so rendering takes at most a fifth of the loop however often
# /metrics is asked, but never past RENDER_REUSE_MAX_SECONDS: a body is never older than that
# plus its render time.
RENDER_REUSE_FACTOR = 5.0
RENDER_REUSE_MAX_SECONDS = 0.5


class Exposition:
    """The /metrics body, rendered again only when the last one is old enough (see
    RENDER_REUSE_FACTOR). A reused body is served whole, so its values stay those of its
    `uecflow_as_of_timestamp_seconds`."""

    def __init__(self, metrics: CollectorRegistry) -> None:
        self._metrics = metrics
        self._body = b""
        self._rendered_at = -math.inf  # monotonic seconds, taken just before the as-of instant
        self._reuse_for = 0.0
        # What scraping costs the worker, apart from what its events cost (a benchmark that
        # polls /metrics would otherwise count its own polling as the worker's work).
        self._cpu = Counter(
            "uecflow_exposition_cpu_seconds",
            "CPU time this worker spent rendering /metrics.",
            registry=metrics,
        )

    def body(self) -> bytes:
        now = time.monotonic()
        if now - self._rendered_at >= self._reuse_for:
            cpu = time.thread_time()  # the event loop's thread, where the render runs
            self._body = generate_latest(self._metrics)
            self._cpu.inc(time.thread_time() - cpu)
            self._rendered_at = now
            took = time.monotonic() - now
            self._reuse_for = min(RENDER_REUSE_MAX_SECONDS, took * RENDER_REUSE_FACTOR)
        return self._body
