"""Slow clients cannot hold the gateway: a connection must send each request's headers within
`header_timeout` seconds of opening (or of its previous answer), or it is closed.

uvicorn has an idle (keep-alive) timeout and a body timeout is the gateway's own
(producers.gateway.body), but nothing bounds a request whose headers trickle in a byte at a
time: a few hundred such connections, unauthenticated since the token is a header, used to hold
file descriptors and the event loop's attention from every trust. This is uvicorn's own h11
protocol with that one deadline added.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.h11_impl import H11Protocol


class HeadersInTime(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request headers are late."""

    header_timeout: float = 10.0
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._answering():
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()  # the next request's headers are due in time too

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _answering(self) -> bool:
        """A request's headers have all arrived and its answer is not finished."""
        return self.cycle is not None and not self.cycle.response_complete

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.header_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self._answering():
            self.transport.close()


def headers_within(seconds: float) -> type[HeadersInTime]:
    """The protocol for uvicorn's `http` setting, with the gateway's --header-timeout."""
    return type("HeadersInTime", (HeadersInTime,), {"header_timeout": seconds})
