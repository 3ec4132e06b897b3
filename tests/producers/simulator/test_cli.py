"""`uecflow simulate` as a user runs it: options, output, errors, pacing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from events.contract import AmbulanceArrival, Event, rfc3339
from producers.simulator.london_hours import LONDON
from producers.simulator.pacing import Pacer, deliver
from streams.core.replay import replay
from tests.producers.simulator.runs import REGISTRY
from uecflow.cli import main as uecflow

QUICK = ["--site", "RQXM1", "--hours", "2"]


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_it_writes_json_lines_that_replay_without_a_rejection(tmp_path: Path) -> None:
    out = tmp_path / "day.jsonl"
    assert uecflow(["simulate", "--start", "2026-01-15", *QUICK, "--out", str(out)]) == 0
    raw = out.read_bytes().splitlines()
    result = replay(raw, REGISTRY, as_of=None, when_empty=lambda: datetime.now(UTC))
    assert result.lines == len(raw) > 100
    assert result.rejected == result.duplicates == 0


def test_a_date_means_london_midnight_and_hours_bound_the_period(tmp_path: Path) -> None:
    out = tmp_path / "summer.jsonl"
    assert uecflow(["simulate", "--start", "2026-07-16", *QUICK, "--out", str(out)]) == 0
    midnight = datetime(2026, 7, 16, tzinfo=LONDON)  # 23:00 UTC the day before
    ward_states = [
        line["occurred_at"] for line in _lines(out) if line["event_type"] == "beds.ward_state"
    ]
    assert (
        ward_states[0]
        == "2026-07-15T23:00:00Z"
        == midnight.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    assert max(str(line["occurred_at"]) for line in _lines(out)) < "2026-07-16T01:00:00Z"


def test_the_same_command_writes_the_same_bytes(tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    arguments = ["--start", "2026-01-15T09:30:00Z", *QUICK, "--seed", "3"]
    surge = ["simulate", *arguments, "--scenario", "winter-surge"]
    assert uecflow([*surge, "--out", str(first)]) == 0
    assert uecflow([*surge, "--out", str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()


def test_uecflow_simulate_reaches_it_with_the_config_option(
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    config = Path(__file__).resolve().parents[3] / "uecflow" / "nel.toml"
    assert uecflow(["--config", str(config), "simulate", "--start", "2026-01-15", *QUICK]) == 0
    assert capsysbinary.readouterr().out.count(b"\n") > 100


def test_scenarios_combine_from_the_command_line(tmp_path: Path) -> None:
    out = tmp_path / "both.jsonl"
    arguments = ["--start", "2026-01-15", "--site", "RQXM1", "--hours", "4", "--out", str(out)]
    silence = ["--scenario", "silent-feed", "--silent-stream", "beds", "--silent-at", "+1h"]
    incident = ["--scenario", "major-incident", "--incident-site", "RQXM1"]
    assert uecflow(["simulate", *arguments, *silence, *incident, "--incident-at", "+30m"]) == 0
    lines = _lines(out)
    beds = [line["occurred_at"] for line in lines if line["event_type"] == "beds.ward_state"]
    assert beds
    assert max(map(str, beds)) < "2026-01-15T01:00:00Z"
    arrivals = [line for line in lines if line["event_type"] == "ae.arrival"]
    assert len(arrivals) > 60  # the casualties on top of a quiet night


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--site", "XXX01"], "not in the site registry"),
        (
            ["--site", "RQXM1", "--scenario", "major-incident", "--incident-site", "RF4QH"],
            "not one of the simulated sites",
        ),
        (["--scenario", "silent-feed", "--silent-at", "tomorrow"], "RFC 3339"),
        (["--gateway", "https://gateway.example"], "no gateway token for trust"),
        (["--gateway", "https://g.example", "--token", "R1H="], "TRUST=TOKEN"),
    ],
)
def test_impossible_options_say_why_and_exit_2(
    arguments: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("UECFLOW_GATEWAY_TOKEN", raising=False)
    assert uecflow(["simulate", "--start", "2026-01-15", "--hours", "1", *arguments]) == 2
    assert message in capsys.readouterr().err


def test_a_bad_start_is_an_argument_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        uecflow(["simulate", "--start", "15/01/2026"])
    assert exit_.value.code == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Recorder:
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.sent: list[tuple[float, str]] = []
        self.flushes: list[float] = []
        self.closed = False

    def send(self, event: Event) -> None:
        self.sent.append((self.clock.now, event.event_id))

    def flush(self) -> None:
        self.flushes.append(self.clock.now)

    def close(self) -> None:
        self.closed = True


def _events_at(*offsets: float) -> list[Event]:
    origin = datetime(2026, 1, 15, tzinfo=UTC)
    return [
        AmbulanceArrival.model_validate(
            {
                "event_type": "ambulance.arrival",
                "event_id": f"e{index}",
                "occurred_at": rfc3339(datetime.fromtimestamp(origin.timestamp() + offset, UTC)),
                "site": "RQXM1",
                "handover_id": f"h{index}",
            }
        )
        for index, offset in enumerate(offsets)
    ]


def test_a_paced_run_sends_each_event_when_its_time_comes_at_the_chosen_speed() -> None:
    clock = FakeClock()
    sink = Recorder(clock)
    origin = datetime(2026, 1, 15, tzinfo=UTC).timestamp()
    pacer = Pacer(60.0, origin, clock=clock.monotonic, sleep=clock.sleep)
    # One before the start (a patient already there), then 0, 60 and 600 simulated seconds.
    assert deliver(_events_at(-300, 0, 60, 600), sink, pacer) == 4
    assert sink.sent == [(1000.0, "e0"), (1000.0, "e1"), (1001.0, "e2"), (1010.0, "e3")]
    assert clock.slept == [1.0, 9.0]
    assert sink.flushes == [1000.0, 1001.0]  # whatever is buffered goes before each wait
    assert sink.closed


def test_an_unpaced_run_never_waits() -> None:
    clock = FakeClock()
    sink = Recorder(clock)
    assert deliver(_events_at(0, 3600, 7200), sink, None) == 3
    assert clock.slept == []
    assert sink.closed
