"""The generated rules and routing: current with the registry, valid for promtool and amtool,
unit-tested by promtool, routed to the right people, and every alert with its action card."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from alerts.cli import GENERATED, ROUTING, RULES, files
from alerts.rules import alerts
from tests.alerts.promtool import AMTOOL, PROMTOOL, ROOT, run, tool
from uecflow.config import load_registry

RULE_TESTS = sorted((ROOT / "alerts" / "tests").glob("*-test.yml"))
NEL = (ROOT / "uecflow" / "nel.toml").read_text()


def test_generated_files_are_current() -> None:
    for name, text in files(load_registry(None)).items():
        assert (GENERATED / name).read_text() == text, f"run `uecflow alerts generate` ({name})"


def test_promtool_accepts_the_rules() -> None:
    run(tool(PROMTOOL), "check", "rules", str(GENERATED / RULES))


def test_promtool_unit_tests_pass() -> None:
    assert RULE_TESTS, "no promtool tests found"
    run(tool(PROMTOOL), "test", "rules", *map(str, RULE_TESTS))


def test_every_alert_is_tested_firing_by_promtool() -> None:
    tested = set()
    for path in RULE_TESTS:
        for case in yaml.safe_load(path.read_text())["tests"]:
            tested |= {
                check["alertname"]
                for check in case.get("alert_rule_test", [])
                if check.get("exp_alerts")
            }
    assert {alert.name for alert in alerts(load_registry(None))} <= tested


def test_every_alert_has_an_action_card_severity_and_words() -> None:
    rules = yaml.safe_load((GENERATED / RULES).read_text())
    found = [rule for group in rules["groups"] for rule in group["rules"] if "alert" in rule]
    assert len(found) == len(alerts(load_registry(None)))
    for rule in found:
        assert re.fullmatch(r"Uecflow[A-Z][A-Za-z0-9]+", rule["alert"])
        assert rule["labels"]["severity"] in {"warning", "critical"}
        notes = rule["annotations"]
        assert notes["summary"]
        assert notes["description"]
        # Absolute, as a phone needs them: the card at /runbooks/, the board at /grafana/.
        card = notes["runbook_url"].removeprefix("https://uecflow.nel.invalid/runbooks/")
        assert (ROOT / "alerts" / "runbooks" / card).is_file(), rule["alert"]
        assert notes["dashboard_url"].startswith("https://uecflow.nel.invalid/grafana/d/uecflow-")


def test_amtool_accepts_the_routing() -> None:
    run(tool(AMTOOL), "check-config", str(GENERATED / ROUTING))


@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        (["trust=R1H", "site=R1HKH", "severity=warning"], "oncall-R1H"),
        (["trust=RF4", "site=RF4QH", "severity=warning"], "oncall-RF4"),
        (["trust=RQX", "site=RQXM1", "severity=warning"], "oncall-RQX"),
        # The SCC sees every critical site alert as well as the trust.
        (["trust=RQX", "site=RQXM1", "severity=critical"], "scc,oncall-RQX"),
        (["trust=RF4", "site=RF4DG", "severity=critical"], "scc,oncall-RF4"),
        # No trust: system-wide.
        (["alertname=UecflowWorkerDown", "severity=critical"], "scc"),
        (["alertname=UecflowSystemOccupancyAboveTarget", "severity=warning"], "scc"),
        # A central fault: the platform on-call and the SCC, never a trust.
        (["alertname=UecflowWorkerDown", "to=platform", "severity=critical"], "platform,scc"),
        (["alertname=UecflowFeedsStaleAcrossSites", "to=platform", "stream=ae"], "platform,scc"),
        # A trust's rejected events: that trust.
        (["alertname=UecflowTrustEventsRejected", "trust=RQX", "severity=warning"], "oncall-RQX"),
        # A trust's OPEL level: the SCC alone (the trust declared it).
        (["alertname=UecflowTrustAtOpelLevel", "trust=RF4", "to=scc", "severity=warning"], "scc"),
    ],
)
def test_alerts_route_to_their_trust_and_system_ones_to_the_scc(
    labels: list[str], receivers: str
) -> None:
    config = str(GENERATED / ROUTING)
    out = run(tool(AMTOOL), "config", "routes", "test", f"--config.file={config}", *labels)
    assert out.strip() == receivers


def test_a_critical_alert_silences_the_same_sites_warnings_only() -> None:
    routing = yaml.safe_load((GENERATED / ROUTING).read_text())
    assert routing["inhibit_rules"][0] == {
        "source_matchers": ['severity="critical"', 'site=~".+"'],
        "target_matchers": ['severity="warning"'],
        "equal": ["site"],
    }


def test_a_central_fault_holds_back_every_sites_staleness_pages_and_nothing_else() -> None:
    routing = yaml.safe_load((GENERATED / ROUTING).read_text())
    stale = 'alertname=~"UecflowFeedStale|UecflowFeedNeverReported"'
    assert routing["inhibit_rules"][1:] == [
        {"source_matchers": ['to="platform"', 'trust=""'], "target_matchers": [stale]},
        {
            # A trust's own HL7 listener: only that trust's A&E feeds.
            "source_matchers": ['to="platform"', 'trust=~".+"'],
            "target_matchers": [stale, 'stream="ae"'],
            "equal": ["trust"],
        },
    ]
    central = {alert.name for alert in alerts(load_registry(None)) if alert.to == "platform"}
    assert central == {
        "UecflowWorkerDown",
        "UecflowGatewayDown",
        "UecflowGatewayRefusingMost",
        "UecflowFeedsStaleAcrossSites",
        "UecflowHl7ListenerDown",
    }


def test_thresholds_and_holds_come_from_the_config(tmp_path: Path) -> None:
    changed = (
        NEL.replace("ga_occupancy_max = 0.92", "ga_occupancy_max = 0.9")
        .replace("handover_max_minutes = 45", "handover_max_minutes = 30")
        .replace("mffd_rate_max = 0.15", "mffd_rate_max = 0.2")
        .replace("ae = 30", "ae = 20")
        .replace("occupancy = 15", "occupancy = 45")
        .replace("four_hour_min_departures = 20", "four_hour_min_departures = 50")
    )
    config = tmp_path / "nel.toml"
    config.write_text(changed)
    rules = {
        rule["alert"]: rule
        for group in yaml.safe_load(files(load_registry(config))[RULES])["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    occupancy = rules["UecflowOccupancyAboveTarget"]
    assert occupancy["expr"] == "max by (site, trust, place) (uecflow_ga_occupancy_ratio) > 0.9"
    assert occupancy["annotations"]["summary"].endswith("(target 90% or less)")
    assert occupancy["for"] == "45m"
    handover = rules["UecflowAmbulanceHandoverOver45Minutes"]["expr"]
    assert handover == "max by (site, trust, place) (uecflow_ambulance_longest_wait_seconds) > 1800"
    assert rules["UecflowMedicallyFitAboveThreshold"]["expr"].endswith("> 0.2")
    assert 'stream="ae"})) > 1200 or' in rules["UecflowFeedStale"]["expr"]
    assert rules["UecflowFourHourBelowTarget"]["expr"].endswith(">= 50")


def test_receivers_come_from_the_config_as_email_teams_or_a_webhook(tmp_path: Path) -> None:
    config = tmp_path / "nel.toml"
    config.write_text(
        NEL.replace("mailto:bhrut-site-oncall@nel.invalid", "https://pager.example/bhrut")
    )
    routing = yaml.safe_load(files(load_registry(config))[ROUTING])
    receivers = {r["name"]: r for r in routing["receivers"]}
    assert receivers["oncall-RF4"]["webhook_configs"][0]["url"] == "https://pager.example/bhrut"
    (mail,) = receivers["oncall-R1H"]["email_configs"]
    assert mail["to"] == "barts-site-oncall@nel.invalid"
    assert mail["headers"]["Subject"] == '{{ template "uecflow.subject" . }}'
    (teams,) = receivers["scc"]["msteams_configs"]
    assert teams["webhook_url"].startswith("https://nhs.webhook.office.com/")
    # NHSmail: STARTTLS, the account's password read from a file, never written here.
    assert routing["global"] == {
        "smtp_smarthost": "send.nhs.net:587",
        "smtp_from": "uecflow-alerts@nel.invalid",
        "smtp_require_tls": True,
        "smtp_auth_username": "uecflow-alerts@nel.invalid",
        "smtp_auth_password_file": "/run/secrets/nhsmail-password",
    }
    assert routing["templates"] == ["../templates/*.tmpl"]


def test_the_cli_writes_both_files(tmp_path: Path) -> None:
    run(str(ROOT / "bin" / "uecflow"), "alerts", "generate", "--out", str(tmp_path))
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted([RULES, ROUTING])
