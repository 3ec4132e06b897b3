"""End to end, all real: events into Kafka, the worker, a real Prometheus scraping it with the
project's generated rules, a real Alertmanager with the generated routing, and a webhook per
receiver. The simulator's alert drill (`uecflow simulate --drill`) breaches each target in turn
at one site; its alert must reach that site's trust (and no other trust), then clear when the
drill ends the breach. The simulator's silent-feed scenario must raise the staleness alert, and
every dashboard query must return data.

Hold times (`for:`) are zero here so that the test takes a minute; promtool's tests
(`alerts/tests/`) check both sides of each real hold time.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dashboards.queries import panel_queries
from producers.simulator.drill import STEPS
from streams.topics import Topics
from tests.integration.monitoring import Alertmanager, Prometheus, WebhookSink, missing_servers
from tools.harness import ROOT, UECFLOW, Broker, Worker, produce, wait_for

pytestmark = [pytest.mark.kafka, pytest.mark.monitoring, pytest.mark.slow]
if missing_servers():
    pytestmark.append(pytest.mark.skip(reason=str(missing_servers())))

TRUSTS = ("R1H", "RF4", "RQX")
# Each target breached at a different site, so every trust is paged at least once.
DRILL = [
    ("occupancy", "R1H12", "R1H"),
    ("four_hour", "RF4QH", "RF4"),
    ("over_12h", "RQXM1", "RQX"),
    ("after_dta", "R1HKH", "R1H"),
    ("handover", "RF4DG", "RF4"),
    ("mffd", "R1HNH", "R1H"),
]
CRITICAL = {"over_12h", "after_dta", "handover"}


def _test_config(sink: WebhookSink) -> str:
    """The repository's nel.toml with no hold times, quick grouping and the test's receivers."""
    nel = (ROOT / "uecflow" / "nel.toml").read_text()
    base = nel[: nel.index("[alerting]")]
    receivers = "\n".join(f'{name} = "{sink.url(name)}"' for name in ("scc", "platform", *TRUSTS))
    holds = re.search(r"\[alerting\.for_minutes\]\n((?:\w+ = \d+\n)+)", nel)
    assert holds, "nel.toml has no [alerting.for_minutes]"
    zeros = re.sub(r"= \d+", "= 0", holds.group(1))
    # A worker shutting down may answer one more scrape after failing one: with no hold at all
    # that would page twice. Six seconds, as production's five minutes, rides over it.
    zeros = zeros.replace("worker_down = 0", "worker_down = 0.1")
    return (
        f"{base}[alerting]\nfour_hour_min_departures = 20\ngroup_wait_seconds = 1\n"
        "keep_firing_minutes = 0\n"
        f"group_interval_seconds = 1\nrepeat_interval_hours = 1\n\n"
        f"[alerting.for_minutes]\n{zeros}\n[alerting.receivers]\n{receivers}\n"
    )


@pytest.fixture(scope="module")
def sink() -> Iterator[WebhookSink]:
    with WebhookSink().running() as running:
        yield running


@pytest.fixture(scope="module")
def stack(broker: Broker, run_dir: Path, sink: WebhookSink) -> Iterator[dict[str, Any]]:
    topics = Topics(prefix="alerting", partitions=6)
    home = run_dir / "alerting"
    home.mkdir(parents=True, exist_ok=True)
    config = home / "nel.toml"
    config.write_text(_test_config(sink))
    generated = home / "generated"
    subprocess.run(
        [str(UECFLOW), "--config", str(config), "alerts", "generate", "--out", str(generated)],
        check=True, capture_output=True,
    )  # fmt: skip
    worker = Worker(broker.bootstrap, topics, home / "worker.log")
    alertmanager = Alertmanager(home / "alertmanager")
    prometheus = Prometheus(home / "prometheus")
    worker.start()
    alertmanager.start(generated / "alertmanager.yml")
    prometheus.start(
        [f"127.0.0.1:{worker.port}"],
        rule_files=[generated / "uecflow.rules.yml"],
        alertmanager=alertmanager.address,
    )
    wait_for(prometheus.scraped, "Prometheus to scrape the worker", 60)
    yield {
        "worker": worker,
        "prometheus": prometheus,
        "alertmanager": alertmanager,
        "topics": topics,
        "broker": broker,
    }
    prometheus.stop()
    alertmanager.stop()
    worker.stop()


def _delivered(sink: WebhookSink, receiver: str, alert: str, site: str, status: str) -> bool:
    return any(
        note["labels"].get("alertname") == alert
        and note["labels"].get("site") == site
        and note["status"] == status
        for note in sink.alerts(receiver)
    )


def _send(stack: dict[str, Any], lines: list[str]) -> None:
    assert produce(stack["broker"].bootstrap, stack["topics"], lines) == len(lines)


def _drill(stack: dict[str, Any], target: str, site: str, phase: str) -> None:
    """`uecflow simulate --drill`: the simulator sends the drill's events to Kafka itself."""
    topics: Topics = stack["topics"]
    subprocess.run(
        [
            str(UECFLOW), "simulate", "--drill", target, "--drill-phase", phase, "--site", site,
            "--kafka", stack["broker"].bootstrap, "--topic-prefix", topics.prefix,
            "--partitions", str(topics.partitions),
        ],
        check=True, capture_output=True,
    )  # fmt: skip


