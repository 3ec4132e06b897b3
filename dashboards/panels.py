"""Panel builders shared by the dashboards: site tables, trust tables, stats and trends.

Each takes `Measure`s (what a number is, its unit, its feed and its colour steps) and returns a
grafana-foundation-sdk builder, so that every dashboard names, colours and marks stale values
the same way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from grafana_foundation_sdk.builders import dashboard as grafana
from grafana_foundation_sdk.builders import prometheus, stat, table, timeseries
from grafana_foundation_sdk.builders.common import (
    GraphThresholdsStyleConfig,
    ReduceDataOptions,
    VizLegendOptions,
)
from grafana_foundation_sdk.builders.common import TableSortByFieldState as SortBy
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models.dashboard import (
    DashboardSpecialValueMapOptions,
    DataSourceRef,
    DataTransformerConfig,
    DynamicConfigValue,
    MatcherConfig,
    SpecialValueMap,
    SpecialValueMatch,
    Threshold,
    ThresholdsConfig,
    ThresholdsMode,
    ValueMap,
    ValueMapping,
    ValueMappingResult,
)
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

from dashboards import promql
from dashboards.promql import Feed, Undefined
from streams.core.intake import FEED_NAMES
from uecflow.config import Registry

DATASOURCE_UID = "uecflow-prometheus"
PROMETHEUS = DataSourceRef(type_val="prometheus", uid=DATASOURCE_UID)
SITE_DASHBOARD_UID = "uecflow-site"

# (from value, colour): Grafana colours a value by the last step it reaches; the first is the base.
Steps = tuple[tuple[float | None, str], ...]
GOOD, BAD, STALE_COLOUR, NEUTRAL = "green", "red", "purple", "text"


def at_most(limit: float) -> Steps:
    """A maximum on a continuous value: red only above it, as the `value > limit` alerts are."""
    # Grafana gives a value equal to a step that step's colour; the limit itself meets the target.
    return ((None, GOOD), (math.nextafter(limit, math.inf), BAD))


def count_at_most(limit: int) -> Steps:
    """A maximum on a count: red from the first patient or ambulance over it."""
    return ((None, GOOD), (limit + 1, BAD))


def at_least(minimum: float) -> Steps:
    return ((None, BAD), (minimum, GOOD))


def feed_name(feed: Feed) -> str:
    return FEED_NAMES.get(feed.stream, feed.stream)


@dataclass(frozen=True, slots=True)
class Measure:
    """A number on the boards: its gauge, how to show it and the target that colours it."""

    ref: str  # the query's refId: short, unique within a panel, never shown to users
    title: str
    metric: str
    unit: str
    feed: Feed
    steps: Steps | None = None  # None: no target, shown uncoloured
    undefined: Undefined = "nan"


# --- small pieces ---------------------------------------------------------------------------


def query(
    expr: str, ref: str, *, instant: bool, table_format: bool = False, legend: str | None = None
) -> prometheus.Dataquery:
    built = prometheus.Dataquery().expr(expr).ref_id(ref).datasource(PROMETHEUS)
    built = built.instant() if instant else built.range()
    shape = PromQueryFormat.TABLE if table_format else PromQueryFormat.TIME_SERIES
    built = built.format(shape)
    return built.legend_format(legend) if legend is not None else built


def thresholds(steps: Steps) -> ThresholdsConfig:
    return ThresholdsConfig(
        mode=ThresholdsMode.ABSOLUTE,
        steps=[Threshold(value=value, color=colour) for value, colour in steps],
    )


def reading_mappings(undefined_text: str = "n/a") -> list[ValueMapping]:
    """STALE_MARK reads "STALE" and NaN reads `undefined_text`, whatever the number."""
    stale = ValueMappingResult(text="STALE", color=STALE_COLOUR, index=0)
    undefined = ValueMappingResult(text=undefined_text, color=NEUTRAL, index=1)
    return [
        ValueMap(options={str(promql.STALE_MARK): stale}),
        SpecialValueMap(DashboardSpecialValueMapOptions(SpecialValueMatch.NA_N, undefined)),
    ]


def site_names(registry: Registry) -> list[ValueMapping]:
    return [_names({code: site.short_name for code, site in registry.sites.items()})]


def trust_names(registry: Registry) -> list[ValueMapping]:
    names = {code: trust.short_name for code, trust in registry.trusts.items()}
    return [_names(names | {promql.SYSTEM_LABEL: "System total"})]


def _names(names: dict[str, str]) -> ValueMap:
    return ValueMap(
        options={
            code: ValueMappingResult(text=name, index=index)
            for index, (code, name) in enumerate(names.items())
        }
    )


# A field override: which field (by its shown name) and what it changes.
Override = tuple[MatcherConfig, list[DynamicConfigValue]]


def _by_name(name: str, properties: list[DynamicConfigValue]) -> Override:
    return MatcherConfig("byName", name), properties


def _cell(coloured: bool) -> DynamicConfigValue:
    kind = "color-background" if coloured else "auto"
    return DynamicConfigValue("custom.cellOptions", {"type": kind})


def _measure_column(measure: Measure) -> Override:
    properties = [DynamicConfigValue("unit", measure.unit), _cell(measure.steps is not None)]
    if measure.steps is not None:
        properties.append(DynamicConfigValue("thresholds", thresholds(measure.steps)))
    return _by_name(measure.title, properties)


def age_title(feed: Feed) -> str:
    return f"Last {feed_name(feed)} event"


def _age_column(feed: Feed) -> Override:
    never = ValueMappingResult(text="no events", color=BAD, index=0)
    return _by_name(
        age_title(feed),
        [
            DynamicConfigValue("unit", "s"),
            _cell(True),
            DynamicConfigValue("thresholds", thresholds(((None, GOOD), (feed.limit_seconds, BAD)))),
            DynamicConfigValue(
                "mappings", [SpecialValueMap(DashboardSpecialValueMapOptions(_NAN, never))]
            ),
        ],
    )


_NAN = SpecialValueMatch.NA_N


def _site_column(registry: Registry) -> Override:
    drill_down = {
        "title": "Open this site's drill-down",
        "url": f"/d/{SITE_DASHBOARD_UID}/?var-site=${{__value.raw}}&${{__url_time_range}}",
    }
    return _by_name(
        "Site",
        [
            DynamicConfigValue("mappings", site_names(registry)),
            DynamicConfigValue("links", [drill_down]),
            DynamicConfigValue("custom.width", 140),
        ],
    )


def _merge_and_name(key: str, key_title: str, names: dict[str, str]) -> list[DataTransformerConfig]:
    """One row per site (or trust) out of one instant query per column, columns named."""
    order = {key: 0} | {field: index + 1 for index, field in enumerate(names)}
    return [
        DataTransformerConfig(id_val="merge", options={}),
        DataTransformerConfig(
            id_val="organize",
            options={
                "excludeByName": {"Time": True},
                "indexByName": order,
                "renameByName": {key: key_title} | names,
            },
        ),
    ]


# --- tables ---------------------------------------------------------------------------------


def site_table(
    title: str,
    description: str,
    measures: Sequence[Measure],
    registry: Registry,
    feeds: Sequence[Feed] = (),
) -> table.Panel:
    """Every site against its targets: one row per site, a column per measure, then the age of
    each feed in `feeds`. A value whose feed is stale reads STALE."""
    panel = _table(title, description)
    names: dict[str, str] = {}
    for measure in measures:
        expr = promql.current_by_site(measure.metric, measure.feed, measure.undefined)
        panel = panel.with_target(query(expr, measure.ref, instant=True, table_format=True))
        names[f"Value #{measure.ref}"] = measure.title
    for feed in feeds:
        ref = f"age_{feed.stream}"
        expr = promql.feed_age_or_nan(feed)
        panel = panel.with_target(query(expr, ref, instant=True, table_format=True))
        names[f"Value #{ref}"] = age_title(feed)
    overrides = [_site_column(registry)]
    overrides += [_measure_column(measure) for measure in measures]
    overrides += [_age_column(feed) for feed in feeds]
    panel = panel.transformations(_merge_and_name("site", "Site", names))
    return _overridden(panel, overrides).sort_by([SortBy().display_name("Site")])


def trust_table(
    title: str,
    description: str,
    measures: Sequence[Measure],
    registry: Registry,
    feeds: tuple[Feed, ...],
) -> table.Panel:
    """Trust and system totals, not masked: a last column counts the stale site feeds behind
    each row, so a total built partly on old numbers is flagged rather than hidden."""
    panel = _table(title, description)
    names: dict[str, str] = {}
    for measure in measures:
        expr = promql.current_by_trust(measure.metric, measure.undefined)
        panel = panel.with_target(query(expr, measure.ref, instant=True, table_format=True))
        names[f"Value #{measure.ref}"] = measure.title
    stale = Measure("stale", "Stale feeds", "", "none", feeds[0], count_at_most(0))
    expr = promql.stale_feed_count_by_trust(feeds)
    panel = panel.with_target(query(expr, stale.ref, instant=True, table_format=True))
    names["Value #stale"] = stale.title
    trust = _by_name("Trust", [DynamicConfigValue("mappings", trust_names(registry)), _width(160)])
    overrides = [trust, *(_measure_column(m) for m in (*measures, stale))]
    panel = panel.transformations(_merge_and_name("trust", "Trust", names))
    return _overridden(panel, overrides)


def yesterday(panel: table.Panel) -> table.Panel:
    """The panel's instant queries evaluated at the end of yesterday (the dashboard's London
    day): the day so far, shifted back one whole day."""
    return panel.time_from("now/d").time_shift("1d/d")


# Every firing uecflow alert, valued at the instant its condition began (Prometheus keeps it in
# ALERTS_FOR_STATE for every alert, held or not).
_FIRING_SINCE = (
    'ALERTS_FOR_STATE{alertname=~"Uecflow.+"} and ignoring(alertstate) ALERTS{alertstate="firing"}'
)


def breaches_since(
    title: str, description: str, registry: Registry, alert_words: dict[str, str]
) -> table.Panel:
    """One row per alert firing now, with its site or trust, since when and for how long;
    `alert_words` names each alert in words."""
    since = query(f"({_FIRING_SINCE}) * 1000", "since", instant=True, table_format=True)
    lasted = query(f"time() - ({_FIRING_SINCE})", "lasted", instant=True, table_format=True)
    names = {"alertname": "Breach", "site": "Site", "trust": "Trust", "stream": "Feed"}
    names |= {"Value #since": "Since", "Value #lasted": "For"}
    shown = list(names)
    hidden = ("Time", "__name__", "place", "severity", "to", "instance", "job")
    organise = DataTransformerConfig(
        id_val="organize",
        options={
            "excludeByName": dict.fromkeys(hidden, True),
            "indexByName": {field: index for index, field in enumerate(shown)},
            "renameByName": names,
        },
    )
    overrides = [
        _by_name("Breach", [DynamicConfigValue("mappings", [_names(alert_words)])]),
        _by_name("Site", [DynamicConfigValue("mappings", site_names(registry)), _width(140)]),
        _by_name("Trust", [DynamicConfigValue("mappings", trust_names(registry)), _width(160)]),
        _by_name("Since", [DynamicConfigValue("unit", "dateTimeAsLocalNoDateIfToday")]),
        _by_name("For", [DynamicConfigValue("unit", "s")]),
    ]
    panel = (
        _table(title, description)
        .no_value("No breach now")
        .with_target(since)
        .with_target(lasted)
        .transformations([DataTransformerConfig(id_val="merge", options={}), organise])
    )
    return _overridden(panel, overrides).sort_by([SortBy().display_name("Since")])


def _width(pixels: int) -> DynamicConfigValue:
    return DynamicConfigValue("custom.width", pixels)


def _table(title: str, description: str) -> table.Panel:
    return (
        table.Panel()
        .title(title)
        .description(description)
        .datasource(PROMETHEUS)
        .mappings(reading_mappings())
        .no_value("–")  # noqa: RUF001 (a dash reads as "nothing here")
        .align(common.FieldTextAlignment.CENTER)
    )


def _overridden(panel: table.Panel, overrides: list[Override]) -> table.Panel:
    for matcher, properties in overrides:
        panel = panel.with_override(matcher, properties)
    return panel


# --- stats ----------------------------------------------------------------------------------


def _stat(title: str, description: str, unit: str, steps: Steps | None) -> stat.Panel:
    panel = (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(PROMETHEUS)
        .unit(unit)
        .mappings(reading_mappings())
        .graph_mode(common.BigValueGraphMode.NONE)
        .text_mode(common.BigValueTextMode.VALUE)
        # "last", not "lastNotNull": that skips NaN, and NaN must read "n/a", not "No data".
        .reduce_options(ReduceDataOptions().calcs(["last"]).values(False))
    )
    if steps is None:
        return panel.color_mode(common.BigValueColorMode.NONE)
    return panel.color_mode(common.BigValueColorMode.BACKGROUND).thresholds(
        _thresholds_builder(steps)
    )


def _thresholds_builder(steps: Steps) -> grafana.ThresholdsConfig:
    model = thresholds(steps)
    return grafana.ThresholdsConfig().mode(model.mode).steps(model.steps)


def site_stat(measure: Measure, site: str, description: str) -> stat.Panel:
    """One site's current value, or STALE."""
    expr = promql.current_by_site(measure.metric, measure.feed, measure.undefined, site)
    return _stat(measure.title, description, measure.unit, measure.steps).with_target(
        query(expr, measure.ref, instant=True)
    )


