"""Prometheus recording and alerting rules, generated from the targets and alerting settings of
the registry (`uecflow/nel.toml`), so that the alerts, the dashboards and `uecflow_target` can
never disagree about a threshold.

Every alert names the site in words and says what to look at, for a manager reading it on a
phone; every alert links to its action card in `alerts/runbooks/`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alerts.recording import recording_rules
from alerts.routing import PLATFORM, SCC
from streams.core.intake import Stream
from streams.core.metrics import FRESHNESS, METRIC, OPEL_IN_FORCE
from uecflow.config import Registry

SITE = ("site", "trust", "place")  # an alert's labels: which site, whose on-call, which place
# The worker exports the standard in force on the London day (0.76 until April 2025, then 0.78),
# read from the same registry as these rules. Inlined, not recorded: a recording rule in another
# group may be evaluated after the alert that reads it, a step late.
FOUR_HOUR = METRIC["ae_4h_performance_today"].prometheus
FOUR_HOUR_TARGET = f'min(uecflow_target{{metric="{FOUR_HOUR}",bound="min"}})'
CENSUS = METRIC["ae_in_department"].prometheus
TOTALS = "uecflow-totals"  # the recording rules' group, and the alerts that read them
JOB = "uecflow-worker"  # the Prometheus scrape job of the workers
GATEWAY_JOB = "uecflow-gateway"
HL7_JOB = "uecflow-hl7"  # each trust's `uecflow hl7`, its target labelled with the trust
SITE_BOARD, OVERVIEW_BOARD = "uecflow-site", "uecflow-scc-overview"  # dashboards/build.py
STREAM_WORDS = {
    Stream.AE.value: "A&E",
    Stream.BEDS.value: "bed-state",
    Stream.AMBULANCE.value: "ambulance handover",
}


@dataclass(frozen=True)
class Alert:
    name: str
    group: str
    expr: str
    hold: str  # a key of [alerting.for_minutes]
    severity: str  # critical pages at once; warning is a breach to act on this shift
    summary: str
    description: str
    # On flow numbers, which vanish while a restarted worker recovers: kept firing through that
    # (keep_firing_for) rather than paged "resolved" and again.
    kept: bool = True
    # About one site (labelled `site`): its links open that site's drill-down.
    per_site: bool = True
    # Routed by the label `to` instead of the trust: "scc" (the SCC alone) or "platform" (a
    # central fault: the platform on-call and the SCC); None: the site's trust.
    to: str | None = None

    def dashboard(self, public: str) -> str:
        """The board to open: a site's drill-down with the site chosen, else the overview."""
        if self.per_site:
            return f"{public}/grafana/d/{SITE_BOARD}/?var-site={{{{ $labels.site }}}}"
        return f"{public}/grafana/d/{OVERVIEW_BOARD}/"

    def rule(self, registry: Registry) -> dict[str, Any]:
        public = registry.alerting.public_url
        keep = registry.alerting.keep_firing_minutes
        held = {"keep_firing_for": _duration(keep)} if keep and self.kept else {}
        return {
            "alert": self.name,
            "expr": self.expr,
            "for": _duration(registry.alerting.for_minutes[self.hold]),
            **held,
            "labels": {"severity": self.severity, **({"to": self.to} if self.to else {})},
            "annotations": {
                "summary": self.summary,
                "description": self.description,
                "runbook_url": f"{public}/runbooks/{self.name}.md",
                "dashboard_url": self.dashboard(public),
            },
        }


def site_name(registry: Registry) -> str:
    """A template giving the site's short name (Prometheus templates have no lookup tables)."""
    return _name_of("$labels.site", registry)


def trust_name(registry: Registry) -> str:
    names = {code: trust.short_name for code, trust in registry.trusts.items()}
    return _named("$labels.trust", names)


def _name_of(site: str, registry: Registry) -> str:
    """The short name of the site code that the template expression `site` gives."""
    return _named(site, {code: site.short_name for code, site in registry.sites.items()})


