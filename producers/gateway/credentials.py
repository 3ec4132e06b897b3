"""Who may post to the ingestion gateway: bearer tokens, each stored only as its SHA-256.

The credentials file is TOML, one table per token. A trust may hold several at once, so that a
new token can be handed over before the old one is revoked:

    [[credentials]]
    id = "barts-ie-2025-11"    # names the credential in logs (never the token itself)
    trust = "R1H"              # a trust code in the site registry: it may post for its sites
    token_sha256 = "3f0a..."   # 64 hex digits: SHA-256 of the token's UTF-8 bytes
    revoked = false            # optional (default false); true answers the token with 401
    expires = 2026-11-30       # optional: from this London day on, the token gets 401

A credential can be narrowed, or given to an organisation that is not a trust, by scope:

    [[credentials]]
    id = "las-cad-2026"
    trust = "LAS"                      # any name, with `sites`: London Ambulance Service
    sites = ["*"]                      # every registry site (or a list of site codes)
    event_types = ["ambulance.*"]      # only these (a trailing * matches a prefix)
    token_sha256 = "..."

`uecflow gateway new-token --trust R1H --id barts-ie-2025-11` makes a token and prints it with
its entry; `uecflow gateway hash-token` hashes an existing token read from standard input.
Tokens are 256-bit random secrets, so a fast unsalted hash is right: there is nothing to guess
from it, and a slow hash would only cost time on every request.

The gateway re-reads the file within seconds of a change, so a revocation needs no restart. A
file with a mistake is refused, and the error logged, but its revocations still apply: a token
it marks `revoked` or no longer lists stops working at once, while nothing it adds or changes
does (a mistake never lets anyone in, and never keeps a revoked token working).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from uecflow.config import Registry

log = logging.getLogger("uecflow.gateway.credentials")

MIN_TOKEN_LENGTH = 32
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
_FIELDS = {"id", "trust", "token_sha256", "revoked", "expires", "sites", "event_types"}
# Tokens made here start with it, so that secret scanners (and people) recognise one.
TOKEN_PREFIX = "uecflow_"
_LONDON = ZoneInfo("Europe/London")


class CredentialsError(ValueError):
    """The credentials file is unreadable or wrong; the message says where."""


@dataclass(frozen=True, slots=True)
class Credential:
    id: str
    trust: str  # a registry trust, or (with `sites`) the organisation holding the token
    digest: bytes  # SHA-256 of the token
    revoked: bool = False
    expires: date | None = None  # the first London day the token no longer works
    sites: frozenset[str] = frozenset()  # where it may post
    event_types: tuple[str, ...] = ("*",)  # what it may post: names, or prefixes ending in *

    def expired(self, now: datetime) -> bool:
        return self.expires is not None and now.astimezone(_LONDON).date() >= self.expires

    def may_post(self, event_type: str) -> bool:
        return any(
            event_type.startswith(allowed[:-1]) if allowed.endswith("*") else event_type == allowed
            for allowed in self.event_types
        )


@dataclass(frozen=True, slots=True)
class Credentials:
    """Every credential of one version of the file."""

    entries: tuple[Credential, ...]

    def identify(self, token: str) -> Credential | None:
        """The credential of `token`, revoked or not; None for a token nobody was given."""
        digest = hashlib.sha256(token.encode("utf-8", "replace")).digest()
        found = None
        # Every entry is compared, in constant time, so the answer's timing tells nothing.
        for entry in self.entries:
            if hmac.compare_digest(entry.digest, digest):
                found = entry
        return found

    def current(self) -> Credentials:
        """Fixed credentials, for tests and for `--openapi`: they never change."""
        return self


def hash_token(token: str) -> str:
    """The `token_sha256` entry for a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A fresh 256-bit token, URL-safe, after the prefix (51 characters)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def parse_credentials(text: str, registry: Registry) -> Credentials:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise CredentialsError(str(error)) from None
    unknown = sorted(set(document) - {"credentials"})
    if unknown:
        raise CredentialsError(f"unknown table {unknown[0]!r}: expected only [[credentials]]")
    tables = document.get("credentials", [])
    if not isinstance(tables, list):
        raise CredentialsError("credentials must be an array of tables: [[credentials]]")
    entries = tuple(_credential(number, table, registry) for number, table in enumerate(tables, 1))
    _each_once("id", [entry.id for entry in entries])
    _each_once("token_sha256", [entry.digest.hex() for entry in entries])
    return Credentials(entries)


