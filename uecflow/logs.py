"""Structured logs: one JSON object a line on stderr, for whatever ships the worker's logs.

Each line has `time`, `level`, `logger` and `message`, then the record's own fields, given as
`extra=` (trust, site, stream, status, counts...), so that a log tool filters on them rather than
on text: the message itself is a fixed phrase. Never an attendance or conveyance id, nor an
event's content (see streams.worker.app and producers.gateway.app).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as LibraryJsonFormatter


class JsonFormatter(LibraryJsonFormatter):
    def __init__(self) -> None:
        super().__init__(
            "{message}",
            style="{",
            rename_fields={"exc_info": "error"},
            # uvicorn adds an ANSI-coloured copy of its message to some records.
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],
            json_ensure_ascii=False,
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        log_data["time"] = datetime.fromtimestamp(record.created, UTC).isoformat(
            timespec="milliseconds"
        )
        log_data["level"] = record.levelname.lower()
        log_data["logger"] = record.name
        super().add_fields(log_data, record, message_dict)


def logging_config(level: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` for the worker (Faust's and aiokafka's loggers included)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json"}},
        "root": {"level": level.upper(), "handlers": ["stderr"]},
        # aiokafka logs every lost connection at ERROR with a traceback; a broker restart is
        # routine and the worker reconnects, so its warnings are enough.
        "loggers": {"aiokafka": {"level": "WARNING"}},
    }