def _named(code_of: str, names: dict[str, str]) -> str:
    branches = [
        f'{"if" if i == 0 else "else if"} eq {code_of} "{code}" }}}}{name}'
        for i, (code, name) in enumerate(names.items())
    ]
    return "{{ " + "{{ ".join(branches) + f"{{{{ else }}}}{{{{ {code_of} }}}}{{{{ end }}}}"


def _series(metric: str) -> str:
    return METRIC[metric].prometheus


def _site(metric: str, pick: str = "max") -> str:
    """A metric per site, whichever worker exports it: a site moved by a rebalance keeps its
    alert (the worker's `instance` is not part of it), and is never alerted twice."""
    return f"{pick} by ({', '.join(SITE)}) ({_series(metric)})"


def _limit(registry: Registry, metric: str) -> float:
    """The metric's target as the static rules compare it, in its Prometheus unit."""
    limit = METRIC[metric].prometheus_limit(registry.targets, None)
    if limit is None:
        raise ValueError(f"{metric} has no target in the metric table to alert on")
    return limit.value


def alerts(registry: Registry) -> list[Alert]:
    name = site_name(registry)
    occupancy, mffd = _limit(registry, "ga_occupancy"), _limit(registry, "mffd_rate")
    handover_s = _limit(registry, "ambulance_longest_wait_minutes")
    over_12h = round(_limit(registry, "ae_over_12h_in_department"))
    over_12h_dta = round(_limit(registry, "ae_over_12h_after_dta"))
    departures = registry.alerting.four_hour_min_departures
    return [
        Alert(
            "UecflowOccupancyAboveTarget", "uecflow-beds",
            f"{_site('ga_occupancy')} > {occupancy:g}",
            "occupancy", "warning",
            f"{name}: adult G&A beds {{{{ $value | humanizePercentage }}}} full"
            f" (target {occupancy:.0%} or less)",
            "Adult general and acute bed occupancy at the latest ward snapshots is above the"
            " target: flow out of A&E will slow. Check escalation beds and discharges today.",
        ),
        Alert(
            "UecflowMedicallyFitAboveThreshold", "uecflow-beds",
            f"{_site('mffd_rate')} > {mffd:g}",
            "mffd", "warning",
            f"{name}: {{{{ $value | humanizePercentage }}}} of occupied G&A beds hold"
            f" medically fit patients (threshold {mffd:.0%})",
            "Patients with no criteria to reside occupy beds that admissions need. Review"
            " discharge pathways 1-3 with community and social care partners.",
        ),
        Alert(
            "UecflowFourHourBelowTarget", "uecflow-ae",
            f"{_site('ae_4h_performance_today', 'min')} < on() group_left() {FOUR_HOUR_TARGET}"
            f" and on(site) {_site('ae_departures_today')} >= {departures}",
            "four_hour", "warning",
            f"{name}: four-hour performance today {{{{ $value | humanizePercentage }}}}"
            " (standard {{ with query `" + FOUR_HOUR_TARGET + "` }}"
            "{{ . | first | value | humanizePercentage }}{{ end }})",
            "Share of today's A&E departures within four hours of arrival is below the"
            f" national standard (judged from {departures} departures a day).",
        ),
        Alert(
            "UecflowTwelveHoursInDepartment", "uecflow-ae",
            f"{_site('ae_over_12h_in_department')} > {over_12h}",
            "over_12h", "critical",
            f"{name}: {{{{ $value }}}} patient(s) in A&E over 12 hours now",
            "Patients have been in the department more than 12 hours since arrival. Longest"
            f' wait: {{{{ with printf "{_series("ae_longest_wait_minutes")}{{site=\'%s\'}}"'
            " $labels.site"
            " | query }}{{ . | first | value | humanizeDuration }}{{ end }}.",
        ),
        Alert(
            "UecflowTwelveHoursAfterDecisionToAdmit", "uecflow-ae",
            f"{_site('ae_over_12h_after_dta')} > {over_12h_dta}",
            "over_12h", "critical",
            f"{name}: {{{{ $value }}}} patient(s) waiting over 12 hours for a bed after a"
            " decision to admit",
            "12-hour trolley waits: patients waiting more than 12 hours from decision to admit."
            " Find a bed or escalate under the trust's full capacity protocol.",
        ),
        Alert(
            "UecflowAmbulanceHandoverOver45Minutes", "uecflow-ambulance",
            f"{_site('ambulance_longest_wait_minutes')} > {handover_s:g}",
            "handover", "critical",
            f"{name}: an ambulance has waited {{{{ $value | humanizeDuration }}}} to hand over"
            f" (release by {handover_s / 60:g} min)",
            "London's release-to-respond rule: crews are released at 45 minutes. Ambulances"
            f' waiting now: {{{{ with printf "{_series("ambulances_waiting")}{{site=\'%s\'}}"'
            " $labels.site | query }}{{ . | first | value }}{{ end }}.",
        ),
        *_stale_and_system(registry, name),
    ]  # fmt: skip