def system_stat(measure: Measure, description: str) -> stat.Panel:
    expr = promql.system_value(measure.metric, measure.undefined)
    return _stat(measure.title, description, measure.unit, measure.steps).with_target(
        query(expr, measure.ref, instant=True)
    )


def stale_feeds_stat(feeds: tuple[Feed, ...], description: str) -> stat.Panel:
    expr = promql.stale_feed_count(feeds)
    return _stat("Stale feeds", description, "none", count_at_most(0)).with_target(
        query(expr, "stale", instant=True)
    )


def feed_age_stat(feed: Feed, site: str) -> stat.Panel:
    limit = feed.limit_seconds / 60
    description = (
        f"Time since the latest {feed_name(feed)} event from this site (event time). Red when "
        f"older than {limit:g} minutes: the {feed_name(feed)} numbers on this page are then "
        "stale and read STALE."
    )
    never = ValueMappingResult(text="no events", color=BAD, index=0)
    panel = _stat(age_title(feed), description, "s", ((None, GOOD), (feed.limit_seconds, BAD)))
    return panel.mappings(
        [SpecialValueMap(DashboardSpecialValueMapOptions(_NAN, never))]
    ).with_target(query(promql.feed_age_or_nan(feed, site), f"age_{feed.stream}", instant=True))


