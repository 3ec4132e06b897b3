"""Replay a file of events through the flow core: the main job with no Kafka at all."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from events.contract import rfc3339
from events.parse import EventParser, InvalidEvent
from streams.core.flow import FlowState, Outcome
from streams.core.metrics import Value
from streams.core.snapshot import FlowSnapshot
from uecflow.config import Registry

OnReject = Callable[[int, bytes, str], None]


@dataclass(frozen=True, slots=True)
class ReplayResult:
    snapshot: FlowSnapshot
    lines: int
    applied: int
    rejected: int
    duplicates: int
    after_as_of: int  # valid, but later than the as-of instant: not counted


def replay(
    lines: Iterable[bytes],
    registry: Registry,
    *,
    as_of: datetime | None,
    when_empty: Callable[[], datetime],
    on_reject: OnReject | None = None,
) -> ReplayResult:
    """Validate and apply every line; compute the metrics as of `as_of`.

    Without `as_of`, T is the latest valid `occurred_at` (or `when_empty()` if no line is
    valid). Every record is kept (no horizon), so the result is exact for any order of lines.
    """
    parser = EventParser(registry)
    state = FlowState(registry, horizon=None, until=as_of)
    counted = dict.fromkeys(Outcome, 0)
    rejected = 0
    latest: datetime | None = None
    number = 0
    for number, line in enumerate(lines, start=1):
        try:
            event = parser.parse(line)
        except InvalidEvent as error:
            rejected += 1
            if on_reject is not None:
                on_reject(number, line, error.reason)
            continue
        counted[state.apply(event)] += 1
        if latest is None or event.occurred_at > latest:
            latest = event.occurred_at
    moment = as_of or latest or when_empty()
    return ReplayResult(
        snapshot=state.snapshot(moment),
        lines=number,
        applied=counted[Outcome.APPLIED],
        rejected=rejected,
        duplicates=counted[Outcome.DUPLICATE],
        after_as_of=counted[Outcome.AFTER_AS_OF],
    )


def document(result: ReplayResult) -> dict[str, object]:
    """The `uecflow replay --json` document: every metric at every level, every registry site."""
    snapshot, registry = result.snapshot, result.snapshot.registry
    sites: dict[str, dict[str, Value]] = {code: snapshot.site(code) for code in registry.sites}
    return {
        "as_of": rfc3339(snapshot.as_of),
        "system": snapshot.system(),
        "trusts": {code: snapshot.trust(code) for code in registry.trusts},
        "places": {name: snapshot.place(name) for name in registry.places},
        "sites": sites,
        "rejected_events": result.rejected,
        "duplicate_events": result.duplicates,
    }
