"""The sample-day generator: reproducible, contract-clean, and dirty only where it means to be."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from functools import cache

import pytest

from events import EventParser, InvalidEvent
from producers.simulator.sample import generate
from uecflow.cli import main as uecflow
from uecflow.config import Registry, load_registry

START = date(2025, 11, 20)


@cache
def _registry() -> Registry:
    return load_registry()


@cache
def _day(seed: int = 7, *, dirty: bool) -> tuple[str, ...]:
    return tuple(generate(start=START, days=1, seed=seed, registry=_registry(), dirty=dirty))


def test_same_seed_gives_the_same_lines() -> None:
    again = tuple(generate(start=START, days=1, seed=7, registry=_registry(), dirty=True))
    assert again == _day(dirty=True)


def test_another_seed_gives_other_lines() -> None:
    assert _day(8, dirty=True) != _day(dirty=True)


def test_every_clean_line_parses_and_ids_are_unique() -> None:
    parser = EventParser(_registry())
    events = [parser.parse(line) for line in _day(dirty=False)]
    assert len({event.event_id for event in events}) == len(events)
    assert {event.site for event in events} == set(_registry().sites)
    assert all(re.fullmatch(r"evt-[A-Z0-9]+-\d+", event.event_id) for event in events)


def test_clean_lines_span_the_afternoon_before_to_the_end_of_the_day() -> None:
    stamps = [json.loads(line)["occurred_at"] for line in _day(dirty=False)]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp) for stamp in stamps)
    assert min(stamps) >= "2025-11-19T12:00:00Z"  # London is on GMT in November
    assert max(stamps) < "2025-11-21T00:00:00Z"


def test_lines_are_in_order_but_for_a_few_minutes_of_lateness() -> None:
    latest = datetime(2025, 11, 19, tzinfo=UTC)
    late = 0
    for line in _day(dirty=False):
        at = datetime.fromisoformat(json.loads(line)["occurred_at"])
        assert at >= latest - timedelta(minutes=11)
        late += at < latest
        latest = max(latest, at)
    assert 0 < late < len(_day(dirty=False)) * 0.05


def test_dirt_only_adds_re_sent_lines_and_lines_the_parser_rejects() -> None:
    clean, dirty = _day(dirty=False), _day(dirty=True)
    extra = Counter(dirty) - Counter(clean)
    assert not Counter(clean) - Counter(dirty)
    known = set(clean)
    resent = [line for line in extra if line in known]
    bad = [line for line in extra.elements() if line not in known]
    assert resent
    assert 0 < len(bad) < len(clean) * 0.005
    parser = EventParser(_registry())
    for line in bad:
        with pytest.raises(InvalidEvent):
            parser.parse(line)


def test_attendance_ids_never_look_like_nhs_numbers() -> None:
    for line in _day(dirty=False):
        token = json.loads(line).get("attendance_id", "")
        assert not re.fullmatch(r"\d{10}", token)


def test_main_writes_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    assert uecflow(["sample", "--start", "2025-11-20", "--days", "1", "--seed", "7"]) == 0
    assert tuple(capsys.readouterr().out.splitlines()) == _day(dirty=True)


def test_days_must_be_positive() -> None:
    with pytest.raises(ValueError, match="days"):
        generate(start=START, days=0, seed=7, registry=_registry())
