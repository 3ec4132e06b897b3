"""`uecflow replay`, run as a real process: the JSON document, rejects, as-of, stdin, errors."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.streams.core.flow_events import ALL_METRICS, RATIO_METRICS
from uecflow.config import load_registry

# The site registry, as the spec lists it.
SPEC_SITES = {
    "R1H12": "R1H",
    "R1HKH": "R1H",
    "R1HNH": "R1H",
    "RF4QH": "RF4",
    "RF4DG": "RF4",
    "RQXM1": "RQX",
}
SPEC_TRUSTS = {"R1H", "RF4", "RQX"}
DOCUMENT_KEYS = {"as_of", "system", "trusts", "sites", "rejected_events", "duplicate_events"}


@dataclass(frozen=True, slots=True)
class Run:
    code: int
    stdout: str
    stderr: str

    def document(self) -> dict[str, Any]:
        assert self.code == 0, self.stderr
        document = json.loads(self.stdout)
        assert isinstance(document, dict)
        return document


def default_config_env() -> dict[str, str]:
    """The environment, without a config override: the NEL registry of the spec applies."""
    return {name: value for name, value in os.environ.items() if name != "UECFLOW_CONFIG"}


def uecflow(*args: str | Path, stdin: bytes | None = None) -> Run:
    done = subprocess.run(
        [sys.executable, "-m", "uecflow", *map(str, args)],
        input=stdin if stdin is not None else b"",
        capture_output=True,
        env=default_config_env(),
        timeout=300,
        check=False,
    )
    return Run(
        done.returncode,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
    )


def event(kind: str, event_id: str, at: str, site: str = "R1H12", **fields: Any) -> bytes:
    body: dict[str, Any] = {"event_id": event_id, "event_type": kind, "occurred_at": at}
    body["site"] = site
    body.update(fields)
    return json.dumps(body).encode()


def arrival(event_id: str, at: str, site: str = "R1H12", attendance: str = "") -> bytes:
    return event("ae.arrival", event_id, at, site, attendance_id=attendance or f"att-{event_id}")


def write_lines(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# ---------------------------------------------------------------------------------------------
# 5. The --json document
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def one_arrival(tmp_path: Path) -> Path:
    return write_lines(tmp_path / "events.jsonl", [arrival("e1", "2025-01-15T08:00:00Z")])


def test_replay_json_prints_a_document_with_every_required_key(one_arrival: Path) -> None:
    document = uecflow("replay", one_arrival, "--json").document()
    assert set(document) >= DOCUMENT_KEYS
    assert document["rejected_events"] == 0
    assert document["duplicate_events"] == 0
    assert instant(document["as_of"]) == instant("2025-01-15T08:00:00Z")


def test_replay_json_has_every_registry_site_and_trust_even_without_events(
    one_arrival: Path,
) -> None:
    document = uecflow("replay", one_arrival, "--json").document()
    assert set(document["sites"]) == set(SPEC_SITES)
    assert set(document["trusts"]) == SPEC_TRUSTS
    assert set(document["sites"]) == set(load_registry().sites)


def test_replay_json_has_every_metric_at_every_level(one_arrival: Path) -> None:
    document = uecflow("replay", one_arrival, "--json").document()
    levels = [document["system"], *document["trusts"].values(), *document["sites"].values()]
    assert len(levels) == 1 + 3 + 6
    for metrics in levels:
        assert set(metrics) >= set(ALL_METRICS)


def test_replay_json_gives_null_for_every_ratio_with_a_zero_denominator(
    one_arrival: Path,
) -> None:
    document = uecflow("replay", one_arrival, "--json").document()
    levels = [document["system"], *document["trusts"].values(), *document["sites"].values()]
    for metrics in levels:
        for name in RATIO_METRICS:
            assert metrics[name] is None, name
        assert metrics["handover_mean_minutes_today"] is None
        assert metrics["ambulance_longest_wait_minutes"] is None
        assert metrics["handovers_today"] == 0
        assert metrics["handover_hours_lost_today"] == 0
    for code, metrics in document["sites"].items():
        if code == "R1H12":
            assert metrics["ae_in_department"] == 1
            assert metrics["ae_longest_wait_minutes"] == 0
        else:
            assert metrics["ae_in_department"] == 0
            assert metrics["ae_longest_wait_minutes"] is None


def test_replay_json_sums_sites_into_their_trust_and_the_system(tmp_path: Path) -> None:
    lines = [
        arrival("e1", "2025-01-15T08:00:00Z", "R1H12"),
        arrival("e2", "2025-01-15T08:30:00Z", "R1HKH"),
        arrival("e3", "2025-01-15T09:00:00Z", "RQXM1"),
        event(
            "beds.ward_state",
            "w1",
            "2025-01-15T07:00:00Z",
            "RF4QH",
            ward="Ward 1",
            ward_type="adult_ga",
            beds_open_core=20,
            beds_occupied=19,
            nctr=4,
        ),
        event(
            "beds.ward_state",
            "w2",
            "2025-01-15T07:00:00Z",
            "RF4DG",
            ward="Ward 1",
            ward_type="adult_ga",
            beds_open_core=10,
            beds_open_escalation=2,
            beds_occupied=14,
            nctr=1,
        ),
    ]
    document = uecflow("replay", write_lines(tmp_path / "e.jsonl", lines), "--json").document()
    assert document["trusts"]["R1H"]["ae_in_department"] == 2
    assert document["trusts"]["RQX"]["ae_in_department"] == 1
    assert document["system"]["ae_in_department"] == 3
    assert document["system"]["ae_longest_wait_minutes"] == 60
    rf4 = document["trusts"]["RF4"]
    assert (rf4["ga_beds_open"], rf4["ga_beds_occupied"], rf4["nctr_patients"]) == (32, 33, 5)
    assert rf4["ga_occupancy"] == pytest.approx(33 / 32)
    assert rf4["mffd_rate"] == pytest.approx(5 / 33)
    assert document["system"]["ga_occupancy"] == pytest.approx(33 / 32)


# ---------------------------------------------------------------------------------------------
# 6. Ten thousand invalid lines never stop the run
# ---------------------------------------------------------------------------------------------

VALID_TEMPLATE: dict[str, Any] = {
    "event_id": "v",
    "event_type": "ae.arrival",
    "occurred_at": "2025-01-15T08:00:00Z",
    "site": "R1H12",
    "attendance_id": "att",
}

# Each breaks the contract for certain.
BREAKAGES: tuple[tuple[str, Any], ...] = (
    ("department_type", "1"),
    ("department_type", True),
    ("department_type", 0),
    ("mental_health", 1),
    ("arrival_mode", "helicopter"),
    ("occurred_at", "2025-01-15T08:00:00"),
    ("occurred_at", "2025-01-15T08:00:00+0100"),
    ("occurred_at", 1736928000),
    ("occurred_at", "yesterday"),
    ("site", "ZZZ99"),
    ("site", None),
    ("event_id", ""),
    ("event_id", "x" * 129),
    ("event_id", 7),
    ("attendance_id", ""),
    ("attendance_id", None),
    ("event_type", "ae.arrivals"),
    ("event_type", None),
    ("nhs_number", "9434765919"),
    ("patient name", "Ada Lovelace"),
)


def invalid_line(rng: random.Random, number: int) -> bytes:
    """One line that is certainly not a valid event, and has no line break in it."""
    kind = rng.randrange(6)
    if kind == 0:  # random bytes, never blank
        noise = bytes(
            rng.choice([*range(0, 10), *range(11, 13), *range(14, 256)])
            for _ in range(rng.randint(1, 80))
        )
        return b"~" + noise
    if kind == 1:  # a JSON value that is not an object
        value = rng.choice([0, -1.5, "text", [], [1, {"a": 2}], None, True, "ünïcode ✓"])
        return json.dumps(value, ensure_ascii=rng.random() < 0.5).encode()
    body = dict(VALID_TEMPLATE, event_id=f"bad-{number}")
    if kind == 2:  # one field wrong
        name, value = rng.choice(BREAKAGES)
        body[name] = value
        return json.dumps(body, ensure_ascii=rng.random() < 0.5).encode()
    if kind == 3:  # a required field missing
        del body[rng.choice(sorted(body))]
        return json.dumps(body).encode()
    if kind == 4:  # cut short
        line = json.dumps(body).encode()
        return line[: rng.randrange(1, len(line) - 1)]
    return b"\xff\xfe" + json.dumps(body).encode()  # not UTF-8


@pytest.fixture
def mostly_invalid(tmp_path: Path) -> tuple[Path, dict[int, bytes]]:
    """10,000 invalid lines and five valid arrivals at random places; the invalid by number."""
    rng = random.Random(20250115)
    lines = [invalid_line(rng, number) for number in range(10_000)]
    valid = [arrival(f"ok-{n}", f"2025-01-15T0{n}:00:00Z", attendance=f"a{n}") for n in range(5)]
    for line in valid:
        lines.insert(rng.randrange(len(lines) + 1), line)
    invalid = {number: line for number, line in enumerate(lines, start=1) if line not in valid}
    assert len(invalid) == 10_000
    return write_lines(tmp_path / "mostly-invalid.jsonl", lines), invalid


def test_ten_thousand_invalid_lines_are_counted_and_never_stop_the_run(
    mostly_invalid: tuple[Path, dict[int, bytes]], tmp_path: Path
) -> None:
    path, _ = mostly_invalid
    run = uecflow("replay", path, "--json", "--rejects", tmp_path / "rejects.jsonl")
    document = run.document()
    assert document["rejected_events"] == 10_000
    assert document["duplicate_events"] == 0
    assert document["system"]["ae_in_department"] == 5
    assert instant(document["as_of"]) == instant("2025-01-15T04:00:00Z")
    assert "Traceback" not in run.stderr


def test_the_rejects_file_has_each_rejected_line_with_its_number_a_reason_and_the_line(
    mostly_invalid: tuple[Path, dict[int, bytes]], tmp_path: Path
) -> None:
    path, invalid = mostly_invalid
    rejects = tmp_path / "rejects.jsonl"
    uecflow("replay", path, "--json", "--rejects", rejects).document()

    entries = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert len(entries) == 10_000
    assert sorted(entry["line"] for entry in entries) == sorted(invalid)
    for entry in entries:
        reason = entry["reason"]
        assert isinstance(reason, str)
        assert reason.strip()
        assert len(reason.splitlines()) == 1, entry
        original = invalid[entry["line"]]
        try:
            text = original.decode("utf-8")
        except UnicodeDecodeError:
            assert isinstance(entry["event"], str)
            assert entry["event"], entry
        else:
            assert entry["event"] == text, entry


def test_a_replay_without_a_rejects_file_still_counts_the_rejected_lines(
    mostly_invalid: tuple[Path, dict[int, bytes]],
) -> None:
    path, _ = mostly_invalid
    assert uecflow("replay", path, "--json").document()["rejected_events"] == 10_000


def test_the_rejects_file_keeps_a_site_code_with_a_line_break_on_one_line(
    tmp_path: Path,
) -> None:
    lines = [arrival("e1", "2025-01-15T08:00:00Z", site="R1H12\nR1HKH")]
    rejects = tmp_path / "rejects.jsonl"
    uecflow("replay", write_lines(tmp_path / "e.jsonl", lines), "--json", "--rejects", rejects)
    entries = rejects.read_text(encoding="utf-8").splitlines()
    assert len(entries) == 1
    entry = json.loads(entries[0])
    assert entry["line"] == 1
    assert "\n" not in entry["reason"]
    assert entry["event"] == lines[0].decode()


# ---------------------------------------------------------------------------------------------
# 7. --as-of, stdin, duplicates, errors and the table
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def morning(tmp_path: Path) -> Path:
    lines = [
        arrival("e1", "2025-01-15T08:00:00Z"),
        arrival("e2", "2025-01-15T12:00:00Z"),
        event(
            "ae.departure",
            "e3",
            "2025-01-15T13:00:00+01:00",  # 12:00 UTC
            attendance_id="att-e1",
            outcome="discharged",
        ),
        b'{"this line": "is not an event"}',
        # A later instant, but not valid: it must not become the default as-of.
        arrival("e4", "2025-01-16T09:00:00Z", site="NOT-A-SITE"),
    ]
    return write_lines(tmp_path / "morning.jsonl", lines)


def test_as_of_excludes_events_after_it(morning: Path) -> None:
    document = uecflow("replay", morning, "--json", "--as-of", "2025-01-15T10:00:00Z").document()
    assert instant(document["as_of"]) == instant("2025-01-15T10:00:00Z")
    site = document["sites"]["R1H12"]
    assert site["ae_in_department"] == 1
    assert site["ae_longest_wait_minutes"] == 120
    assert site["ae_departures_today"] == 0


def test_as_of_with_an_offset_means_the_same_instant(morning: Path) -> None:
    document = uecflow(
        "replay", morning, "--json", "--as-of", "2025-01-15T12:30:00+02:00"
    ).document()
    assert instant(document["as_of"]) == instant("2025-01-15T10:30:00Z")
    assert document["sites"]["R1H12"]["ae_in_department"] == 1


def test_as_of_still_counts_rejects_and_duplicates_over_the_whole_file(tmp_path: Path) -> None:
    late = arrival("e2", "2025-01-15T12:00:00Z")
    lines = [arrival("e1", "2025-01-15T08:00:00Z"), late, late, b"not json"]
    path = write_lines(tmp_path / "e.jsonl", lines)
    document = uecflow("replay", path, "--json", "--as-of", "2025-01-15T09:00:00Z").document()
    assert document["sites"]["R1H12"]["ae_in_department"] == 1
    assert document["rejected_events"] == 1
    assert document["duplicate_events"] == 1


def test_the_default_as_of_is_the_latest_valid_occurred_at(morning: Path) -> None:
    document = uecflow("replay", morning, "--json").document()
    assert instant(document["as_of"]) == instant("2025-01-15T12:00:00Z")
    assert document["rejected_events"] == 2
    site = document["sites"]["R1H12"]
    assert site["ae_in_department"] == 1
    assert site["ae_departures_today"] == 1
    assert site["ae_longest_wait_minutes"] == 0


def test_a_dash_reads_the_events_from_standard_input(morning: Path) -> None:
    from_stdin = uecflow("replay", "-", "--json", stdin=morning.read_bytes()).document()
    from_file = uecflow("replay", morning, "--json").document()
    assert from_stdin == from_file


def test_exact_duplicates_are_counted_once_and_reported_as_duplicate_events(
    tmp_path: Path,
) -> None:
    first = arrival("e1", "2025-01-15T08:00:00Z")
    second = arrival("e2", "2025-01-15T09:00:00Z")
    lines = [first, second, first, first, second]
    document = uecflow("replay", write_lines(tmp_path / "e.jsonl", lines), "--json").document()
    assert document["duplicate_events"] == 3
    assert document["rejected_events"] == 0
    assert document["sites"]["R1H12"]["ae_in_department"] == 2


def test_a_missing_file_gives_a_clear_error_and_a_non_zero_exit(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-file.jsonl"
    run = uecflow("replay", missing, "--json")
    assert run.code != 0
    assert "Traceback" not in run.stderr
    assert "no-such-file.jsonl" in run.stderr
    assert run.stdout == ""


def test_the_table_mentions_every_site(morning: Path) -> None:
    run = uecflow("replay", morning)
    assert run.code == 0, run.stderr
    registry = load_registry()
    assert set(registry.sites) == set(SPEC_SITES)
    for site in registry.sites.values():
        # The table shows each site by its registry short name (the full name by default).
        assert site.short_name in run.stdout, site


@pytest.mark.parametrize(
    "at", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"], ids=["after 9999", "before 1"]
)
def test_an_event_at_the_edge_of_the_calendar_does_not_crash_the_replay(
    tmp_path: Path, at: str
) -> None:
    run = uecflow("replay", write_lines(tmp_path / "e.jsonl", [arrival("e1", at)]), "--json")
    assert "Traceback" not in run.stderr
    assert run.code == 0
    document = run.document()
    # Rejected as unrepresentable, or counted: either way, one JSON document.
    assert document["rejected_events"] + document["sites"]["R1H12"]["ae_in_department"] == 1


def test_the_installed_uecflow_command_runs_the_same_replay(morning: Path) -> None:
    command = Path(sys.executable).parent / "uecflow"
    done = subprocess.run(
        [str(command), "replay", str(morning), "--json"],
        capture_output=True,
        env=default_config_env(),
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == uecflow("replay", morning, "--json").document()


def test_a_byte_order_mark_before_the_first_event_is_not_a_rejection(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "bom.jsonl", [b"\xef\xbb\xbf" + arrival("e1", "2025-01-15T08:00:00Z")]
    )
    document = uecflow("replay", path, "--json").document()
    assert document["rejected_events"] == 0
    assert document["sites"]["R1H12"]["ae_in_department"] == 1


def test_a_rejects_file_that_is_the_input_is_refused_before_anything_is_lost(
    tmp_path: Path,
) -> None:
    path = write_lines(tmp_path / "e.jsonl", [arrival("e1", "2025-01-15T08:00:00Z")])
    run = uecflow("replay", path, "--rejects", path)
    assert run.code == 2
    assert "is the file being replayed" in run.stderr
    assert path.read_bytes() == arrival("e1", "2025-01-15T08:00:00Z") + b"\n"


@pytest.mark.parametrize(
    "as_of", ["2025-01-15T08:00Z", "2025-01-15T08:00:00", "20250115T080000Z", "yesterday"]
)
def test_an_as_of_that_is_not_rfc_3339_with_an_offset_is_refused(
    tmp_path: Path, as_of: str
) -> None:
    path = write_lines(tmp_path / "e.jsonl", [arrival("e1", "2025-01-15T08:00:00Z")])
    run = uecflow("replay", path, "--as-of", as_of)
    assert run.code == 2
    assert "RFC 3339" in run.stderr