@pytest.mark.parametrize(("target", "site", "trust"), DRILL, ids=[d[0] for d in DRILL])
def test_each_breach_pages_its_trust_then_clears(
    stack: dict[str, Any], sink: WebhookSink, target: str, site: str, trust: str
) -> None:
    step = STEPS[target]
    _drill(stack, target, site, "breach")
    wait_for(
        lambda: _delivered(sink, trust, step.alert, site, "firing"),
        f"{step.alert} for {site} to reach {trust}'s receiver",
        90,
    )
    others = [other for other in TRUSTS if other != trust]
    assert not any(
        alert["labels"].get("site") == site for other in others for alert in sink.alerts(other)
    ), f"{site}'s alert reached another trust"
    if target in CRITICAL:  # the SCC sees critical site alerts too
        assert _delivered(sink, "scc", step.alert, site, "firing")

    _drill(stack, target, site, "recover")
    wait_for(
        lambda: _delivered(sink, trust, step.alert, site, "resolved"),
        f"{step.alert} for {site} to resolve",
        90,
    )


def test_a_critical_alert_holds_back_the_same_sites_warnings(
    stack: dict[str, Any], sink: WebhookSink
) -> None:
    """Newham: an ambulance held past 45 minutes (critical), then its beds fill (warning).
    Alertmanager holds the warning while the critical alert fires, and sends it once the
    ambulance is handed over."""
    alertmanager: Alertmanager = stack["alertmanager"]
    occupancy = STEPS["occupancy"].alert
    before = len(sink.alerts("R1H"))  # the drill sites' own alerts went out earlier
    _drill(stack, "handover", "R1HNH", "breach")
    wait_for(
        lambda: any(
            alert["labels"].get("alertname") == STEPS["handover"].alert
            for alert in sink.alerts("R1H")[before:]
        ),
        "the handover alert",
        90,
    )
    already = len(sink.alerts("R1H"))
    _drill(stack, "occupancy", "R1HNH", "breach")

    def held() -> bool:
        return any(
            alert["labels"].get("alertname") == occupancy
            and alert["labels"].get("site") == "R1HNH"
            and alert["status"]["state"] == "suppressed"
            and alert["status"]["inhibitedBy"]
            for alert in alertmanager.alerts()
        )

    wait_for(held, "Alertmanager to hold Newham's occupancy warning", 90)
    assert not any(
        alert["labels"].get("alertname") == occupancy and alert["labels"].get("site") == "R1HNH"
        for alert in sink.alerts("R1H")[already:]
    ), "the warning was sent while the critical alert fired"

    _drill(stack, "handover", "R1HNH", "recover")
    wait_for(
        lambda: any(
            alert["labels"].get("alertname") == occupancy
            and alert["labels"].get("site") == "R1HNH"
            and alert["status"] == "firing"
            for alert in sink.alerts("R1H")[already:]
        ),
        "the occupancy warning once the ambulance is handed over",
        90,
    )
    _drill(stack, "occupancy", "R1HNH", "recover")


