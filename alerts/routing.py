"""The Alertmanager configuration, generated from the registry: each trust's alerts go to that
trust's on-call receiver, alerts of no trust (system-wide) to the SCC, and the SCC also gets a
copy of every critical site alert so that it sees what the trusts are being paged about.
"""

from __future__ import annotations

from typing import Any

from streams.core.intake import Stream
from uecflow.config import Email, Registry

SCC = "scc"
PLATFORM = "platform"
# The alerts a central fault holds back: every site's feed is silent for one reason.
PER_SITE_FEED_ALERTS = ("UecflowFeedStale", "UecflowFeedNeverReported")


def alertmanager_config(registry: Registry) -> dict[str, Any]:
    settings = registry.alerting
    trusts = sorted(registry.trusts)
    return {
        **_email_settings(settings.email),
        "route": {
            "receiver": SCC,
            # One notification per alert and site (and worker): a phone shows one line per
            # problem. With `instance`, a worker down is its own group: without it, the
            # "no worker at all" alert of a Prometheus that had not scraped yet shared the
            # group, and its removal once resolved made Alertmanager send the page again.
            "group_by": ["alertname", "trust", "site", "stream", "instance"],
            "group_wait": _seconds(settings.group_wait_seconds),
            "group_interval": _seconds(settings.group_interval_seconds),
            "repeat_interval": _seconds(settings.repeat_interval_hours * 3600),
            "routes": [
                # A central fault: the platform on-call, and the SCC; never the trusts.
                {"receiver": PLATFORM, "matchers": [f'to="{PLATFORM}"'], "continue": True},
                {"receiver": SCC, "matchers": [f'to="{PLATFORM}"']},
                # Alerts for the SCC alone: a trust's OPEL level, which the trust declared.
                {"receiver": SCC, "matchers": [f'to="{SCC}"']},
                {
                    "receiver": SCC,
                    "matchers": ['severity="critical"', 'trust=~".+"'],
                    "continue": True,
                },
                *(
                    {"receiver": _receiver(code), "matchers": [f'trust="{code}"']}
                    for code in trusts
                ),
            ],
        },
        "inhibit_rules": [
            {
                # While a site has a critical alert (a stale feed, a 12-hour wait, an ambulance
                # held), its warnings wait: the on-call manager sees the urgent thing first.
                # Only a site's own critical: a site-less one (the worker down) would otherwise
                # hold every site-less warning, which share the empty site.
                "source_matchers": ['severity="critical"', 'site=~".+"'],
                "target_matchers": ['severity="warning"'],
                "equal": ["site"],
            },
            {
                # One page per problem: while a central component is down, every site's feed
                # is silent for that one reason, and each trust would be paged for each feed.
                # Central means no trust: a trust's own listener down is the next rule.
                "source_matchers": [f'to="{PLATFORM}"', 'trust=""'],
                "target_matchers": [f'alertname=~"{"|".join(PER_SITE_FEED_ALERTS)}"'],
            },
            {
                # A trust's HL7 listener down silences that trust's A&E feeds only.
                "source_matchers": [f'to="{PLATFORM}"', 'trust=~".+"'],
                "target_matchers": [
                    f'alertname=~"{"|".join(PER_SITE_FEED_ALERTS)}"',
                    f'stream="{Stream.AE.value}"',
                ],
                "equal": ["trust"],
            },
        ],
        "receivers": [
            _receiving(SCC, settings.receivers[SCC]),
            _receiving(PLATFORM, settings.receivers[PLATFORM]),
            *(_receiving(_receiver(code), settings.receivers[code]) for code in trusts),
        ],
        # Relative to this file: Alertmanager reads templates from the config's directory.
        "templates": [TEMPLATES],
    }


# The notification templates (alerts/templates/), from alerts/generated/ where this file goes.
TEMPLATES = "../templates/*.tmpl"


def _receiving(name: str, to: str) -> dict[str, Any]:
    """A receiver from its configured address: mailto:, msteams: or a webhook URL."""
    if to.startswith("mailto:"):
        email = {
            "to": to.removeprefix("mailto:"),
            "send_resolved": True,
            "headers": {"Subject": '{{ template "uecflow.subject" . }}'},
            "text": '{{ template "uecflow.text" . }}',
            "html": '{{ template "uecflow.html" . }}',
        }
        return {"name": name, "email_configs": [email]}
    if to.startswith("msteams:"):
        teams = {
            "webhook_url": to.removeprefix("msteams:"),
            "send_resolved": True,
            "title": '{{ template "uecflow.subject" . }}',
            "text": '{{ template "uecflow.teams" . }}',
        }
        return {"name": name, "msteams_configs": [teams]}
    return _webhook(name, to)


def _email_settings(email: Email) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "smtp_smarthost": email.smarthost,
        "smtp_from": email.sender,
        "smtp_require_tls": email.require_tls,
    }
    if email.username:
        settings |= {
            "smtp_auth_username": email.username,
            "smtp_auth_password_file": email.password_file,
        }
    return {"global": settings}


def _receiver(trust: str) -> str:
    return f"oncall-{trust}"


def _webhook(name: str, url: str) -> dict[str, Any]:
    return {"name": name, "webhook_configs": [{"url": url, "send_resolved": True}]}


def _seconds(value: float) -> str:
    return f"{round(value)}s"
