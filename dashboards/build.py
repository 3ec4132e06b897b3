"""The five uecflow dashboards, built with grafana-foundation-sdk from the registry.

`all_dashboards(registry)` returns each dashboard's JSON model by uid; `render` writes one the
way `dashboards/generated/` holds it (sorted keys, 2-space indent, trailing newline).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol, Self, TypeVar

from grafana_foundation_sdk.builders import dashboard as grafana
from grafana_foundation_sdk.builders import table
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard as DashboardModel
from grafana_foundation_sdk.models.dashboard import (
    DashboardCursorSync,
    DashboardLinkType,
    RowPanel,
    VariableRefresh,
    VariableSort,
)

from alerts.rules import alerts
from dashboards import panels
from dashboards import trust_feeds as feeds
from dashboards.measures import Catalogue, catalogue
from dashboards.panels import PROMETHEUS, Measure, feed_name
from dashboards.promql import Feed
from uecflow.config import Registry

# Every site is in the department census, even one with no beds open or reported.
SITE_VARIABLE_QUERY = 'label_values(uecflow_ae_in_department{site!=""}, site)'
TAG = "uecflow"
STALE_NOTE = (
    "A value whose feed is stale reads STALE; n/a means not defined yet (nothing to divide)."
)


def all_dashboards(registry: Registry) -> dict[str, dict[str, Any]]:
    """uid → dashboard JSON model, for every dashboard."""
    measures = catalogue(registry)
    builders: list[Callable[[Registry, Catalogue], grafana.Dashboard]] = [
        scc_overview,
        site,
        handovers,
        discharge,
        trust_feeds,
    ]
    built = [as_json(builder(registry, measures)) for builder in builders]
    return {str(board["uid"]): board for board in built}


def as_json(board: Builder[DashboardModel]) -> dict[str, Any]:
    model = board.build()
    _number_panels(model)
    decoded: dict[str, Any] = json.loads(json.dumps(model, cls=JSONEncoder))
    return decoded


def render(board: dict[str, Any]) -> str:
    return json.dumps(board, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _number_panels(model: DashboardModel) -> None:
    # Stable ids keep links to a single panel (viewPanel=N) working across regenerations.
    number = 0
    for panel in model.panels or []:
        number += 1
        panel.id_val = number
        if isinstance(panel, RowPanel):
            for inner in panel.panels:
                number += 1
                inner.id_val = number


def _dashboard(uid: str, title: str, description: str) -> grafana.Dashboard:
    others = (
        grafana.DashboardLink("Other uecflow dashboards")
        .type(DashboardLinkType.DASHBOARDS)
        .tags([TAG])
        .as_dropdown(True)
        .include_vars(False)
        .keep_time(True)
    )
    return (
        grafana.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags([TAG, "nel-uec"])
        # London days: "today" on every panel is the London calendar day.
        .timezone("Europe/London")
        .refresh("1m")
        .time("now-24h", "now")
        .tooltip(DashboardCursorSync.CROSSHAIR)
        # Generated from code: an edit in Grafana would be lost at the next push.
        .readonly()
        .link(others)
    )


def _row(title: str) -> grafana.Row:
    return grafana.Row(title)


class _Sizable(Protocol):
    def span(self, w: int) -> Self: ...
    def height(self, h: int) -> Self: ...


SizablePanel = TypeVar("SizablePanel", bound=_Sizable)


def _sized(panel: SizablePanel, width: int, height: int) -> SizablePanel:
    """`width` of the 24 grid columns; the dashboard builder lays panels out left to right."""
    return panel.span(width).height(height)


# --- SCC overview ----------------------------------------------------------------------------


def scc_overview(registry: Registry, m: Catalogue) -> grafana.Dashboard:
    feeds = m.feeds.all
    system_row = [
        m.occupancy,
        m.mffd,
        m.four_hour_today,
        m.over_12h_in_department,
        m.over_12h_after_dta,
        m.longest_ambulance_wait,
        m.handovers_over_45,
    ]
    against_targets = [
        m.occupancy,
        m.mffd,
        m.in_department,
        m.four_hour_today,
        m.over_12h_in_department,
        m.over_12h_after_dta,
        m.ambulances_waiting,
        m.longest_ambulance_wait,
        m.handovers_over_45,
    ]
    demand = [
        m.arrivals_today,
        m.arrivals_last_hour,
        m.ambulance_arrivals_today,
        m.in_department,
        m.over_4h_in_department,
        m.over_4h_share,
        m.over_12h_in_department,
        m.over_12h_share,
        m.cc_occupancy,
        m.escalation_beds,
    ]
    board = _dashboard(
        "uecflow-scc-overview",
        "NEL UEC — system overview",
        "For the System Coordination Centre: every site against its targets, the trust and "
        "system totals, and how fresh each site's feeds are.",
    ).with_row(_row("NEL system now"))
    for measure in system_row:
        board = board.with_panel(_sized(panels.system_stat(measure, _system_text(measure)), 3, 4))
    board = board.with_panel(
        _sized(panels.stale_feeds_stat(feeds, _stale_feeds_text(registry, feeds)), 3, 4)
    )
    return (
        board.with_row(_row("Sites against targets"))
        .with_panel(
            _sized(
                panels.site_table(
                    "Sites against targets",
                    "Each site's latest numbers, coloured red where they miss a target "
                    f"({_targets_text(against_targets)}). {STALE_NOTE} Click a site to open "
                    "its drill-down.",
                    against_targets,
                    registry,
                ),
                24,
                9,
            )
        )
        .with_panel(
            _sized(
                panels.trust_table(
                    "Trusts and system totals",
                    "Each trust's total and the system's, computed from the sums of their "
                    "sites. Stale feeds counts the site feeds (A&E, beds, ambulance) behind the "
                    "row that are stale or have never reported: a total built on them is "
                    "partly old.",
                    against_targets,
                    registry,
                    feeds,
                ),
                24,
                6,
            )
        )
        .with_row(_row("Demand and the department"))
        .with_panel(
            _sized(
                panels.site_table(
                    "Arrivals, the department and critical care",
                    "Attendances and ambulance arrivals today (London day) and A&E arrivals in "
                    "the last hour; patients in the department now, how many have been there "
                    "more than 4 and 12 hours from arrival and their share of it (the SCC "
                    "specification's ED picture); adult critical care occupancy and the "
                    f"escalation beds open in adult G&A. {STALE_NOTE}",
                    demand,
                    registry,
                ),
                24,
                9,
            )
        )
        .with_panel(
            _sized(
                panels.trust_table(
                    "Arrivals and the department: trusts and system",
                    "The same for each trust and the system, from the sums of their sites "
                    "(shares recomputed from the summed counts).",
                    demand,
                    registry,
                    feeds,
                ),
                24,
                6,
            )
        )
        .with_row(_row("OPEL"))
        .with_panel(_sized(_opel_sites(registry, m), 12, 8))
        .with_panel(_sized(_opel_trusts(registry, m, feeds), 12, 8))
        .with_row(_row("Breaches since when, and yesterday"))
        .with_panel(
            _sized(
                panels.breaches_since(
                    "Breaches now, since when",
                    "Every uecflow alert firing now: the site (or trust, for an OPEL level), "
                    "since when its condition has held and for how long (from Prometheus's "
                    "record of the alert, which starts when the condition is first met, before "
                    "any hold time), the oldest first. A breach ended in the last "
                    f"{registry.alerting.keep_firing_minutes:g} minutes is still listed.",
                    registry,
                    _alert_words(registry),
                ),
                24,
                7,
            )
        )
        .with_panel(_sized(_yesterday_sites(registry, m), 24, 8))
        .with_panel(_sized(_yesterday_trusts(registry, m, feeds), 24, 6))
        .with_row(_row("Freshness"))
        .with_panel(
            _sized(
                panels.site_table(
                    "Last event per site and feed",
                    "Time since each site's latest event on each feed, by event time. Red when "
                    f"older than the feed's limit ({_limits_text(feeds)}): that site's numbers "
                    "from the feed read STALE elsewhere.",
                    [],
                    registry,
                    feeds,
                ),
                12,
                8,
            )
        )
        .with_panel(
            _sized(
                panels.intake_trend(
                    "Events the worker applied per minute, and those it refused (sent to the "
                    "dead-letter topic), by feed and reason. A feed at zero is not sending."
                ),
                12,
                8,
            )
        )
    )


def _opel_parameters(m: Catalogue) -> list[Measure]:
    """The integrated OPEL framework's acute parameters that uecflow measures (docs/opel.md)."""
    return [m.handover_mean, m.four_hour_today, m.over_12h_share]


