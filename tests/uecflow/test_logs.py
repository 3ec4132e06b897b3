"""The JSON log lines every long-running command writes: fixed keys, then the record's own
fields at the top level, where a log tool can filter on them."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from uecflow.logs import JsonFormatter


def shipped(record: logging.LogRecord) -> dict[str, Any]:
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry: dict[str, Any] = json.loads(line)
    return entry


def record(message: str, **fields: object) -> logging.LogRecord:
    made = logging.LogRecord("uecflow.gateway", logging.WARNING, __file__, 1, message, None, None)
    made.__dict__.update(fields)  # what `extra=` does
    return made


def test_fields_given_as_extra_are_keys_of_the_line_not_part_of_the_message() -> None:
    entry = shipped(record("request answered", trust="R1H", status=202, accepted=3, rejected=0))
    assert entry.pop("time").endswith("+00:00")
    assert entry == {
        "level": "warning",
        "logger": "uecflow.gateway",
        "message": "request answered",
        "trust": "R1H",
        "status": 202,
        "accepted": 3,
        "rejected": 0,
    }


def test_an_exception_is_one_error_field_on_the_same_line() -> None:
    try:
        raise ValueError("broken")
    except ValueError:
        failed = logging.LogRecord(
            "uecflow.worker", logging.ERROR, __file__, 1, "crashed", None, sys.exc_info()
        )
    entry = shipped(failed)
    assert entry["message"] == "crashed"
    assert entry["error"].endswith("ValueError: broken")


def test_uvicorns_coloured_copy_of_its_message_is_left_out() -> None:
    entry = shipped(record("Started server process", color_message="\x1b[32mStarted\x1b[0m"))
    assert "color_message" not in entry


def test_non_ascii_text_stays_readable() -> None:
    name = "Homerton Universit\u00e9"
    assert f'"place": "{name}"' in JsonFormatter().format(record("x", place=name))
