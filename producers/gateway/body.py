"""The request body: its declared form, reading it within limits, and splitting it into events.

The body is one event object, a JSON array of event objects, or JSON Lines:
`Content-Type: application/x-ndjson` (or application/jsonl) is always read as JSON Lines;
`application/json` or no Content-Type is an array if the body starts with `[`, else one object
if the whole body is one JSON value, else JSON Lines. An event's `index` is its position in the
array, or its line number less one (blank lines are skipped but counted).

The request is refused whole, with producers.gateway.refusal.Refusal: 415 another Content-Type,
a charset other than UTF-8, or a Content-Encoding; 413 a body over 1 MiB or over 1,000 events;
408 a body slower than 30 s; 400 an empty body, or an array that is not JSON.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import Request
from starlette.requests import ClientDisconnect

from producers.gateway.refusal import Refusal

_BOM = b"\xef\xbb\xbf"
_JSON_TYPES = frozenset({"application/json"})
_LINES_TYPES = frozenset({"application/x-ndjson", "application/jsonl", "application/x-jsonlines"})
_UTF8 = frozenset({"utf-8", "utf8"})
# One encoder for every element: json.dumps builds a new one per call with custom separators.
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def lines_only(content_type: str | None, content_encoding: str | None) -> bool:
    """Whether the body is JSON Lines whatever it looks like; refuses what cannot be read."""
    if content_encoding and content_encoding.strip().lower() != "identity":
        raise Refusal(415, "Content-Encoding is not supported: send the body uncompressed")
    if not content_type or not content_type.strip():
        return False
    media, _, parameters = content_type.partition(";")
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in _UTF8:
            raise Refusal(415, "the body must be UTF-8")
    media = media.strip().lower()
    if media in _JSON_TYPES:
        return False
    if media in _LINES_TYPES:
        return True
    raise Refusal(415, "Content-Type must be application/json or application/x-ndjson")


async def read_body(request: Request, limit: int, timeout: float) -> bytes:
    """The body, refused as soon as it is known to be over `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Refusal(413, f"the body is over {limit:,} bytes")
    body = bytearray()
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                body += chunk
                if len(body) > limit:
                    raise Refusal(413, f"the body is over {limit:,} bytes")
    except TimeoutError:
        raise Refusal(408, f"the body did not arrive within {timeout:g} s") from None
    except ClientDisconnect:
        raise Refusal(400, "the client went away before the body arrived") from None
    return bytes(body)


def split_events(body: bytes, as_lines: bool, max_events: int) -> list[tuple[int, bytes]]:
    """Each event of the body as (index, its bytes), an array's elements as compact JSON."""
    text = body.removeprefix(_BOM).strip()
    if not text:
        raise Refusal(400, "the body has no events")
    if not as_lines and text.startswith(b"["):
        elements = _array(text)
        _check_count(len(elements), max_events)
        return [(index, _compact(element)) for index, element in enumerate(elements)]
    pieces = [(0, text)] if not as_lines and _one_json_value(text) else _lines(text)
    _check_count(len(pieces), max_events)
    return pieces


def json_value(text: bytes) -> Any:
    """Strict JSON: raises ValueError (UnicodeDecodeError too) or RecursionError; no NaN."""
    return json.loads(text.decode("utf-8"), parse_constant=_no_constant, parse_int=_integer)


def _check_count(count: int, max_events: int) -> None:
    if count == 0:
        raise Refusal(400, "the body has no events")
    if count > max_events:
        raise Refusal(413, f"at most {max_events:,} events in one request")


def _lines(text: bytes) -> list[tuple[int, bytes]]:
    pieces = ((index, line.strip()) for index, line in enumerate(text.split(b"\n")))
    return [(index, line) for index, line in pieces if line]


def _array(text: bytes) -> list[Any]:
    try:
        elements = json_value(text)
    except UnicodeDecodeError:
        raise Refusal(400, "the body is not UTF-8") from None
    except RecursionError:
        raise Refusal(400, "the body is not valid JSON: nested too deeply") from None
    except ValueError as error:
        raise Refusal(400, f"the body is not valid JSON: {_json_error(error)}") from None
    if not isinstance(elements, list):  # `[1] 2` fails above; this is for the type checker
        raise Refusal(400, "the body is not a JSON array")
    return elements


def _compact(element: Any) -> bytes:
    """One array element as it goes to Kafka: compact JSON, its characters as sent."""
    try:
        return _COMPACT.encode(element).encode("utf-8")
    except (ValueError, RecursionError):
        # A lone surrogate escape ("\\ud800") or absurd nesting: the parser refuses the stand-in.
        return b"null"


def _one_json_value(text: bytes) -> bool:
    try:
        json_value(text)
    except (ValueError, RecursionError):
        return False
    return True


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


INTEGER_DIGITS_MAX = 20  # far beyond any count the contract takes; what the event parser says


def _integer(text: str) -> int:
    # Python would otherwise refuse past 4,300 digits with advice about its own interpreter.
    digits = len(text.lstrip("-"))
    if digits > INTEGER_DIGITS_MAX:
        raise ValueError(f"number out of range ({digits:,} digits)")
    return int(text)


def _json_error(error: ValueError) -> str:
    # A JSONDecodeError says what and where (line, column), never the text around it.
    return error.args[0] if isinstance(error, json.JSONDecodeError) else str(error)