_OPEL_NOTE = (
    "Beside it, the framework's acute parameters uecflow measures: mean handover today, "
    "four-hour performance today and the share of the department over 12 hours (ED occupancy "
    "is not measured). uecflow does not score OPEL: the framework's bands could not be read, "
    "so scoring is off (docs/opel.md)."
)


def _opel_sites(registry: Registry, m: Catalogue) -> table.Panel:
    return panels.site_table(
        "OPEL declared by site",
        "The OPEL level each hospital declared (opel.declared), red at "
        f"{registry.targets.opel_level_max + 1} and above; n/a where none was declared. "
        f"{_OPEL_NOTE} {STALE_NOTE}",
        [m.opel_declared, *_opel_parameters(m)],
        registry,
    )


def _opel_trusts(registry: Registry, m: Catalogue, feeds: tuple[Feed, ...]) -> table.Panel:
    return panels.trust_table(
        "OPEL in force by trust",
        "A trust's level: its own declaration if it made one, else the highest its hospitals "
        "declared; the system row: the highest trust's. The SCC is told (an alert) at "
        f"{registry.targets.opel_level_max + 1} and above. {_OPEL_NOTE}",
        [m.opel_in_force, *_opel_parameters(m)],
        registry,
        feeds,
    )


def _daily(m: Catalogue) -> list[Measure]:
    """The figures that start again each London day, renamed for yesterday's table."""
    daily = [
        m.arrivals_today,
        m.ambulance_arrivals_today,
        m.four_hour_today,
        m.four_hour_type1_today,
        m.handovers_today,
        m.handover_mean,
        m.handovers_over_45,
        m.handovers_over_60,
        m.handover_time_lost,
    ]
    return [replace(d, title=d.title.replace("today", "yesterday")) for d in daily]


