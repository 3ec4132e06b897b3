"""The sitrep as files to copy into the submission: CSV, and an `.xlsx` workbook with the same
table and a sheet saying where each figure comes from and why some are empty."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from events.contract import rfc3339
from sitrep.fields import FIELDS, Instants
from sitrep.sources import SitrepRow

KEYS = ("Code", "Name", "Level")
HEADINGS = (*KEYS, *(field.name for field in FIELDS))
TABLE_SHEET, ABOUT_SHEET = "UEC daily sitrep", "About"
_EMPTY_FILL = PatternFill("solid", fgColor="D9D9D9")  # a field uecflow cannot fill


def cells(row: SitrepRow) -> list[str | int | None]:
    return [row.code, row.name, row.level, *(_whole(row.fields[f.name]) for f in FIELDS)]


def _whole(value: float | int | None) -> int | None:
    return None if value is None else int(value)


def write_csv(rows: Sequence[SitrepRow], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(HEADINGS)
        writer.writerows(["" if c is None else c for c in cells(row)] for row in rows)


def write_xlsx(rows: Sequence[SitrepRow], instants: Instants, source: str, path: Path) -> None:
    book = Workbook()
    table = book.active
    assert table is not None
    table.title = TABLE_SHEET
    table.append(list(HEADINGS))
    for cell in table[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in rows:
        table.append(cells(row))
    for column, field in enumerate(FIELDS, start=len(KEYS) + 1):
        if not field.filled:
            for (cell,) in table.iter_rows(min_row=1, min_col=column, max_col=column):
                cell.fill = _EMPTY_FILL
    table.freeze_panes = "D2"
    table.column_dimensions["B"].width = 44
    _about(book, instants, source)
    book.save(path)


def _about(book: Workbook, instants: Instants, source: str) -> None:
    about = book.create_sheet(ABOUT_SHEET)
    about.append(["London day", instants.day.isoformat()])
    about.append(["Beds as at", rfc3339(instants.beds)])
    about.append(["Day's counts as at", rfc3339(instants.day_end)])
    about.append(["Source", source])
    about.append([])
    about.append(["Sitrep sheet", "Field", "Read at", "Filled by uecflow"])
    for field in FIELDS:
        said = "08:00 on D + 1" if field.when == "beds" else "end of D"
        how = ", ".join(field.metrics) if field.filled else f"no: {field.why_not}"
        about.append([field.sheet, field.name, said, how])
    about.column_dimensions["A"].width = 32
    about.column_dimensions["B"].width = 58
    about.column_dimensions["D"].width = 80