def _stale_and_system(registry: Registry, name: str) -> list[Alert]:
    limits = registry.targets.stale_after_minutes
    stale = " or ".join(
        f'(time() - max by ({", ".join((*SITE, "stream"))}) ({FRESHNESS}{{stream="{stream}"}}))'
        f" > {minutes * 60:g}"
        for stream, minutes in sorted(limits.items())
    )
    words = "".join(
        f'{{{{ if eq $labels.stream "{stream}" }}}}{STREAM_WORDS.get(stream, stream)}{{{{ end }}}}'
        for stream in sorted(limits)
    )
    # Every registry site is in the department census from the worker's start; a site without
    # a freshness series for a stream has never sent one.
    never = " or ".join(
        f"label_replace(group by (site, trust, place) ({CENSUS}) unless on(site) "
        f'{FRESHNESS}{{stream="{stream}"}}, "stream", "{stream}", "", "")'
        for stream in sorted(limits)
    )
    occupancy = _limit(registry, "ga_occupancy")
    return [
        Alert(
            "UecflowFeedStale", "uecflow-feeds", stale, "stale", "critical",
            f"{name}: no {words} events for {{{{ $value | humanizeDuration }}}}; its numbers"
            " are NOT current",
            "The trust's feed has gone silent (limits: "
            + ", ".join(f"{STREAM_WORDS.get(s, s)} {m:g} min" for s, m in sorted(limits.items()))
            + "). Dashboards still show the last values. Check the trust's integration engine"
            " and the gateway's rejects.",
        ),
        Alert(
            "UecflowFeedNeverReported", "uecflow-feeds", never, "never_reported", "warning",
            f"{name}: no {words} event has ever arrived; that feed is not connected",
            "The worker knows this site but has never counted an event of this feed (a trust"
            " not yet connected, or a site new to nel.toml). Its numbers read 0 or n/a, not"
            " real values. Check the trust's integration engine and credentials.",
            kept=False,
        ),
        Alert(
            "UecflowWorkerDown", "uecflow-feeds",
            f'up{{job="{JOB}"}} == 0 or absent(up{{job="{JOB}"}})',
            "worker_down", "critical",
            "uecflow worker {{ $labels.instance }} is down: its sites have NO live UEC metrics",
            "Prometheus cannot scrape this uecflow worker. The sites it held are missing from"
            " the dashboards and the totals until another worker in the group takes them over"
            " (within a minute) or it is restarted; with one worker, every site. Restart it; it"
            " recovers its state from Kafka.",
            kept=False,
            per_site=False,
            to=PLATFORM,
        ),
        _stale_everywhere(registry),
        Alert(
            "UecflowGatewayDown", "uecflow-feeds",
            f'up{{job="{GATEWAY_JOB}"}} == 0',
            "gateway_down", "critical",
            "uecflow gateway {{ $labels.instance }} is down: trusts cannot send events",
            "Prometheus cannot scrape the ingestion gateway. Trusts' integration engines get"
            " errors and retry; every feed through it goes stale (those pages are held back"
            " while this fires). Restart it; nothing already acknowledged is lost.",
            kept=False,
            per_site=False,
            to=PLATFORM,
        ),
        Alert(
            "UecflowGatewayRefusingMost", "uecflow-feeds",
            'sum(rate(uecflow_gateway_requests_total{status!~"2..|429"}[5m]))'
            " / sum(rate(uecflow_gateway_requests_total[5m])) > 0.5",
            "gateway_down", "critical",
            "The uecflow gateway refuses {{ $value | humanizePercentage }} of requests: events"
            " are not getting in",
            "Most requests to the ingestion gateway were answered with an error for 5 minutes:"
            " a central fault (Kafka not acknowledging, an expired certificate, a credentials"
            " file lost), not the trusts'. The sites' staleness pages are held back while this"
            " fires. See uecflow_gateway_requests_total by status and the gateway's log.",
            kept=False,
            per_site=False,
            to=PLATFORM,
        ),
        Alert(
            "UecflowHl7ListenerDown", "uecflow-feeds",
            f'up{{job="{HL7_JOB}"}} == 0',
            "gateway_down", "critical",
            f"{trust_name(registry)}'s HL7 listener {{{{ $labels.instance }}}} is down: its EPR"
            " cannot send A&E events",
            "Prometheus cannot scrape this trust's HL7 listener (uecflow hl7). The trust's"
            " integration engine holds its ADT messages and retries; its A&E feeds go stale"
            " (those pages are held back while this fires). Restart it: messages already"
            " acknowledged AA are on Kafka, and the engine resends the rest in order.",
            kept=False,
            per_site=False,
            to=PLATFORM,
        ),
        _hl7_refusals(registry),
        _trust_rejections(registry),
        Alert(
            "UecflowEventsRejected", "uecflow-feeds",
            "sum by (stream, reason) (increase(uecflow_events_rejected_total[15m])) > 0",
            "rejected", "warning",
            "{{ $value | humanize }} {{ $labels.stream }} events rejected in 15 min"
            " ({{ $labels.reason }})",
            "Events went to the dead-letter topic with their reasons. Tell the sending trust's"
            " integration team; the uecflow-reason header says what to fix.",
            kept=False,
            per_site=False,
        ),
        Alert(
            "UecflowSystemOccupancyAboveTarget", TOTALS,
            f"{METRIC['ga_occupancy'].recorded('system')} > {occupancy:g}",
            "occupancy", "warning",
            "NEL adult G&A beds {{ $value | humanizePercentage }} full across all sites"
            f" (target {occupancy:.0%} or less)",
            "System-wide bed pressure: consider mutual aid and the system escalation plan.",
            per_site=False,
        ),
        _opel(registry),
    ]  # fmt: skip