_YESTERDAY = (
    "Yesterday's daily figures (the London day) as they stood at its last instant, to set "
    "beside today's: coloured against today's targets."
)


def _yesterday_sites(registry: Registry, m: Catalogue) -> table.Panel:
    return panels.yesterday(
        panels.site_table("Yesterday by site", f"{_YESTERDAY} {STALE_NOTE}", _daily(m), registry)
    )


def _yesterday_trusts(registry: Registry, m: Catalogue, feeds: tuple[Feed, ...]) -> table.Panel:
    return panels.yesterday(
        panels.trust_table(
            "Yesterday: trusts and system",
            f"{_YESTERDAY} Stale feeds: those stale at the end of yesterday.",
            _daily(m),
            registry,
            feeds,
        )
    )


def _alert_words(registry: Registry) -> dict[str, str]:
    """Each alert's name in words: UecflowFeedStale reads "Feed stale"."""
    words = {}
    for alert in alerts(registry):
        spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", alert.name.removeprefix("Uecflow"))
        sentence = spaced[0] + spaced[1:].lower()
        words[alert.name] = re.sub(r"\b[Hh]l7\b", "HL7", sentence.replace("opel", "OPEL"))
    return words


def _system_text(measure: Measure) -> str:
    return (
        f"{measure.title} for the whole system (all sites), now.{_target_sentence(measure)} "
        "Totals are not hidden when a site's feed is stale: see Stale feeds."
    )


def _stale_feeds_text(registry: Registry, feeds: tuple[Feed, ...]) -> str:
    pairs = len(registry.sites) * len(feeds)
    return (
        f"How many of the {pairs} site feeds (each site's A&E, beds and ambulance events) "
        f"are stale or have never reported ({_limits_text(feeds)}). Any: some numbers are old."
    )


def _target_sentence(measure: Measure) -> str:
    target = _target_text(measure)
    return f" Red when {target}." if target else ""


def _target_text(measure: Measure) -> str:
    if measure.steps is None or len(measure.steps) < 2:
        return ""
    edge, colour = measure.steps[1]
    assert edge is not None
    if colour == panels.GOOD:
        return f"below {_shown(edge, measure.unit)}"
    return f"above {_shown(edge, measure.unit, just_above=True)}"


