"""A recovery that reads nothing for the whole patience is stalled; any reading, or a new
recovery, starts the count again."""

from __future__ import annotations

from streams.worker.stall import RecoveryWatch


def test_a_recovery_that_reads_nothing_for_the_patience_is_stalled_not_a_moment_before() -> None:
    watch = RecoveryWatch(patience=180)
    assert not watch.stalled(500, now=1000)
    assert not watch.stalled(500, now=1179.9)
    assert watch.stalled(500, now=1180)


def test_reading_anything_starts_the_count_again() -> None:
    watch = RecoveryWatch(patience=180)
    watch.stalled(500, now=0)
    assert not watch.stalled(499, now=170)
    assert not watch.stalled(499, now=349)
    assert watch.stalled(499, now=350)


def test_a_worker_not_recovering_is_never_stalled_and_a_new_recovery_starts_afresh() -> None:
    watch = RecoveryWatch(patience=180)
    watch.stalled(500, now=0)
    assert not watch.stalled(None, now=100)  # recovered, serving
    assert not watch.stalled(0, now=150)  # nothing left to read
    assert not watch.stalled(500, now=200)  # the next rebalance: same count, a new recovery
    assert not watch.stalled(500, now=379)
    assert watch.stalled(500, now=380)
