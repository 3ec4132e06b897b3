"""`uecflow sitrep` on the sample and on a simulated week: the CSV and the workbook, read back,
hold in every cell the flow core's figure as of the instant its field is read at."""

from __future__ import annotations

import csv
from contextlib import suppress
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from events import InvalidEvent
from sitrep.fields import FIELDS, Instants
from sitrep.output import ABOUT_SHEET, HEADINGS, TABLE_SHEET
from streams.core.flow import FlowState
from streams.core.metrics import Value
from tests.events_builder import PARSER, REGISTRY
from uecflow.cli import main as uecflow

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "nel-day.jsonl"


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("week") / "week.jsonl"
    simulate = ["simulate", "--start", "2025-11-17", "--hours", "168", "--seed", "3"]
    assert uecflow([*simulate, "--scenario", "winter-surge", "--out", str(path)]) == 0
    return path


def core(events: Path, day: date) -> dict[str, list[Value]]:
    """Independently of `sitrep`: the core's figures, each as of its field's instant."""
    instants = Instants(day)
    values: dict[str, dict[str, dict[str, Value]]] = {}
    for when in ("beds", "day"):
        state = FlowState(REGISTRY, horizon=None, until=instants.of(when))
        for line in events.read_bytes().splitlines():
            with suppress(InvalidEvent):  # the sample has bad lines, as a trust's file may
                state.apply(PARSER.parse(line))
        snapshot = state.snapshot(instants.of(when))
        values[when] = {code: snapshot.site(code) for code in REGISTRY.sites}
        values[when] |= {code: snapshot.trust(code) for code in REGISTRY.trusts}
    expected: dict[str, list[Value]] = {}
    for code in values["beds"]:
        cells: list[Value] = []
        for field in FIELDS:
            of = values[field.when][code]
            if field.name == "Delay 30-60 mins":
                over_30, over_60 = of["handovers_over_30_today"], of["handovers_over_60_today"]
                assert over_30 is not None
                assert over_60 is not None
                cells.append(over_30 - over_60)
            else:
                cells.append(of[field.metrics[0]] if field.filled else None)
        expected[code] = cells
    return expected


@pytest.mark.parametrize(
    ("source", "day"),
    [("sample", date(2025, 11, 20)), ("week", date(2025, 11, 19)), ("week", date(2025, 11, 23))],
)
def test_every_cell_of_the_workbook_and_the_csv_is_the_cores_figure(
    source: str, day: date, week: Path, tmp_path: Path
) -> None:
    events = SAMPLE if source == "sample" else week
    out = tmp_path / "sitrep"
    assert uecflow(["sitrep", str(events), "--day", day.isoformat(), "--out", str(out)]) == 0
    expected = core(events, day)
    book = load_workbook(out.with_suffix(".xlsx"))
    table = list(book[TABLE_SHEET].iter_rows(values_only=True))
    assert table[0] == HEADINGS
    codes = [str(row[0]) for row in table[1:]]
    sites_and_trusts = [*REGISTRY.sites, *REGISTRY.trusts]
    assert sorted(codes) == sorted(sites_and_trusts)
    for row in table[1:]:
        code = row[0]
        assert list(row[3:]) == expected[str(code)], code
    assert any(value for row in table[1:] for value in row[3:]), "a comparison of nothing"
    with out.with_suffix(".csv").open(encoding="utf-8", newline="") as file:
        rows = list(csv.reader(file))
    as_text = [["" if cell is None else str(cell) for cell in row] for row in table]
    assert rows == as_text


def test_the_workbook_says_when_each_figure_is_read_and_why_some_are_empty(
    tmp_path: Path,
) -> None:
    out = tmp_path / "sitrep"
    assert uecflow(["sitrep", str(SAMPLE), "--day", "2025-11-20", "--out", str(out)]) == 0
    about = list(load_workbook(out.with_suffix(".xlsx"))[ABOUT_SHEET].iter_rows(values_only=True))
    assert about[0][:2] == ("London day", "2025-11-20")
    assert about[1][:2] == ("Beds as at", "2025-11-21T08:00:00Z")
    assert about[2][:2] == ("Day's counts as at", "2025-11-20T23:59:59.999999Z")
    listed = {row[1]: row[3] for row in about[6:]}
    assert listed["Adult G&A Beds Open"] == "ga_beds_open"
    assert str(listed["G&A flu beds"]).startswith("no: no event carries a diagnosis")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--day", "2025-11-20"], "give a file of events or --prometheus URL"),
        ([str(SAMPLE), "--prometheus", "http://x:9090", "--day", "2025-11-20"], "one of them"),
    ],
)
def test_a_source_must_be_given_once(
    arguments: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert uecflow(["sitrep", *arguments, "--out", str(tmp_path / "s")]) == 2
    assert message in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_a_file_with_no_valid_event_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text('{"not": "an event"}\n')
    assert uecflow(["sitrep", str(empty), "--day", "2025-11-20", "--out", str(tmp_path / "s")]) == 2
    assert capsys.readouterr().err == "uecflow sitrep: no valid event in the file\n"