def _shown(value: float, unit: str, *, just_above: bool = False) -> str:
    if unit == "percentunit":
        return f"{value * 100:.4g}%"
    if unit == "s":
        return f"{round(value / 60):g} minutes"
    # A count step is "from the first one over": red from limit + 1 means above the limit.
    return f"{value - 1:g}" if just_above else f"{value:g}"


def _targets_text(measures: list[Measure]) -> str:
    return "; ".join(
        f"{measure.title} red {_target_text(measure)}"
        for measure in measures
        if _target_text(measure)
    )


def _limits_text(feeds: tuple[Feed, ...]) -> str:
    return ", ".join(f"{feed_name(feed)} {feed.limit_seconds / 60:g} min" for feed in feeds)


# --- site drill-down -------------------------------------------------------------------------


def site(registry: Registry, m: Catalogue) -> grafana.Dashboard:
    chosen = "$site"
    now = [
        m.occupancy,
        m.mffd,
        m.four_hour_today,
        m.over_12h_in_department,
        m.over_12h_after_dta,
        m.ambulances_waiting,
        m.longest_ambulance_wait,
        m.handovers_over_45,
    ]
    board = (
        _dashboard(
            "uecflow-site",
            "NEL UEC — site drill-down",
            "One site's feeds, numbers now and the day so far, for the SCC and the site's "
            "own flow team. " + _site_codes(registry),
        )
        .with_variable(_site_variable(registry))
        .with_row(_row("Feeds"))
    )
    for feed in m.feeds.all:
        board = board.with_panel(_sized(panels.feed_age_stat(feed, chosen), 8, 3))
    board = board.with_row(_row("Now"))
    for measure in now:
        text = f"This site's {measure.title}, now.{_target_sentence(measure)} {STALE_NOTE}"
        board = board.with_panel(_sized(panels.site_stat(measure, chosen, text), 3, 4))
    board = board.with_row(_row("Over time"))
    for title, measures, text in _site_trends(m):
        trend = panels.trend(title, text, measures, registry, site=chosen)
        board = board.with_panel(_sized(trend, 12, 8))
    return board


def _site_variable(registry: Registry) -> grafana.QueryVariable:
    return (
        grafana.QueryVariable("site")
        .label("Site")
        .description("The site's ODS code. " + _site_codes(registry))
        .datasource(PROMETHEUS)
        .query(SITE_VARIABLE_QUERY)
        .refresh(VariableRefresh.ON_DASHBOARD_LOAD)
        .sort(VariableSort.ALPHABETICAL_ASC)
        .multi(False)
        .include_all(False)
    )


def _site_codes(registry: Registry) -> str:
    return "Sites: " + ", ".join(f"{code} {s.short_name}" for code, s in registry.sites.items())


def _gaps_note(measure: Measure) -> str:
    return (
        f"{_target_sentence(measure).strip()} Gaps: the {feed_name(measure.feed)} feed was "
        "stale then, or the value was not defined."
    )


def _site_trends(m: Catalogue) -> list[tuple[str, list[Measure], str]]:
    return [
        (
            "G&A occupancy over time",
            [m.occupancy],
            "Occupied over open adult G&A beds, dashed line at the target. "
            + _gaps_note(m.occupancy),
        ),
        (
            "MFFD rate over time",
            [m.mffd],
            "Medically fit patients (no criteria to reside) as a share of occupied G&A beds, "
            "dashed line at the threshold. " + _gaps_note(m.mffd),
        ),
        (
            "Four-hour performance",
            [m.four_hour_today, m.four_hour_type1_today, m.four_hour_month],
            "Share of departures within 4 hours: today (all types and type 1) and this month, "
            "dashed line at the standard in force. " + _gaps_note(m.four_hour_today),
        ),
        (
            "Patients over 12 hours",
            [m.over_12h_in_department, m.over_12h_after_dta],
            "Patients in the department more than 12 hours, and more than 12 hours after a "
            "decision to admit. " + _gaps_note(m.over_12h_in_department),
        ),
        (
            "Longest ambulance wait over time",
            [m.longest_ambulance_wait],
            "Longest wait of an ambulance not yet handed over (0 when none is waiting), dashed "
            "line at the longest allowed. " + _gaps_note(m.longest_ambulance_wait),
        ),
        (
            "Department and ambulances waiting",
            [m.in_department, m.waiting_after_dta, m.ambulances_waiting],
            "Patients in the department, of whom waiting after a decision to admit, and "
            "ambulances waiting to hand over. " + _gaps_note(m.in_department),
        ),
    ]


