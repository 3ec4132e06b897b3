"""Recording rules: every trust's, place's and the system's figures, made in Prometheus from the
site series the workers export.

Each worker exports only the sites of the partitions it holds, so no worker can total a trust.
A total sums its sites' series; a ratio or a mean is recomputed from its summed parts (never an
average of ratios); a longest wait is the largest. Named `level:metric:operation`, as
Prometheus's conventions have it; the dashboards, the alerts and the report read these.
"""

from __future__ import annotations

from streams.core.metrics import (
    LEVELS,
    METRIC,
    METRICS,
    OPEL_HIGHEST_IN_FORCE,
    OPEL_IN_FORCE,
    PART,
    Level,
    Metric,
)

# The labels a level's figures keep.
KEPT: dict[Level, tuple[str, ...]] = {"trust": ("trust",), "place": ("place",), "system": ()}


def _by(labels: tuple[str, ...]) -> str:
    return f" by ({', '.join(labels)}) " if labels else ""


def _summed(family: str, level: Level) -> str:
    kept = KEPT[level]
    # While a rebalance moves a site, Prometheus may hold a scrape of it from the worker it
    # left and one from the worker it joined: each site is counted once.
    return f"sum{_by(kept)}(max{_by(('site', *kept))}({family}))"


def expression(metric: Metric, level: Level) -> str:
    """The PromQL of a metric's figure at a level, from the site series."""
    aggregate = metric.aggregate
    if aggregate.operation == "sum":
        return _summed(metric.prometheus, level)
    if aggregate.operation == "max":
        return f"max{_by(KEPT[level])}({metric.prometheus})"
    assert aggregate.parts is not None, f"{metric.name}: a ratio needs its two parts"
    numerator, denominator = ((METRIC | PART)[name].prometheus for name in aggregate.parts)
    # Nothing to divide by leaves the figure out, as the worker leaves an undefined ratio out.
    return f"{_summed(numerator, level)} / ({_summed(denominator, level)} > 0)"


def recording_rules() -> list[dict[str, str]]:
    rules = [
        {"record": metric.recorded(level), "expr": expression(metric, level)}
        for level in LEVELS
        for metric in METRICS
    ]
    declared, highest = (
        METRIC[name].recorded("trust") for name in ("opel_trust_level", "opel_site_level")
    )
    rules.append({"record": OPEL_IN_FORCE, "expr": f"{declared} or {highest}"})
    rules.append({"record": OPEL_HIGHEST_IN_FORCE, "expr": f"max({OPEL_IN_FORCE})"})
    return rules