def _stale_everywhere(registry: Registry) -> Alert:
    """Many sites' feeds of one kind stale at once: one central fault, not many trusts'."""
    limits = registry.targets.stale_after_minutes
    share = registry.alerting.central_stale_share
    sites = f"count(group by (site) ({CENSUS}))"
    expr = " or ".join(
        f'label_replace(count((time() - max by (site) ({FRESHNESS}{{stream="{stream}"}}))'
        f' > {minutes * 60:g}) / {sites} >= {share:g}, "stream", "{stream}", "", "")'
        for stream, minutes in sorted(limits.items())
    )
    words = "".join(
        f'{{{{ if eq $labels.stream "{stream}" }}}}{STREAM_WORDS.get(stream, stream)}{{{{ end }}}}'
        for stream in sorted(limits)
    )
    return Alert(
        "UecflowFeedsStaleAcrossSites", "uecflow-feeds", expr, "stale", "critical",
        f"{{{{ $value | humanizePercentage }}}} of sites' {words} feeds are stale at once: a"
        " central fault, not the trusts'",
        "So many sites went silent together that the cause is most likely central: the"
        " gateway, Kafka or the network between them and the trusts. The sites' own staleness"
        " pages are held back while this fires; dashboards show STALE. Check the gateway's"
        " /health, Kafka and the worker's log.",
        kept=False,
        per_site=False,
        to=PLATFORM,
    )  # fmt: skip


