"""What the live worker does with one message, without Faust: admit, apply, count.

The Faust app (`streams.worker.app`) hands each message here; a test or a benchmark can too.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter

from events.contract import OpelDeclared
from streams.core.flow import FlowState, Outcome
from streams.core.instants import Instant, to_instant
from streams.core.intake import (
    REFUSAL_KINDS,
    Intake,
    Keys,
    Refused,
    Stream,
    misrouted,
    strayed,
    too_late,
)
from streams.core.snapshot import FlowSnapshot
from streams.worker.changelog import LoggedStores, Send
from uecflow.config import Registry


class Pipeline:
    """The flow state of the sites this worker owns, fed one message at a time."""

    def __init__(
        self,
        registry: Registry,
        send: Send,
        clock: Callable[[], datetime],
        metrics: CollectorRegistry,
    ) -> None:
        self._registry, self._send, self._clock = registry, send, clock
        self._intake = Intake(registry)
        self._state: FlowState | None = None
        self._owned: frozenset[str] | None = None  # None: every site (a test, a benchmark)
        self._every_site = frozenset(registry.sites)  # not rebuilt for each message
        self._logged = LoggedStores(send)
        self._processed = Counter(
            "uecflow_events_processed",
            "Events applied to the flow state.",
            ["stream"],
            registry=metrics,
        )
        # Duplicates and refusals by site and trust too, so that each trust sees its own feed;
        # a refused message whose event could not be read has site and trust "".
        self._duplicates = Counter(
            "uecflow_events_duplicate",
            "Events whose event_id was seen before (ignored), by site.",
            ["stream", "site", "trust"],
            registry=metrics,
        )
        self._rejected = Counter(
            "uecflow_events_rejected",
            "Events sent to the dead-letter topic, by reason and (when it is known) site.",
            ["stream", "reason", "site", "trust"],
            registry=metrics,
        )
        trust_of = {code: site.trust for code, site in registry.sites.items()} | {"": ""}
        self._trust_of = trust_of
        # `labels()` looks its child up under a lock on every call: once per label set instead.
        self._processed_of = {stream: self._processed.labels(stream.value) for stream in Stream}
        self._duplicates_of = {
            (stream, code): self._duplicates.labels(stream.value, code, trust)
            for stream in Stream
            for code, trust in trust_of.items()
        }
        for stream in Stream:  # a series that first appears at 1 shows no increase()
            for kind in REFUSAL_KINDS:
                for code, trust in trust_of.items():
                    self._rejected.labels(stream.value, kind, code, trust)

    @property
    def ready(self) -> bool:
        return self._state is not None

    def recover(
        self, entries: Iterable[tuple[bytes, bytes]], sites: Collection[str] | None = None
    ) -> None:
        """Rebuild the flow state from what the changelog holds (after each rebalance): the
        entries of `sites`, the sites of the partitions this worker holds now."""
        self._owned = None if sites is None else frozenset(sites)
        self._logged = LoggedStores(self._send)
        self._logged.restore(entries)
        self._state = FlowState(
            self._registry, horizon=self._registry.lateness_horizon, stores=self._logged.stores
        )
        self.flush()  # what the recovery sweep folded and forgot

    def keep_only(self, sites: Collection[str]) -> None:
        """A rebalance took the other sites away: stop showing them at once, before recovery
        of any new ones ends (a site is shown by one worker only)."""
        self._owned = self.sites & frozenset(sites)

    @property
    def sites(self) -> frozenset[str]:
        """The sites this worker shows and counts."""
        return self._owned if self._owned is not None else self._every_site

    def flush(self, *, latest: bool = True) -> int:
        """Send the state's changes to the changelog: after each event, and with `latest` (each
        site's latest event times) after each batch, before its commit."""
        return self._logged.flush(latest=latest)

    def handle(
        self, raw: bytes | None, stream: Stream, *, key: bytes | Keys | None
    ) -> Refused | None:
        """Apply one message; return why it is refused, if it is (for the dead-letter topic).
        `key` is its Kafka key, which must be its site's."""
        state = self._state
        assert state is not None, "handle() before recover()"
        admitted = self._intake.admit(raw, stream, self._clock())
        if isinstance(admitted, Refused):
            return self._refuse(stream, admitted, "")
        site = admitted.site
        refused = misrouted(admitted, key) or (None if site in self.sites else strayed(admitted))
        if refused is not None:
            return self._refuse(stream, refused, site)
        self._logged.applying(site)
        outcome = state.apply(admitted)
        if outcome is Outcome.TOO_LATE:
            return self._refuse(stream, too_late(admitted, self._registry.lateness_horizon), site)
        if type(admitted) is not OpelDeclared:  # a declaration says nothing of the wards' feed
            self._note_latest(site, stream, to_instant(admitted.occurred_at))
        if outcome is Outcome.APPLIED:
            self._processed_of[stream].inc()
        else:
            self._duplicates_of[stream, site].inc()
        return None

    def _refuse(self, stream: Stream, refused: Refused, site: str) -> Refused:
        """Count it, by its site when the event could be read (a registry site: the contract
        checks it), and hand it back for the dead-letter topic."""
        self._rejected.labels(stream.value, refused.kind, site, self._trust_of[site]).inc()
        return refused

    def read(
        self, as_of: datetime
    ) -> tuple[FlowSnapshot, Mapping[tuple[str, str], Instant]] | None:
        """The metrics as of an instant and each site's latest event per stream (for /metrics)."""
        if self._state is None:
            return None
        return self._state.snapshot(as_of, self.sites), self._logged.latest

    def _note_latest(self, site: str, stream: Stream, at: Instant) -> None:
        # Duplicates count too: after a crash, re-sent events rebuild what the log lost.
        key = (site, stream.value)
        if at > self._logged.latest.get(key, at - 1):
            self._logged.latest[key] = at
