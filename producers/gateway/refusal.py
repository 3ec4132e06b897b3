"""A request refused whole, and the `{"error": "..."}` document that answers it.

Refusals come before any event in the request is looked at: 401 and 429 (producers.gateway.access),
415, 413, 408 and 400 (producers.gateway.body). Starlette's own 404 and 405, a request FastAPI
cannot read, and an unexpected error (503) are answered in the same shape.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi.responses import JSONResponse


class Refusal(Exception):
    """The whole request is refused before any event in it is looked at."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def error_response(
    status: int, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": message}, status, headers=headers)
