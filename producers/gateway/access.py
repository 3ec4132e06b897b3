"""Who may post, and how often: the bearer token, then the trust's rate.

401 (with WWW-Authenticate) for no, a wrong, a revoked or an expired token (see
producers.gateway.credentials for the file of tokens); 429 (with Retry-After) when the trust's
rate is exceeded: a token bucket per trust, default 50 requests/s with bursts of 100, shared by
all of the trust's tokens. Failed authentications are limited too, per client address (default
1 a second with bursts of 20): past that, the address gets 429 without its token being looked
at, so that guessing costs time and a misconfigured engine cannot flood the gateway.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

from fastapi.security import HTTPAuthorizationCredentials

from producers.gateway.credentials import Credential
from producers.gateway.refusal import Refusal
from producers.gateway.settings import GatewaySettings

log = logging.getLogger("uecflow.gateway")

_NEEDS_TOKEN = {"WWW-Authenticate": 'Bearer realm="uecflow"'}
_BAD_TOKEN = {"WWW-Authenticate": 'Bearer realm="uecflow", error="invalid_token"'}


class Access:
    """Lets a request through as its credential, or refuses it with 401 or 429."""

    def __init__(self, settings: GatewaySettings) -> None:
        self._credentials = settings.credentials
        self._now = settings.now
        self._limiter = RateLimiter(settings.rate_per_second, settings.rate_burst, settings.clock)
        self._failures = RateLimiter(
            settings.failed_auth_per_second, settings.failed_auth_burst, settings.clock
        )

    def admit(self, authorization: HTTPAuthorizationCredentials | None, source: str) -> Credential:
        """`source` is the client's address: failed authentications are limited per address."""
        if self._failures.waiting(source) > 0:
            raise Refusal(
                429, "too many failed authentications from this address", self._retry(source)
            )
        try:
            credential = self._authenticate(authorization)
        except Refusal:
            self._failures.wait_needed(source)
            raise
        wait = self._limiter.wait_needed(credential.trust)
        if wait > 0:
            seconds = str(max(1, math.ceil(wait)))
            raise Refusal(429, "too many requests for this trust", {"Retry-After": seconds})
        return credential

    def _authenticate(self, authorization: HTTPAuthorizationCredentials | None) -> Credential:
        if authorization is None:
            raise Refusal(401, "a bearer token is required", _NEEDS_TOKEN)
        credential = self._credentials.current().identify(authorization.credentials)
        if credential is None:
            raise Refusal(401, "the token is not valid or has been revoked", _BAD_TOKEN)
        if credential.revoked:
            log.warning(
                "revoked credential used",
                extra={"credential": credential.id, "trust": credential.trust},
            )
            raise Refusal(401, "the token is not valid or has been revoked", _BAD_TOKEN)
        if credential.expired(self._now()):
            log.warning(
                "expired credential used",
                extra={"credential": credential.id, "trust": credential.trust},
            )
            raise Refusal(401, "the token has expired: ask for a new one", _BAD_TOKEN)
        return credential

    def _retry(self, source: str) -> dict[str, str]:
        return {"Retry-After": str(max(1, math.ceil(self._failures.waiting(source))))}


class RateLimiter:
    """A token bucket per trust: `rate` requests a second on average, bursts of up to `burst`."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float]) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # trust: (tokens, when)

    def waiting(self, key: str) -> float:
        """Seconds until a request of `key` may go ahead (0: now), taking nothing."""
        now = self._clock()
        tokens, then = self._buckets.get(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - then) * self._rate)
        return 0.0 if tokens >= 1 else (1 - tokens) / self._rate

    def wait_needed(self, trust: str) -> float:
        """0 and one token taken if the request may go ahead, else seconds until it may."""
        now = self._clock()
        tokens, then = self._buckets.get(trust, (self._burst, now))
        tokens = min(self._burst, tokens + (now - then) * self._rate)
        if tokens >= 1:
            self._buckets[trust] = (tokens - 1, now)
            return 0.0
        self._buckets[trust] = (tokens, now)
        return (1 - tokens) / self._rate