# --- trends ---------------------------------------------------------------------------------


def trend(
    title: str,
    description: str,
    measures: Sequence[Measure],
    registry: Registry,
    site: str | None = None,
) -> timeseries.Panel:
    """Values over time, a gap wherever the feed was stale; the first measure's target drawn.

    For all sites (`site` None) there is one line per site, named; for one site, one line per
    measure, named by its title."""
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(PROMETHEUS)
        .unit(measures[0].unit)
        .legend(
            VizLegendOptions()
            .show_legend(True)
            .display_mode(common.LegendDisplayMode.LIST)
            .placement(common.LegendPlacement.BOTTOM)
        )
        .span_nulls(False)
    )
    for measure in measures:
        expr = promql.history_by_site(measure.metric, measure.feed, measure.undefined, site)
        legend = "{{site}}" if site is None else measure.title
        panel = panel.with_target(query(expr, measure.ref, instant=False, legend=legend))
    steps = measures[0].steps
    if steps is not None:
        panel = panel.thresholds(_thresholds_builder(steps)).thresholds_style(
            GraphThresholdsStyleConfig().mode(common.GraphThresholdsStyleMode.DASHED)
        )
    if site is None:
        for code, named in registry.sites.items():
            panel = panel.with_override(
                MatcherConfig("byName", code), [DynamicConfigValue("displayName", named.short_name)]
            )
    return panel


def intake_trend(description: str) -> timeseries.Panel:
    """Events applied per minute by feed, and refused ones by feed and reason."""
    applied = "sum by (stream) (rate(uecflow_events_processed_total[$__rate_interval])) * 60"
    refused = (
        "sum by (stream, reason) (rate(uecflow_events_rejected_total[$__rate_interval])) * 60"
        # Nothing refused yet: a flat zero per feed rather than an empty panel.
        " or on() sum by (stream) (rate(uecflow_events_processed_total[$__rate_interval])) * 0"
    )
    return (
        timeseries.Panel()
        .title("Events applied and refused per minute, by feed")
        .description(description)
        .datasource(PROMETHEUS)
        .unit("none")
        .with_target(query(applied, "applied", instant=False, legend="applied: {{stream}}"))
        .with_target(
            query(refused, "refused", instant=False, legend="refused: {{stream}} {{reason}}")
        )
    )