def test_a_silent_feed_raises_the_staleness_alert(
    stack: dict[str, Any], sink: WebhookSink, tmp_path: Path
) -> None:
    """The simulator's silent-feed scenario: Royal London's A&E feed stops two hours ago."""
    now = datetime.now(UTC).replace(microsecond=0)
    out = tmp_path / "silent.jsonl"
    subprocess.run(
        [
            str(UECFLOW), "simulate", "--start", (now - timedelta(hours=3)).isoformat(),
            "--hours", "3", "--scenario", "silent-feed", "--silent-site", "R1H12",
            "--silent-stream", "ae", "--silent-at", "+1h", "--out", str(out),
        ],
        check=True, capture_output=True,
    )  # fmt: skip
    _send(stack, out.read_text().splitlines())

    def stale_ae() -> bool:
        return any(
            note["labels"].get("alertname") == "UecflowFeedStale"
            and note["labels"].get("site") == "R1H12"
            and note["labels"].get("stream") == "ae"
            and note["status"] == "firing"
            for note in sink.alerts("R1H")
        )

    wait_for(stale_ae, "Royal London's silent A&E feed to page Barts Health", 90)
    assert not any(
        note["labels"].get("alertname") == "UecflowFeedStale"
        and note["labels"].get("site") == "R1H12"
        for other in ("RF4", "RQX")
        for note in sink.alerts(other)
    )
    # The feed comes back: one event now, and the alert clears.
    _send(stack, STEPS["over_12h"].breach("R1H12", datetime.now(UTC))[2:])
    wait_for(
        lambda: _delivered(sink, "R1H", "UecflowFeedStale", "R1H12", "resolved"),
        "the staleness alert to resolve",
        90,
    )


def _declare(stack: dict[str, Any], level: int, site: str = "RQXM1") -> None:
    at = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    event = {
        "event_id": f"opel-{site}-{level}-{at}",
        "event_type": "opel.declared",
        "occurred_at": at,
        "site": site,
        "level": level,
    }
    _send(stack, [json.dumps(event)])


def _site_level(stack: dict[str, Any], site: str) -> float | None:
    worker: Worker = stack["worker"]
    for (name, labels), value in worker.scrape().items():
        if name == "uecflow_opel_site_level" and ("site", site) in labels:
            return value
    return None


def test_a_trust_declaring_opel_3_tells_the_scc_and_no_trust(
    stack: dict[str, Any], sink: WebhookSink
) -> None:
    """Homerton declares OPEL 2, then 3, then 1: the level moves on the worker's /metrics, the
    SCC is told at 3 (naming the trust) and told it resolved at 1; no trust's receiver is."""
    alert = "UecflowTrustAtOpelLevel"
    _declare(stack, 2)
    wait_for(lambda: _site_level(stack, "RQXM1") == 2, "OPEL 2 on /metrics", 60)
    _declare(stack, 3)
    wait_for(lambda: _site_level(stack, "RQXM1") == 3, "OPEL 3 on /metrics", 60)

    def told(status: str) -> list[dict[str, Any]]:
        return [
            note
            for note in sink.alerts("scc")
            if note["labels"].get("alertname") == alert and note["status"] == status
        ]

    wait_for(lambda: told("firing"), "the SCC to be told of Homerton Healthcare at OPEL 3", 90)
    note = told("firing")[0]
    assert note["labels"]["trust"] == "RQX"
    assert note["annotations"]["summary"].startswith("Homerton Healthcare is at OPEL 3")
    assert "Homerton 3." in note["annotations"]["description"]
    _declare(stack, 1)
    wait_for(lambda: told("resolved"), "the SCC to be told OPEL 3 is over", 90)
    assert not any(
        note["labels"].get("alertname") == alert for trust in TRUSTS for note in sink.alerts(trust)
    ), "a trust's receiver was told of an OPEL level"


