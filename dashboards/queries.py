"""Every PromQL query of a dashboard, ready to send to Prometheus without Grafana.

`panel_queries(dashboard, {"site": "R1H12"})` lists each panel's queries, and the template
variables' own queries, with `$site`, `${site}`, `${site:raw}` and `[[site]]` substituted and
Grafana's built-in intervals fixed (`BUILT_INS`). A variable whose query is
`label_values(SELECTOR, label)` is listed as the SELECTOR alone: the variable has options
exactly when that selector returns series. A bare `label_values(label)` (no selector) or a
non-PromQL variable query is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

# Fixed stand-ins for Grafana's interval variables: five minutes spans several scrapes at any
# usual scrape interval, so a rate has the two samples it needs.
BUILT_INS = {
    "__rate_interval": "5m",
    "__interval": "1m",
    "__range": "1d",
    "__range_s": "86400",
    "__range_ms": "86400000",
    "__interval_ms": "60000",
}
VARIABLE_PANEL = "(template variable)"
_REFERENCE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)")
_LABEL_VALUES = re.compile(r"^\s*label_values\((?P<selector>.+),\s*(?P<label>\w+)\s*\)\s*$", re.S)


@dataclass(frozen=True, slots=True)
class PanelQuery:
    dashboard_uid: str
    panel_title: str  # VARIABLE_PANEL plus the variable's name for a template variable
    ref_id: str
    expr: str


def panel_queries(dashboard: Mapping[str, Any], variables: Mapping[str, str]) -> list[PanelQuery]:
    """The dashboard's queries in panel order, then its variables' queries."""
    values = {**BUILT_INS, **variables}
    uid = str(dashboard.get("uid", ""))
    found = [
        PanelQuery(uid, str(panel.get("title", "")), str(target.get("refId", "")), expr)
        for panel in _panels(dashboard.get("panels", []))
        for target in panel.get("targets", [])
        if (expr := target.get("expr"))
    ]
    found += _variable_queries(uid, dashboard)
    return [
        PanelQuery(q.dashboard_uid, q.panel_title, q.ref_id, substitute(q.expr, values))
        for q in found
    ]


def substitute(expr: str, values: Mapping[str, str]) -> str:
    """Replace each known variable reference; an unknown one is left for the caller to see."""

    def value_of(match: re.Match[str]) -> str:
        name = next(group for group in match.groups() if group is not None)
        return values.get(name, match.group(0))

    return _REFERENCE.sub(value_of, expr)


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))  # a collapsed row holds its panels


def _variable_queries(uid: str, dashboard: Mapping[str, Any]) -> list[PanelQuery]:
    queries = []
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") != "query":
            continue
        text = variable.get("query")
        if isinstance(text, dict):  # the newer editor stores {"query": ..., "refId": ...}
            text = text.get("query")
        expr = _as_promql(text) if isinstance(text, str) else None
        if expr:
            panel = f"{VARIABLE_PANEL} {variable.get('name', '')}".strip()
            queries.append(PanelQuery(uid, panel, str(variable.get("name", "")), expr))
    return queries


def _as_promql(text: str) -> str | None:
    stripped = text.strip()
    if stripped.startswith("label_values("):
        match = _LABEL_VALUES.match(stripped)
        return match.group("selector").strip() if match else None
    if re.match(r"^(label_names|metrics|query_result)\(", stripped):
        inner = re.match(r"^query_result\((?P<expr>.+)\)$", stripped, re.S)
        return inner.group("expr").strip() if inner else None
    return stripped or None
