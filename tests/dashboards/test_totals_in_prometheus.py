"""The boards' trust and system queries, evaluated by promtool over site series from two
workers with the generated recording rules: what a trust table and a system stat show."""

from __future__ import annotations

from pathlib import Path

import yaml

from alerts.cli import GENERATED, RULES
from dashboards import promql
from tests.alerts.promtool import PROMTOOL, run, tool

AS_OF = "uecflow_as_of_timestamp_seconds"
SITES = {  # site: (trust, place, worker, beds open, beds occupied)
    "R1H12": ("R1H", "Tower Hamlets", "worker-1", 60, 57),
    "R1HNH": ("R1H", "Newham", "worker-2", 40, 40),
    "RF4QH": ("RF4", "Havering", "worker-2", 100, 90),
}


def site_series() -> list[dict[str, str]]:
    series = []
    for site, (trust, place, worker, beds_open, occupied) in SITES.items():
        labels = f'site="{site}",trust="{trust}",place="{place}",instance="{worker}"'
        for family, value in [
            ("uecflow_ga_beds_open", beds_open),
            ("uecflow_ga_beds_occupied", occupied),
            ("uecflow_ae_in_department", 3),
        ]:
            series.append({"series": f"{family}{{{labels}}}", "values": f"{value}x3"})
    for worker in ("worker-1", "worker-2"):
        series.append({"series": f'{AS_OF}{{instance="{worker}"}}', "values": "1x3"})
    return series


def evaluated(expr: str, expected: list[dict[str, object]], tmp_path: Path) -> None:
    unit_test = {
        "rule_files": [str(GENERATED / RULES)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": site_series(),
                "promql_expr_test": [{"expr": expr, "eval_time": "2m", "exp_samples": expected}],
            }
        ],
    }
    path = tmp_path / "boards-test.yml"
    path.write_text(yaml.safe_dump(unit_test, sort_keys=False))
    run(tool(PROMTOOL), "test", "rules", str(path))


def test_a_trust_table_has_each_trust_and_the_system_from_summed_beds(tmp_path: Path) -> None:
    rule = "trust:uecflow_ga_occupancy:ratio"
    expected: list[dict[str, object]] = [
        {"labels": f'{rule}{{trust="R1H"}}', "value": 97 / 100},
        {"labels": f'{rule}{{trust="RF4"}}', "value": 90 / 100},
        {"labels": 'system:uecflow_ga_occupancy:ratio{trust="system"}', "value": 187 / 200},
    ]
    evaluated(promql.current_by_trust("uecflow_ga_occupancy_ratio"), expected, tmp_path)


def test_a_system_stat_is_the_system_rule(tmp_path: Path) -> None:
    expected: list[dict[str, object]] = [
        {"labels": "system:uecflow_ga_beds_open:sum", "value": 200},
    ]
    evaluated(promql.system_value("uecflow_ga_beds_open"), expected, tmp_path)
