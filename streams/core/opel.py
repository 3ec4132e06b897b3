"""OPEL levels as hospitals declare them: each site's own, and its trust's when it declares one.

A trust's level is the highest of its sites' unless the trust declares its own (`scope`
"trust", sent from any of its hospitals), which then holds instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from events.contract import OpelDeclared
from streams.core.history import History
from streams.core.instants import Instant


@dataclass(slots=True)
class Declaration:
    occurred_at: Instant
    event_id: str
    level: int

    @classmethod
    def of(cls, event: OpelDeclared, at: Instant) -> Declaration:
        return cls(at, event.event_id, event.level)

    @property
    def order(self) -> tuple[Instant, int, str]:
        """The latest wins; two at the same instant, the higher level (Prometheus, picking
        among sites, can only take the larger), then the greater event_id."""
        return (self.occurred_at, self.level, self.event_id)


class DeclarationHistory(History[Declaration]):
    """A hospital's declarations of one scope."""

    __slots__ = ()


def _higher(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


@dataclass(slots=True)
class OpelLevels:
    """The levels in force: the highest its sites declared, and the highest its trusts declared
    (one trust: its own; from the several hospitals it may declare from, the highest)."""

    sites: int | None = None
    trust: int | None = None

    def count(self, scope: str, declaration: Declaration) -> None:
        if scope == "trust":
            self.trust = _higher(self.trust, declaration.level)
        else:
            self.sites = _higher(self.sites, declaration.level)

    def add(self, other: OpelLevels) -> None:
        self.sites = _higher(self.sites, other.sites)
        self.trust = _higher(self.trust, other.trust)

    @property
    def in_force(self) -> int | None:
        """A trust's level: its own declaration if it made one, else the highest of its sites."""
        return self.sites if self.trust is None else self.trust
