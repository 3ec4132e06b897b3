"""The notification templates (alerts/templates/), rendered by the shipped amtool: what a
manager reads in an e-mail or the SCC in its Teams channel."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.alerts.promtool import AMTOOL, ROOT, run, tool

TEMPLATES = str(ROOT / "alerts" / "templates" / "*.tmpl")
PUBLIC = "https://uecflow.nel.invalid"
SUMMARY = "Queen's: an ambulance has waited 46m 1s to hand over (release by 45 min)"


def data(status: str, tmp_path: Path) -> Path:
    labels = {"alertname": "UecflowAmbulanceHandoverOver45Minutes", "severity": "critical",
              "site": "RF4QH", "trust": "RF4", "place": "Havering"}  # fmt: skip
    alert = {
        "status": status,
        "labels": labels,
        "annotations": {
            "summary": SUMMARY,
            "description": "London's release-to-respond rule: crews are released at 45 minutes.",
            "runbook_url": f"{PUBLIC}/runbooks/UecflowAmbulanceHandoverOver45Minutes.md",
            "dashboard_url": f"{PUBLIC}/grafana/d/uecflow-site/?var-site=RF4QH",
        },
        "startsAt": "2026-01-15T03:12:00Z",
        "endsAt": "2026-01-15T03:40:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
    }
    path = tmp_path / f"{status}.json"
    path.write_text(json.dumps({
        "receiver": "oncall-RF4", "status": status, "alerts": [alert], "groupLabels": labels,
        "commonLabels": labels, "commonAnnotations": alert["annotations"],
        "externalURL": f"{PUBLIC}/alertmanager",
    }))  # fmt: skip
    return path


def render(template: str, status: str, tmp_path: Path) -> str:
    text = "{{ template " + json.dumps(template) + " . }}"
    return run(
        tool(AMTOOL), "template", "render", f"--template.glob={TEMPLATES}",
        f"--template.text={text}", f"--template.data={data(status, tmp_path)}",
    )  # fmt: skip


def test_the_subject_is_the_alerts_summary_and_says_when_it_is_over(tmp_path: Path) -> None:
    assert render("uecflow.subject", "firing", tmp_path).strip() == SUMMARY
    assert render("uecflow.subject", "resolved", tmp_path).strip() == f"RESOLVED: {SUMMARY}"


def test_the_body_says_since_when_in_london_time_with_absolute_links(tmp_path: Path) -> None:
    text = render("uecflow.text", "firing", tmp_path)
    # 03:12 UTC in January is 03:12 in London; in summer it would read an hour later.
    assert text.startswith(f"BREACH: {SUMMARY}\nSince: Thu 15 Jan 03:12 (London)\n")
    assert f"What to do: {PUBLIC}/runbooks/UecflowAmbulanceHandoverOver45Minutes.md" in text
    assert f"Dashboard: {PUBLIC}/grafana/d/uecflow-site/?var-site=RF4QH" in text
    silence = f"{PUBLIC}/alertmanager/#/silences/new?filter=%7Balertname%3D%22Uecflow"
    assert silence in text
    assert "site%3D%22RF4QH%22" in text
    over = render("uecflow.text", "resolved", tmp_path)
    assert over.startswith(f"RESOLVED: {SUMMARY}\nSince: Thu 15 Jan 03:12 (London); over at 03:40")


@pytest.mark.parametrize("template", ["uecflow.html", "uecflow.teams"])
def test_the_html_and_teams_messages_carry_the_same_links(template: str, tmp_path: Path) -> None:
    shown = render(template, "firing", tmp_path)
    assert SUMMARY.replace("'", "&#39;") in shown or SUMMARY in shown
    assert f"{PUBLIC}/runbooks/UecflowAmbulanceHandoverOver45Minutes.md" in shown
    assert f"{PUBLIC}/grafana/d/uecflow-site/?var-site=RF4QH" in shown
    assert f"{PUBLIC}/alertmanager/#/silences/new" in shown
