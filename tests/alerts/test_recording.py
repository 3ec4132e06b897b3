"""The recording rules make every trust's, place's and the system's figures from the site series
the workers export; promtool shows they equal the flow core's totals, with the sites split
between two workers and one site exported by both (a rebalance moving it)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry

from alerts.cli import GENERATED, RULES
from alerts.recording import KEPT, recording_rules
from streams.core.attendance import Arrivals, DepartmentCensus, DepartureCounts
from streams.core.handover import AmbulanceCensus, HandoverCounts
from streams.core.instants import HOUR, MINUTE
from streams.core.metrics import (
    LEVELS,
    METRIC,
    METRICS,
    OPEL_HIGHEST_IN_FORCE,
    OPEL_IN_FORCE,
    PART,
    FlowParts,
    Level,
    Metric,
    opel_in_force,
)
from streams.core.occupancy import BedCounts
from streams.core.opel import OpelLevels
from streams.core.snapshot import FlowSnapshot
from streams.exporter import FlowCollector
from tests.alerts.promtool import PROMTOOL, run, tool
from tests.events_builder import REGISTRY, at

NOW = at("2025-11-20T12:00:00Z")
Sample = tuple[str, dict[str, str], float]  # family, labels, value


def random_parts(rng: random.Random) -> FlowParts:
    """A site's parts; often nothing to divide by. Durations in whole minutes (hours for time
    lost), so that the exported seconds are whole numbers and sums of them exact."""

    def n(most: int) -> int:
        return rng.choice([0, rng.randint(0, most)])

    def wait() -> int | None:
        return rng.choice([None, rng.randint(1, 900) * MINUTE])

    def level() -> int | None:
        return rng.choice([None, rng.randint(1, 4)])

    occupied, cc_occupied, in_department = n(300), n(30), n(90)
    departures, type1, handovers = n(400), n(200), n(80)
    return FlowParts(
        beds=BedCounts(
            open=occupied + n(40),
            occupied=occupied,
            nctr=rng.randint(0, occupied),
            escalation_open=n(20),
            cc_open=cc_occupied + n(5),
            cc_occupied=cc_occupied,
        ),
        department=DepartmentCensus(
            in_department=in_department,
            over_4h=rng.randint(0, in_department),
            over_12h=n(9),
            mh_over_12h=n(3),
            longest_wait=wait(),
            waiting_after_dta=n(20),
            over_12h_after_dta=n(5),
        ),
        departed_today=DepartureCounts(
            departures=departures,
            within_4h=rng.randint(0, departures),
            type1_departures=type1,
            type1_within_4h=rng.randint(0, type1),
            over_12h=n(9),
            mh_departures=n(9),
            mh_over_12h=n(3),
            trolley_waits=n(5),
            dta_4_to_12h=n(30),
        ),
        departed_month=DepartureCounts(departures * 20, departures * 15),
        ambulances=AmbulanceCensus(n(12), wait()),
        handed_over_today=HandoverCounts(
            handovers=handovers,
            total=handovers * rng.randint(10, 90) * MINUTE,
            over_30=n(20),
            over_45=n(10),
            over_60=n(5),
            lost=n(9) * HOUR,
            within_15=n(40),
            within_30=n(60),
            lost_over_60=n(4) * HOUR,
        ),
        arrived=Arrivals(ae_today=n(500), ae_last_hour=n(40), ambulance_today=n(120)),
        opel=OpelLevels(level(), level()),
    )


def exported(snapshot: FlowSnapshot) -> list[Sample]:
    metrics = CollectorRegistry(auto_describe=False)
    metrics.register(FlowCollector(REGISTRY, lambda _: (snapshot, {}), lambda: NOW))
    return [
        (sample.name, sample.labels, sample.value)
        for family in metrics.collect()
        for sample in family.samples
        if "site" in sample.labels
    ]


def groups(level: Level) -> Iterator[tuple[dict[str, str], list[str]]]:
    """Each trust, place or the system, with its sites."""
    if level == "system":
        yield {}, list(REGISTRY.sites)
        return
    names = REGISTRY.trusts if level == "trust" else REGISTRY.places
    for name in names:
        label = KEPT[level][0]
        yield {label: name}, [c for c, s in REGISTRY.sites.items() if getattr(s, label) == name]


def figured(
    metric: Metric, sites: list[str], site_values: dict[tuple[str, str], float]
) -> float | None:
    """What the rule computes, the way PromQL does (a peer of the rules, in Python)."""
    aggregate = metric.aggregate
    if aggregate.operation == "max":
        found = [
            site_values[metric.prometheus, s]
            for s in sites
            if (metric.prometheus, s) in site_values
        ]
        return max(found) if found else None
    if aggregate.operation == "sum":
        return sum(site_values[metric.prometheus, s] for s in sites)
    assert aggregate.parts is not None
    numerator, denominator = (
        sum(site_values[(METRIC | PART)[name].prometheus, s] for s in sites)
        for name in aggregate.parts
    )
    return numerator / denominator if denominator > 0 else None


def core(
    snapshot: FlowSnapshot, level: Level, labels: dict[str, str], metric: Metric
) -> float | None:
    values = (
        snapshot.system() if level == "system"
        else snapshot.trust(labels["trust"]) if level == "trust"
        else snapshot.place(labels["place"])
    )  # fmt: skip
    return metric.in_prometheus_unit(values[metric.name])


def series(name: str, labels: dict[str, str]) -> str:
    inside = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    return f"{name}{{{inside}}}" if inside else name


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_recording_rule_equals_the_flow_cores_total(seed: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    snapshot = FlowSnapshot(NOW, {code: random_parts(rng) for code in REGISTRY.sites}, REGISTRY)
    samples = exported(snapshot)
    site_values = {(name, labels["site"]): value for name, labels, value in samples}
    codes = list(REGISTRY.sites)
    moving = codes[0]  # exported by both workers for a moment
    input_series = []
    for name, labels, value in samples:
        holders = (
            ["worker-1", "worker-2"]
            if labels["site"] == moving
            else ["worker-1" if codes.index(labels["site"]) % 2 else "worker-2"]
        )
        for holder in holders:
            input_series.append(
                {"series": series(name, {**labels, "instance": holder}), "values": f"{value!r}x2"}
            )
    checks: list[dict[str, object]] = []
    tested = set()
    for level in LEVELS:
        for labels, sites in groups(level):
            for metric in METRICS:
                expected = figured(metric, sites, site_values)
                truth = core(snapshot, level, labels, metric)
                assert (expected is None) == (truth is None), (level, labels, metric.name)
                if expected is not None:
                    assert expected == pytest.approx(truth, rel=1e-12), (level, labels, metric.name)
                record = metric.recorded(level)
                tested.add(record)
                found = (
                    []
                    if expected is None
                    else [{"labels": series(record, labels), "value": expected}]
                )
                checks.append(
                    {
                        "expr": series(record, labels) if labels else record,
                        "eval_time": "1m",
                        "exp_samples": found,
                    }
                )
    levels: list[float | None] = []
    for labels, sites in groups("trust"):
        declared, highest = (
            figured(METRIC[name], sites, site_values)
            for name in ("opel_trust_level", "opel_site_level")
        )
        expected = highest if declared is None else declared
        assert expected == opel_in_force(snapshot.trust(labels["trust"])), labels
        found = (
            []
            if expected is None
            else [{"labels": series(OPEL_IN_FORCE, labels), "value": expected}]
        )
        checks.append(
            {"expr": series(OPEL_IN_FORCE, labels), "eval_time": "1m", "exp_samples": found}
        )
        tested.add(OPEL_IN_FORCE)
        levels.append(expected)
    in_force = [level for level in levels if level is not None]
    top = [{"labels": OPEL_HIGHEST_IN_FORCE, "value": max(in_force)}] if in_force else []
    checks.append({"expr": OPEL_HIGHEST_IN_FORCE, "eval_time": "1m", "exp_samples": top})
    tested.add(OPEL_HIGHEST_IN_FORCE)
    assert tested == {rule["record"] for rule in recording_rules()}
    unit_test = {
        "rule_files": [str(GENERATED / RULES)],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": input_series, "promql_expr_test": checks}],
    }
    path = tmp_path / "recording-test.yml"
    path.write_text(yaml.safe_dump(unit_test, sort_keys=False))
    run(tool(PROMTOOL), "test", "rules", str(path))