def _trust_rejections(registry: Registry) -> Alert:
    """A trust whose events the gateway rejects at more than the configured share."""
    share = registry.alerting.trust_rejected_share
    rejected = "sum by (trust) (increase(uecflow_gateway_events_rejected_total[15m]))"
    accepted = "sum by (trust) (increase(uecflow_gateway_events_accepted_total[15m]))"
    top = (
        "topk(3, sum by (reason) (increase(uecflow_gateway_events_rejected_total{trust='%s'}"
        "[15m])))"
    )
    return Alert(
        "UecflowTrustEventsRejected", "uecflow-feeds",
        f"{rejected} / ({rejected} + ({accepted} or {rejected} * 0)) > {share:g}",
        "rejected", "warning",
        f"{trust_name(registry)}: the gateway rejected {{{{ $value | humanizePercentage }}}} of"
        f" its events in 15 min (more than {share:.0%})",
        f'Top reasons: {{{{ range printf "{top}" $labels.trust | query }}}}{{{{ .Labels.reason }}}}'
        " {{ .Value | humanize }}; {{ end }}each rejected event's reason is in the gateway's"
        " answer to the trust's engine. Ask the trust's integration team to fix what it sends;"
        " the events it resends after the fix are counted as usual.",
        kept=False,
        per_site=False,
    )  # fmt: skip


def _hl7_refusals(registry: Registry) -> Alert:
    """A trust whose HL7 messages the listener refuses (AE/AR) at more than the configured share:
    each is a dead letter, and the engine's error queue holds them."""
    share = registry.alerting.trust_rejected_share
    messages = "uecflow_hl7_messages_total"
    refused = f'sum by (trust) (increase({messages}{{result="refused"}}[15m]))'
    answered = f"sum by (trust) (increase({messages}[15m]))"
    top = (
        "topk(3, sum by (trigger, ack) (increase(uecflow_hl7_messages_total{trust='%s',"
        "result='refused'}[15m])))"
    )
    return Alert(
        "UecflowTrustHl7MessagesRefused", "uecflow-feeds",
        f"{refused} / {answered} > {share:g}",
        "rejected", "warning",
        f"{trust_name(registry)}: the HL7 listener refused {{{{ $value | humanizePercentage }}}}"
        f" of its messages in 15 min (more than {share:.0%})",
        f'Refused by trigger and ACK: {{{{ range printf "{top}" $labels.trust | query }}}}'
        "{{ .Labels.trigger }} {{ .Labels.ack }} {{ .Value | humanize }}; {{ end }}each ACK"
        " says why (MSA-3), as does its dead letter. Ask the trust's integration team to fix the"
        " mapping (docs/epr-adapters.md) and resend; resent messages are counted as usual.",
        kept=False,
        per_site=False,
    )  # fmt: skip


def _opel(registry: Registry) -> Alert:
    highest = registry.targets.opel_level_max
    sites = METRIC["opel_site_level"].prometheus
    return Alert(
        "UecflowTrustAtOpelLevel", TOTALS,
        f"{OPEL_IN_FORCE} > {highest}",
        "opel", "warning",
        f"{trust_name(registry)} is at OPEL {{{{ $value }}}}"
        f" (the SCC is told at {highest + 1} and above)",
        "The trust's OPEL level in force: its own declaration, else the highest its hospitals"
        " declared. By site:"
        f' {{{{ range printf "max by (site) ({sites}{{trust=\'%s\'}})" $labels.trust | query'
        f' | sortByLabel "site" }}}}{_name_of(".Labels.site", registry)} {{{{ .Value }}}}.'
        " {{ end }}Agree actions with the trust's site lead on the next system call.",
        per_site=False,
        to=SCC,
    )  # fmt: skip


def rule_file(registry: Registry) -> dict[str, Any]:
    # The totals first, in the group of the alerts that read them: a group evaluates its rules
    # in order, so those alerts see this evaluation's totals.
    groups: dict[str, list[dict[str, Any]]] = {TOTALS: list(recording_rules())}
    for alert in alerts(registry):
        groups.setdefault(alert.group, []).append(alert.rule(registry))
    return {"groups": [{"name": name, "rules": rules} for name, rules in groups.items()]}


def _duration(minutes: float) -> str:
    seconds = round(minutes * 60)
    return f"{seconds // 60}m" if seconds % 60 == 0 else f"{seconds}s"