# --- handovers --------------------------------------------------------------------------------


def handovers(registry: Registry, m: Catalogue) -> grafana.Dashboard:
    feed = m.feeds.ambulance
    board_measures = [
        m.ambulances_waiting,
        m.longest_ambulance_wait,
        m.handovers_today,
        m.handover_mean,
        m.handovers_over_30,
        m.handovers_over_45,
        m.handovers_over_60,
        m.handover_time_lost,
    ]
    system = [
        m.ambulances_waiting,
        m.longest_ambulance_wait,
        m.handovers_today,
        m.handovers_over_45,
        m.handover_mean,
        m.handover_time_lost,
    ]
    board = _dashboard(
        "uecflow-handovers",
        "NEL UEC — ambulance handovers",
        "For the SCC, the trusts' site teams and London Ambulance Service liaison: ambulances "
        "waiting at each site, the longest wait against the limit, and today's delays.",
    ).with_row(_row("System now"))
    for measure in system:
        board = board.with_panel(_sized(panels.system_stat(measure, _system_text(measure)), 4, 4))
    limit = registry.targets.handover_max_minutes
    return (
        _site_and_trust_tables(
            board,
            "Handovers by site",
            f"Ambulances waiting, the longest wait (red over {limit:g} minutes), and today's "
            "handovers: how many, their mean, how many took over 30, 45 and 60 minutes, and the "
            f"time lost (each handover's time beyond 15 minutes). {STALE_NOTE}",
            (board_measures, registry, feed, "ambulance"),
        )
        .with_row(_row("Over time"))
        .with_panel(
            _sized(
                panels.trend(
                    "Longest ambulance wait by site",
                    "Longest wait of an ambulance not yet handed over, per site (0 when none "
                    f"waits), dashed line at {limit:g} minutes. "
                    + _gaps_note(m.longest_ambulance_wait),
                    [m.longest_ambulance_wait],
                    registry,
                ),
                12,
                8,
            )
        )
        .with_panel(
            _sized(
                panels.trend(
                    "Ambulances waiting by site",
                    "Ambulances arrived whose patient is not yet handed over, per site. "
                    + _gaps_note(m.ambulances_waiting),
                    [m.ambulances_waiting],
                    registry,
                ),
                12,
                8,
            )
        )
    )


def _site_and_trust_tables(
    board: grafana.Dashboard,
    title: str,
    description: str,
    of: tuple[list[Measure], Registry, Feed, str],
) -> grafana.Dashboard:
    """A board's per-site table and, below it, the same numbers per trust and for NEL."""
    measures, registry, feed, feed_word = of
    sites = panels.site_table(title, description, measures, registry, (feed,))
    trusts = panels.trust_table(
        "Trusts and system totals",
        "The same numbers for each trust and the whole system; Stale feeds counts the sites "
        f"whose {feed_word} feed is stale or silent.",
        measures,
        registry,
        (feed,),
    )
    return (
        board.with_row(_row("Sites"))
        .with_panel(_sized(sites, 24, 9))
        .with_panel(_sized(trusts, 24, 6))
    )


# --- discharge ---------------------------------------------------------------------------------