def test_every_dashboard_query_returns_data(stack: dict[str, Any]) -> None:
    """After the drill and the simulator (all six sites, every feed), each query of each panel
    and template variable of the committed dashboards, run against the live Prometheus, returns
    at least one series."""
    prometheus: Prometheus = stack["prometheus"]
    # A breach firing, so that the "since when" table has a row to show.
    began = datetime.now(UTC).timestamp()
    _drill(stack, "over_12h", "RF4DG", "breach")
    alert = STEPS["over_12h"].alert
    firing = f'ALERTS{{alertname="{alert}",site="RF4DG",alertstate="firing"}}'
    wait_for(lambda: prometheus.query(firing), "King George's 12-hour breach to fire", 90)
    # The trusts' feeds board reads the gateway, which this stack has not: a real gateway's
    # Prometheus runs its queries (test_gateway_faults.py).
    boards = sorted((ROOT / "dashboards" / "generated").glob("*.json"))
    boards = [board for board in boards if board.stem != "uecflow-trust-feeds"]
    assert len(boards) == 4
    queries = [
        query
        for path in boards
        for query in panel_queries(json.loads(path.read_text()), {"site": "RF4QH"})
    ]
    assert len(queries) > 20

    def all_answer() -> list[str]:
        return [
            f"{q.dashboard_uid} / {q.panel_title}: {q.expr}"
            for q in queries
            if not prometheus.query(q.expr)
        ]

    empty: list[str] = []

    def none_empty() -> bool:
        empty[:] = all_answer()
        return not empty

    try:
        wait_for(none_empty, "every dashboard query to return data", 30)
        (since,) = prometheus.query(f'ALERTS_FOR_STATE{{alertname="{alert}",site="RF4DG"}}')
        assert began - 60 <= float(since["value"][1]) <= datetime.now(UTC).timestamp()
    except TimeoutError as error:
        raise AssertionError("queries without data:\n" + "\n".join(empty)) from error
    finally:
        _drill(stack, "over_12h", "RF4DG", "recover")


def test_stopping_the_worker_is_one_page_to_the_scc_and_none_to_a_trust(
    stack: dict[str, Any], sink: WebhookSink
) -> None:
    """Last: it stops the worker (and starts it again). Every site's numbers vanish with it, but
    the SCC and the platform on-call get one page each, and no trust is paged."""
    prometheus: Prometheus = stack["prometheus"]
    worker: Worker = stack["worker"]
    receivers = ("scc", "platform", *TRUSTS)
    before = {name: len(sink.alerts(name)) for name in receivers}
    worker.stop()
    try:

        def firing(name: str) -> list[dict[str, Any]]:
            new = sink.alerts(name)[before[name] :]
            return [note for note in new if note["status"] == "firing"]

        wait_for(lambda: firing("scc"), "the SCC to be paged", 90)
        # Prometheus has evaluated the rules for 15 s with the worker gone: any other alert the
        # stop could cause has fired by then (every hold is zero here).
        down = 'ALERTS_FOR_STATE{alertname="UecflowWorkerDown"}'
        wait_for(
            lambda: any(
                float(s["value"][1]) <= float(s["value"][0]) - 15 for s in prometheus.query(down)
            ),
            "the worker to have been down for 15 s",
            60,
        )
        for receiver in ("scc", "platform"):
            got = sink.alerts(receiver)[before[receiver] :]
            shown = [
                (note["labels"].get("instance"), note["status"], note["startsAt"])
                for note in got
                if note["labels"]["alertname"] == "UecflowWorkerDown"
            ]
            pages = [note["labels"]["alertname"] for note in firing(receiver)]
            assert pages == ["UecflowWorkerDown"], shown
        assert {trust: firing(trust) for trust in TRUSTS} == {trust: [] for trust in TRUSTS}
    finally:
        worker.start()