def load_credentials(path: Path, registry: Registry) -> Credentials:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CredentialsError(f"cannot read {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise CredentialsError(f"{path}: not UTF-8") from None
    try:
        return parse_credentials(text, registry)
    except CredentialsError as error:
        raise CredentialsError(f"{path}: {error}") from None


def revoked_by(text: str, previous: Credentials) -> tuple[Credentials, list[str]]:
    """The previous credentials with what a refused file revokes: each one it marks `revoked`
    (by id or token) or no longer lists. Raises CredentialsError if it is not even TOML."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise CredentialsError(str(error)) from None
    tables = document.get("credentials", [])
    tables = (
        [table for table in tables if isinstance(table, dict)] if isinstance(tables, list) else []
    )
    listed, revoked = set(), set()
    for table in tables:
        digest = table.get("token_sha256")
        keys = {table.get("id")}
        if isinstance(digest, str) and _HEX_DIGEST.fullmatch(digest.lower()):
            keys.add(bytes.fromhex(digest))
        listed |= keys
        if table.get("revoked", False) is not False:  # anything but a plain false revokes
            revoked |= keys
    entries, newly = [], []
    for entry in previous.entries:
        if not entry.revoked and (entry.digest not in listed or {entry.id, entry.digest} & revoked):
            entry = replace(entry, revoked=True)
            newly.append(entry.id)
        entries.append(entry)
    return Credentials(tuple(entries)), newly


def _credential(number: int, table: Any, registry: Registry) -> Credential:
    where = f"credential {number}"
    if not isinstance(table, dict):
        raise CredentialsError(f"{where}: expected a table")
    unknown = sorted(set(table) - _FIELDS)
    if unknown:
        raise CredentialsError(f"{where}: unknown key {unknown[0]!r}")
    ident, trust, digest = table.get("id"), table.get("trust"), table.get("token_sha256")
    revoked = table.get("revoked", False)
    if not isinstance(ident, str) or not ident:
        raise CredentialsError(f"{where}: id must be a non-empty string")
    where = f"credential {ident!r}"
    sites = _sites(where, table.get("sites"), trust, registry)
    if not isinstance(digest, str) or not _HEX_DIGEST.fullmatch(digest.lower()):
        raise CredentialsError(f"{where}: token_sha256 must be 64 hex digits")
    if not isinstance(revoked, bool):
        raise CredentialsError(f"{where}: revoked must be true or false")
    expires = table.get("expires")
    if expires is not None and type(expires) is not date:
        raise CredentialsError(f"{where}: expires must be a TOML date, e.g. 2026-11-30")
    kinds = table.get("event_types", ["*"])
    if not isinstance(kinds, list) or not kinds or not all(isinstance(k, str) for k in kinds):
        raise CredentialsError(f'{where}: event_types must be a list, e.g. ["ambulance.*"]')
    return Credential(
        ident, str(trust), bytes.fromhex(digest), revoked, expires, sites, tuple(kinds)
    )


def _sites(where: str, listed: object, trust: object, registry: Registry) -> frozenset[str]:
    """The sites a credential may post for: its trust's, or those it lists ("*": every one)."""
    if listed is None:
        if trust not in registry.trusts:
            raise CredentialsError(
                f"{where}: trust must be one of {', '.join(registry.trusts)}, or list its sites"
            )
        return frozenset(registry.sites_of_trust(str(trust)))
    if not isinstance(trust, str) or not trust:
        raise CredentialsError(f"{where}: trust must name who holds it")
    if listed == ["*"]:
        return frozenset(registry.sites)
    if not isinstance(listed, list) or not listed:
        raise CredentialsError(f'{where}: sites must be a list of site codes, or ["*"]')
    unknown = sorted(str(site) for site in listed if site not in registry.sites)
    if unknown:
        raise CredentialsError(f"{where}: sites: {unknown[0]!r} is not in the site registry")
    return frozenset(str(site) for site in listed)


def _each_once(key: str, values: list[str]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            shown = value if key == "id" else value[:12] + "..."
            raise CredentialsError(f"{key} {shown!r} appears twice")
        seen.add(value)


class CredentialsFile:
    """The credentials in a file, re-read when the file changes (looked at every few seconds)."""

    def __init__(
        self,
        path: Path,
        registry: Registry,
        *,
        check_every: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._path = path
        self._registry = registry
        self._check_every = check_every
        self._clock = clock
        self._version = self._stamp()
        self._credentials = load_credentials(path, registry)  # a bad file at start is fatal
        self._checked = clock()

    def current(self) -> Credentials:
        now = self._clock()
        if now - self._checked >= self._check_every:
            self._checked = now
            self._reload_if_changed()
        return self._credentials

    def _reload_if_changed(self) -> None:
        version = self._stamp()
        if version == self._version:
            return
        self._version = version
        try:
            self._credentials = load_credentials(self._path, self._registry)
        except CredentialsError as error:
            self._revoke_only(str(error))
            return
        log.info("credentials reloaded", extra={"entries": len(self._credentials.entries)})

    def _revoke_only(self, reason: str) -> None:
        newly: list[str] = []
        try:
            text = self._path.read_text(encoding="utf-8")
            self._credentials, newly = revoked_by(text, self._credentials)
        except (OSError, UnicodeDecodeError, CredentialsError):
            pass  # not readable as TOML: there is nothing to read a revocation from
        log.error(
            "credentials file not reloaded: the previous credentials stay in force, less what"
            " it revokes",
            extra={"reason": reason, "revoked": newly},
        )

    def _stamp(self) -> tuple[int, int, int] | None:
        try:
            status = os.stat(self._path)
        except OSError:
            return None
        return status.st_mtime_ns, status.st_size, status.st_ino