def discharge(registry: Registry, m: Catalogue) -> grafana.Dashboard:
    feed = m.feeds.beds
    board_measures = [m.beds_open, m.beds_occupied, m.occupancy, m.nctr, m.mffd]
    board = _dashboard(
        "uecflow-discharge",
        "NEL UEC — discharge and MFFD",
        "For the SCC and the discharge and flow leads: adult G&A beds, occupancy and patients "
        "medically fit for discharge (no criteria to reside) at each site.",
    ).with_row(_row("System now"))
    for measure in board_measures:
        board = board.with_panel(_sized(panels.system_stat(measure, _system_text(measure)), 4, 4))
    board = board.with_panel(
        _sized(panels.stale_feeds_stat((feed,), _stale_feeds_text(registry, (feed,))), 4, 4)
    )
    mffd_max = registry.targets.mffd_rate_max
    return (
        _site_and_trust_tables(
            board,
            "Beds and MFFD by site",
            "Adult G&A beds open and occupied, occupancy, NCTR patients (medically fit, no "
            f"criteria to reside) and the MFFD rate (red above {mffd_max * 100:g}% of occupied "
            f"beds). {STALE_NOTE}",
            (board_measures, registry, feed, "beds"),
        )
        .with_row(_row("Over time"))
        .with_panel(
            _sized(
                panels.trend(
                    "MFFD rate by site",
                    "Medically fit patients as a share of occupied G&A beds, per site, dashed "
                    "line at the threshold. " + _gaps_note(m.mffd),
                    [m.mffd],
                    registry,
                ),
                12,
                8,
            )
        )
        .with_panel(
            _sized(
                panels.trend(
                    "G&A occupancy by site",
                    "Occupied over open adult G&A beds, per site, dashed line at the target. "
                    + _gaps_note(m.occupancy),
                    [m.occupancy],
                    registry,
                ),
                12,
                8,
            )
        )
        .with_panel(
            _sized(
                panels.trend(
                    "NCTR patients by site",
                    "Adult G&A patients with no criteria to reside, per site. "
                    + _gaps_note(m.nctr),
                    [m.nctr],
                    registry,
                ),
                24,
                8,
            )
        )
    )


# --- trusts' feeds ---------------------------------------------------------------------------


def trust_feeds(registry: Registry, _m: Catalogue) -> grafana.Dashboard:
    per_minute = f"{feeds.RATE})) * 60"
    requests = f"sum by (status) (rate(uecflow_gateway_requests_total{{{feeds.TRUST}}}{per_minute}"
    accepted = f"sum by (site) (rate(uecflow_gateway_events_accepted_total{{{feeds.TRUST}}}"
    rejected = f"sum by (reason) (rate(uecflow_gateway_events_rejected_total{{{feeds.TRUST}}}"
    board = _dashboard(
        feeds.UID,
        "NEL UEC — trust feeds",
        "For a trust's integration team and the platform team: what the ingestion gateway made "
        "of one trust's feed (requests, events accepted and rejected with the reasons, time to "
        "an answer and to Kafka). Choose the trust above.",
    ).with_variable(feeds.trust_variable())
    return (
        board.with_row(_row("Requests and events"))
        .with_panel(_sized(feeds.series(
            "Requests per minute by answer",
            "Requests from this trust's credentials, per minute, by HTTP status: 202 accepted "
            "(some events may still be rejected), 401 token, 403 only other trusts' sites, 413 "
            "too large, 422 nothing valid, 429 rate limit, 503 Kafka did not acknowledge.",
            "none", [(requests, "requests", "{{status}}")],
        ), 12, 8))
        .with_panel(_sized(feeds.series(
            "Events accepted per minute by site",
            "Events Kafka acknowledged, per minute, by site: what the boards count.",
            "none", [(f"{accepted}{per_minute}", "accepted", "{{site}}")],
            {code: site.short_name for code, site in registry.sites.items()},
        ), 12, 8))
        .with_panel(_sized(feeds.series(
            "Events rejected per minute by reason",
            "Events rejected, per minute, by reason: contract (breaks the event contract), "
            "too_large, not_its_site (another trust's site), not_its_event_type (outside the "
            "credential's scope). The trust is alerted above 5% over 15 minutes.",
            "none", [(f"{rejected}{per_minute}", "rejected", "{{reason}}")],
        ), 12, 8))
        .with_panel(_sized(feeds.rejections_today(), 12, 8))
        .with_row(_row("Waiting"))
        .with_panel(_sized(feeds.series(
            "Time to an answer (95th percentile)",
            "How long this trust's requests waited for the gateway's answer (which comes after "
            "Kafka acknowledged), 95th percentile.",
            "s", [(feeds.quantile("uecflow_gateway_request_seconds"), "latency", "answer")],
        ), 12, 8))
        .with_panel(_sized(feeds.series(
            "Kafka acknowledgement (95th percentile, every trust)",
            "How long Kafka took to acknowledge a batch's events (acks=all), for all trusts: a "
            "rise here slows every trust's answers.",
            "s", [(feeds.quantile(feeds.KAFKA_ACK, by="all"), "kafka", "Kafka")],
        ), 12, 8))
    )  # fmt: skip
