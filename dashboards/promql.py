"""PromQL for the dashboards: values that hide themselves when their feed is stale.

Every expression here returns one series per site (or trust) whenever the worker is up, so a
panel never goes blank because nothing breaches. A site's value is replaced by:

- `STALE_MARK` (-1) when the feed it comes from has had no event for longer than its limit in
  `[targets.stale_after_minutes]`, or none at all: the panels map it to the word "STALE";
- NaN when the worker leaves it undefined (a ratio with nothing to divide, a mean of nothing):
  the panels map it to "n/a", and a time series leaves a gap.

No metric is negative, so -1 cannot be mistaken for a reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from streams.core.metrics import BY_PROMETHEUS, OPEL_HIGHEST_IN_FORCE, OPEL_IN_FORCE, Level

FRESHNESS = "uecflow_last_event_timestamp_seconds"
STALE_MARK = -1
SYSTEM_LABEL = "system"  # the `trust` value given to the system total in trust tables
# Every site series of this gauge exists whenever the worker is up (a count, never undefined):
# it is the list of sites that a value or a mark is given for.
SITE_ROSTER_METRIC = "uecflow_ae_in_department"

Undefined = Literal["nan", "zero"]


@dataclass(frozen=True, slots=True)
class Feed:
    """One input stream and how old its latest event may be before its numbers are stale."""

    stream: str
    limit_seconds: float


def sites_selector(site: str | None) -> str:
    """The label matcher for every site, or for one (a template variable such as `$site`)."""
    return 'site!=""' if site is None else f'site="{site}"'


def roster(site: str | None = None) -> str:
    return f"group by (site) ({SITE_ROSTER_METRIC}{{{sites_selector(site)}}})"


def feed_age(feed: Feed, site: str | None = None) -> str:
    """Seconds since each site's latest event on the feed (event time against the clock)."""
    return f'max by (site) (time() - {FRESHNESS}{{{sites_selector(site)},stream="{feed.stream}"}})'


def feed_age_or_nan(feed: Feed, site: str | None = None) -> str:
    # A site that never sent an event on this feed gets NaN ("no events") rather than no row.
    return f"{feed_age(feed, site)} or on(site) ({roster(site)} * NaN)"


def stale_sites(feed: Feed, site: str | None = None) -> str:
    """Sites whose feed is older than its limit, or has never reported."""
    silent = f'{roster(site)} unless on(site) {FRESHNESS}{{stream="{feed.stream}"}}'
    return f"({feed_age(feed, site)} > {_number(feed.limit_seconds)}) or ({silent})"


def fresh_sites(feed: Feed, site: str | None = None) -> str:
    return f"{feed_age(feed, site)} <= {_number(feed.limit_seconds)}"


def _site_value(metric: str, undefined: Undefined, site: str | None) -> str:
    fallback = "0" if undefined == "zero" else "NaN"
    value = f"max by (site) ({metric}{{{sites_selector(site)}}})"
    return f"({value} or on(site) ({roster(site)} * {fallback}))"


def current_by_site(
    metric: str, feed: Feed, undefined: Undefined = "nan", site: str | None = None
) -> str:
    """The latest value per site: the reading, NaN if undefined, or STALE_MARK if stale."""
    stale = stale_sites(feed, site)
    value = _site_value(metric, undefined, site)
    return f"({value} unless on(site) ({stale})) or on(site) (({stale}) * 0 + {STALE_MARK})"


def history_by_site(
    metric: str, feed: Feed, undefined: Undefined = "nan", site: str | None = None
) -> str:
    """The value per site over time, NaN (a gap) wherever its feed was stale at that moment."""
    value = _site_value(metric, undefined, site)
    return f"({value} and on(site) ({fresh_sites(feed, site)})) or on(site) ({roster(site)} * NaN)"


def recorded(level: Level, metric: str) -> str:
    """The recording rule of a metric's trust, place or system figure (`alerts.recording`)."""
    if metric == OPEL_IN_FORCE:  # a trust's own; the system's: the highest trust's
        return metric if level == "trust" else OPEL_HIGHEST_IN_FORCE
    return BY_PROMETHEUS[metric].recorded(level)


def _trust_value(metric: str, undefined: Undefined) -> str:
    fallback = "0" if undefined == "zero" else "NaN"
    value = recorded("trust", metric)
    every_total = f"group by (trust) ({recorded('trust', SITE_ROSTER_METRIC)})"
    return f"{value} or on(trust) ({every_total} * {fallback})"


def current_by_trust(metric: str, undefined: Undefined = "nan") -> str:
    """Each trust's total and the system's (labelled trust="system"), not masked: the
    trust tables show how many of the feeds behind them are stale instead."""
    return f"{_trust_value(metric, undefined)} or {_name_system(system_value(metric, undefined))}"


def _stale_flags(feed: Feed) -> str:
    """1 for each site whose feed is stale or silent, 0 for each fresh one, with its trust."""
    age = f'time() - {FRESHNESS}{{site!="",stream="{feed.stream}"}}'
    every_site = f'group by (site, trust) ({SITE_ROSTER_METRIC}{{site!=""}})'
    limit = _number(feed.limit_seconds)
    return f"(max by (site, trust) ({age}) > bool {limit}) or on(site) {every_site}"


def stale_feed_count_by_trust(feeds: tuple[Feed, ...]) -> str:
    """How many (site, feed) pairs are stale or silent, per trust and for the system."""
    per_trust = " + ".join(f"sum by (trust) ({_stale_flags(feed)})" for feed in feeds)
    return f"({per_trust}) or {_name_system(stale_feed_count(feeds))}"


def stale_feed_count(feeds: tuple[Feed, ...]) -> str:
    return " + ".join(f"sum({_stale_flags(feed)})" for feed in feeds)


def system_value(metric: str, undefined: Undefined = "nan") -> str:
    fallback = "0" if undefined == "zero" else "NaN"
    value = recorded("system", metric)
    # as_of exists only while the worker is up: no fallback value when it is down.
    return f"{value} or on() (max(uecflow_as_of_timestamp_seconds) * {fallback})"


def _name_system(expr: str) -> str:
    return f'label_replace({expr}, "trust", "{SYSTEM_LABEL}", "trust", "")'


def _number(value: float) -> str:
    return repr(int(value)) if float(value).is_integer() else repr(value)
