"""The board for trusts' integration teams: what the ingestion gateway made of their feed.

One trust at a time (the variable `trust`): its requests by status, its events accepted by site,
its events rejected by site and reason (and the day's totals, to fix the worst first), the time
it waits for an answer and for Kafka. From the gateway's own counters
(producers.gateway.metrics); nothing here names a patient, an event or a token.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import common as builders
from grafana_foundation_sdk.builders import dashboard as grafana
from grafana_foundation_sdk.builders import table, timeseries
from grafana_foundation_sdk.builders.common import TableSortByFieldState as SortBy
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models.dashboard import (
    DataTransformerConfig,
    DynamicConfigValue,
    MatcherConfig,
    VariableRefresh,
    VariableSort,
)

from dashboards.panels import PROMETHEUS, query

UID = "uecflow-trust-feeds"
TRUST = 'trust="$trust"'
RATE = "[$__rate_interval]"
KAFKA_ACK = "uecflow_gateway_kafka_ack_seconds"
TRUST_VARIABLE_QUERY = 'label_values(uecflow_gateway_requests_total{trust!=""}, trust)'


def trust_variable() -> grafana.QueryVariable:
    return (
        grafana.QueryVariable("trust")
        .label("Trust")
        .description("Whose feed: the credential's trust (or organisation) as the gateway saw it.")
        .datasource(PROMETHEUS)
        .query(TRUST_VARIABLE_QUERY)
        .refresh(VariableRefresh.ON_DASHBOARD_LOAD)
        .sort(VariableSort.ALPHABETICAL_ASC)
        .multi(False)
        .include_all(False)
    )


def series(
    title: str,
    description: str,
    unit: str,
    lines: list[tuple[str, str, str]],
    names: dict[str, str] | None = None,
) -> timeseries.Panel:
    """A time series panel of (expression, refId, legend) lines; `names` renames lines (site
    codes to the names people use)."""
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(PROMETHEUS)
        .unit(unit)
        .legend(
            builders.VizLegendOptions()
            .show_legend(True)
            .display_mode(common.LegendDisplayMode.LIST)
            .placement(common.LegendPlacement.BOTTOM)
        )
    )
    for expr, ref, legend in lines:
        panel = panel.with_target(query(expr, ref, instant=False, legend=legend))
    for code, name in (names or {}).items():
        panel = panel.with_override(
            MatcherConfig("byName", code), [DynamicConfigValue("displayName", name)]
        )
    return panel


def rejections_today() -> table.Panel:
    expr = (
        f"sum by (site, reason) (increase(uecflow_gateway_events_rejected_total{{{TRUST}}}[24h]))"
        " > 0"
    )
    organise = DataTransformerConfig(
        id_val="organize",
        options={
            "excludeByName": {"Time": True},
            # "Value" for one query, "Value #ref" once there are more: either way, one name.
            "renameByName": {
                "site": "Site",
                "reason": "Reason",
                "Value": "Rejected, 24 h",
                "Value #rejected": "Rejected, 24 h",
            },
        },
    )
    return (
        table.Panel()
        .title("Rejected in the last 24 hours, by site and reason")
        .description(
            "What to fix first: each site and reason with its count of rejected events over the"
            " last 24 hours. Site is empty when the event named no registry site or could not"
            " be read. Each event's own reason is in the gateway's answer to the engine."
        )
        .datasource(PROMETHEUS)
        .no_value("No event rejected in the last 24 hours")
        .with_target(query(expr, "rejected", instant=True, table_format=True))
        .transformations([organise])
        .sort_by([SortBy().display_name("Rejected, 24 h").desc(True)])
    )


def quantile(metric: str, by: str = "trust") -> str:
    selector = f"{{{TRUST}}}" if by == "trust" else ""
    return f"histogram_quantile(0.95, sum by (le) (rate({metric}_bucket{selector}{RATE})))"
