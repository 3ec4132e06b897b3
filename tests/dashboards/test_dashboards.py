"""The generated dashboards: committed JSON, schema, thresholds from the registry, and the
rules every panel keeps (a query, a description, names rather than codes)."""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dashboards.build import SITE_VARIABLE_QUERY, all_dashboards, render
from dashboards.cli import GENERATED
from dashboards.queries import BUILT_INS, panel_queries
from dashboards.schema import schema_problems
from uecflow.cli import main as uecflow
from uecflow.config import Registry, load_registry

REGISTRY = load_registry()
BOARDS = all_dashboards(REGISTRY)
UIDS = [
    "uecflow-scc-overview",
    "uecflow-site",
    "uecflow-handovers",
    "uecflow-discharge",
    "uecflow-trust-feeds",
]
NEL_TOML = Path(__file__).resolve().parents[2] / "uecflow" / "nel.toml"

Board = dict[str, Any]


def panels_of(board: Board) -> Iterator[Board]:
    for panel in board["panels"]:
        if panel["type"] != "row":
            yield panel
        yield from panel.get("panels", [])


def panel(board: Board, title: str) -> Board:
    (found,) = [p for p in panels_of(board) if p["title"] == title]
    return found


def column(table: Board, name: str, key: str) -> Any:
    for override in table["fieldConfig"]["overrides"]:
        if override["matcher"] == {"id": "byName", "options": name}:
            for item in override["properties"]:
                if item["id"] == key:
                    return item["value"]
    raise AssertionError(f"{table['title']}: no {key} for column {name}")


def steps(thresholds: Board) -> list[tuple[float | None, str]]:
    return [(step["value"], step["color"]) for step in thresholds["steps"]]


def test_there_are_the_five_dashboards_with_stable_uids() -> None:
    assert sorted(BOARDS) == sorted(UIDS)
    assert all(board["uid"] == uid for uid, board in BOARDS.items())


@pytest.mark.parametrize("uid", UIDS)
def test_the_committed_json_is_a_fresh_generation(uid: str) -> None:
    committed = GENERATED / f"{uid}.json"
    assert committed.exists(), "run `uecflow dashboards generate`"
    assert committed.read_text(encoding="utf-8") == render(BOARDS[uid]), (
        "dashboards/generated is out of date: run `uecflow dashboards generate`"
    )


def test_rendering_sorts_keys_indents_by_two_and_ends_with_a_newline() -> None:
    text = render(BOARDS["uecflow-site"])
    assert text.endswith("}\n")
    assert text.splitlines()[1].startswith('  "')
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("uid", UIDS)
def test_each_dashboard_is_valid_against_the_sdk_schema(uid: str) -> None:
    assert schema_problems(BOARDS[uid]) == []


def test_the_schema_check_finds_unknown_keys_and_wrong_types() -> None:
    broken = copy.deepcopy(BOARDS["uecflow-scc-overview"])
    table = broken["panels"][10]
    table["titel"] = "misspelt"
    table["gridPos"]["h"] = "9"
    table["transformations"][0]["option"] = {}
    thresholds = table["fieldConfig"]["overrides"][1]["properties"][2]["value"]
    thresholds["steps"][0]["colour"] = "green"
    problems = "\n".join(schema_problems(broken))
    assert "panels[10].titel: not in the schema" in problems
    assert "panels[10].grid_pos.h: '9' is not int" in problems
    assert "transformations[0].option: not in the schema" in problems
    assert "thresholds.steps[0].colour: not in the schema" in problems


def test_every_panel_has_a_query_a_description_and_the_fixed_datasource() -> None:
    for board in BOARDS.values():
        for each in panels_of(board):
            assert each.get("description", "").strip(), each["title"]
            assert each["targets"], each["title"]
            assert each["datasource"] == {"type": "prometheus", "uid": "uecflow-prometheus"}
            assert all(t["expr"].strip() and t["refId"] for t in each["targets"]), each["title"]


def test_no_panel_column_or_line_is_labelled_by_an_id() -> None:
    codes = set(REGISTRY.sites) | set(REGISTRY.trusts)
    for board in BOARDS.values():
        for each in panels_of(board):
            title = each["title"]
            assert title
            assert not re.fullmatch(r"(Panel|Query) ?\d*|[A-Z]", title)
            assert not any(code in title for code in codes)
            assert "$" not in title
            refs = {target["refId"] for target in each["targets"]}
            if each["type"] == "table":  # one column per query, each renamed for people
                (organize,) = [t for t in each["transformations"] if t["id"] == "organize"]
                names = organize["options"]["renameByName"]
                assert set(names) >= {f"Value #{ref}" for ref in refs}, title
                assert not set(names.values()) & refs
            legends = {target.get("legendFormat") for target in each["targets"]}
            if "{{site}}" in legends:
                named = {o["matcher"]["options"] for o in each["fieldConfig"]["overrides"]}
                assert named >= set(REGISTRY.sites), title


def test_every_site_appears_by_name_where_sites_are_listed() -> None:
    for uid in ("uecflow-scc-overview", "uecflow-handovers", "uecflow-discharge"):
        tables = [p for p in panels_of(BOARDS[uid]) if p["type"] == "table"]
        site_tables = [t for t in tables if "Site" in json.dumps(t["transformations"])]
        assert site_tables, uid
        for table in site_tables:
            (names,) = column(table, "Site", "mappings")
            shown = {code: result["text"] for code, result in names["options"].items()}
            assert shown == {code: site.short_name for code, site in REGISTRY.sites.items()}
    text = json.dumps(BOARDS["uecflow-site"])
    assert all(code in text and site.short_name in text for code, site in REGISTRY.sites.items())


def test_thresholds_are_the_registry_targets() -> None:
    """A maximum colours red from the first value above it (Grafana colours a value equal to a
    step with that step), a count from the first one over, a minimum green from itself."""
    targets = REGISTRY.targets
    table = panel(BOARDS["uecflow-scc-overview"], "Sites against targets")
    above = math.nextafter

    def colours(name: str) -> list[tuple[float | None, str]]:
        return steps(column(table, name, "thresholds"))

    assert colours("G&A occupancy") == [
        (None, "green"),
        (above(targets.ga_occupancy_max, math.inf), "red"),
    ]
    assert colours("MFFD rate") == [
        (None, "green"),
        (above(targets.mffd_rate_max, math.inf), "red"),
    ]
    assert colours("4-hour today") == [(None, "red"), (targets.four_hour_latest, "green")]
    assert colours(">12 h in department") == [(None, "green"), (targets.over_12h_max + 1, "red")]
    assert colours(">12 h after DTA") == [(None, "green"), (targets.over_12h_max + 1, "red")]
    wait = targets.handover_max_minutes * 60
    assert colours("Longest ambulance wait") == [(None, "green"), (above(wait, math.inf), "red")]
    ages = panel(BOARDS["uecflow-scc-overview"], "Last event per site and feed")
    for stream, name in (("ae", "A&E"), ("beds", "beds"), ("ambulance", "ambulance")):
        limit = targets.stale_after_minutes[stream] * 60
        assert steps(column(ages, f"Last {name} event", "thresholds")) == [
            (None, "green"),
            (limit, "red"),
        ]


def test_the_site_trends_draw_the_target_line() -> None:
    trend = panel(BOARDS["uecflow-site"], "G&A occupancy over time")
    defaults = trend["fieldConfig"]["defaults"]
    assert defaults["custom"]["thresholdsStyle"]["mode"] == "dashed"
    assert steps(defaults["thresholds"])[1][0] == math.nextafter(
        REGISTRY.targets.ga_occupancy_max, math.inf
    )
    assert defaults["unit"] == "percentunit"


def test_stale_limits_mask_values_in_the_queries() -> None:
    table = panel(BOARDS["uecflow-discharge"], "Beds and MFFD by site")
    (occupancy,) = [t["expr"] for t in table["targets"] if t["refId"] == "occupancy"]
    beds_limit = REGISTRY.targets.stale_after_minutes["beds"] * 60
    assert f'stream="beds"}}) > {beds_limit:g})' in occupancy
    assert "* 0 + -1" in occupancy  # the STALE mark


def _changed_config(tmp_path: Path) -> Path:
    text = NEL_TOML.read_text(encoding="utf-8")
    replacements = {
        "ga_occupancy_max = 0.92": "ga_occupancy_max = 0.95",
        "handover_max_minutes = 45": "handover_max_minutes = 30",
        "mffd_rate_max = 0.15": "mffd_rate_max = 0.12",
        "beds = 360": "beds = 240",
        "from = 2025-04-01\nvalue = 0.78": "from = 2025-04-01\nvalue = 0.80",
    }
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "changed.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_changing_a_target_in_the_config_changes_the_generated_json(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    config = _changed_config(tmp_path)
    assert uecflow(["--config", str(config), "dashboards", "generate", "--out", str(out)]) == 0
    board = json.loads((out / "uecflow-scc-overview.json").read_text(encoding="utf-8"))
    table = panel(board, "Sites against targets")
    changed = load_registry(config).targets
    assert steps(column(table, "G&A occupancy", "thresholds"))[1][0] == math.nextafter(
        0.95, math.inf
    )
    assert steps(column(table, "4-hour today", "thresholds"))[1][0] == 0.80
    assert steps(column(table, "MFFD rate", "thresholds"))[1][0] == math.nextafter(0.12, math.inf)
    assert steps(column(table, "Longest ambulance wait", "thresholds"))[1][0] == math.nextafter(
        30 * 60, math.inf
    )
    ages = panel(board, "Last event per site and feed")
    assert steps(column(ages, "Last beds event", "thresholds"))[1][0] == 240 * 60
    assert changed.stale_after_minutes["beds"] == 240
    assert board != BOARDS["uecflow-scc-overview"]


def test_a_site_renamed_in_the_config_is_renamed_on_the_boards(tmp_path: Path) -> None:
    text = NEL_TOML.read_text(encoding="utf-8").replace(
        'short_name = "Homerton"', 'short_name = "Homerton Hospital"'
    )
    config = tmp_path / "renamed.toml"
    config.write_text(text, encoding="utf-8")
    renamed: Registry = load_registry(config)
    assert "Homerton Hospital" in json.dumps(all_dashboards(renamed)["uecflow-handovers"])


def test_the_site_variable_lists_sites_from_prometheus() -> None:
    (variable,) = BOARDS["uecflow-site"]["templating"]["list"]
    assert variable["name"] == "site"
    assert variable["query"] == SITE_VARIABLE_QUERY
    assert variable["datasource"]["uid"] == "uecflow-prometheus"


def test_panel_queries_substitute_variables_and_grafana_built_ins() -> None:
    queries = panel_queries(BOARDS["uecflow-site"], {"site": "R1HNH"})
    assert queries
    for each in queries:
        assert "$" not in each.expr, each
        assert "[[" not in each.expr, each
        assert each.dashboard_uid == "uecflow-site"
    assert any('site="R1HNH"' in each.expr for each in queries)
    variable = [each for each in queries if each.ref_id == "site"]
    assert [each.expr for each in variable] == ['uecflow_ae_in_department{site!=""}']


def test_panel_queries_accept_every_reference_form() -> None:
    board = {
        "uid": "x",
        "panels": [
            {
                "title": "t",
                "type": "timeseries",
                "targets": [
                    {"refId": "A", "expr": "rate(m{site='$site'}[$__rate_interval])"},
                    {"refId": "B", "expr": "m{site='${site}'} + m{site='${site:raw}'}"},
                    {"refId": "C", "expr": "increase(m{site='[[site]]'}[$__range])"},
                ],
            }
        ],
        "templating": {"list": [{"type": "custom", "name": "n", "query": "a,b"}]},
    }
    exprs = [each.expr for each in panel_queries(board, {"site": "R1H12"})]
    assert exprs == [
        f"rate(m{{site='R1H12'}}[{BUILT_INS['__rate_interval']}])",
        "m{site='R1H12'} + m{site='R1H12'}",
        f"increase(m{{site='R1H12'}}[{BUILT_INS['__range']}])",
    ]


def test_the_scc_sees_each_trusts_opel_level_in_force_red_from_the_alerts_level() -> None:
    overview = BOARDS["uecflow-scc-overview"]
    trusts = panel(overview, "OPEL in force by trust")
    exprs = [target["expr"] for target in trusts["targets"]]
    assert any(expr.startswith("trust:uecflow_opel_level:in_force or") for expr in exprs)
    red_from = REGISTRY.targets.opel_level_max + 1
    assert steps(column(trusts, "OPEL in force", "thresholds")) == [
        (None, "green"),
        (red_from, "red"),
    ]
    sites = panel(overview, "OPEL declared by site")
    assert "uecflow_opel_site_level" in sites["targets"][0]["expr"]
    # The framework's parameters that uecflow measures, beside the level.
    shown = set(sites["transformations"][1]["options"]["renameByName"].values())
    assert {"Mean handover today", "4-hour today", "Share >12 h in department"} <= shown


def test_each_breach_shows_since_when_from_prometheuss_record_of_the_alert() -> None:
    breaches = panel(BOARDS["uecflow-scc-overview"], "Breaches now, since when")
    exprs = [target["expr"] for target in breaches["targets"]]
    assert all("ALERTS_FOR_STATE" in expr and 'alertstate="firing"' in expr for expr in exprs)
    assert column(breaches, "Since", "unit").startswith("dateTime")
    assert column(breaches, "For", "unit") == "s"
    words = column(breaches, "Breach", "mappings")[0]["options"]
    assert words["UecflowFeedStale"]["text"] == "Feed stale"
    assert words["UecflowTrustAtOpelLevel"]["text"] == "Trust at OPEL level"


@pytest.mark.parametrize("title", ["Yesterday by site", "Yesterday: trusts and system"])
def test_yesterdays_tables_read_the_last_instant_of_the_london_day_before(title: str) -> None:
    overview = BOARDS["uecflow-scc-overview"]
    assert overview["timezone"] == "Europe/London"
    yesterday = panel(overview, title)
    # The day so far, shifted back a whole day: instant queries run at yesterday's end.
    assert (yesterday["timeFrom"], yesterday["timeShift"]) == ("now/d", "1d/d")
    shown = set(yesterday["transformations"][1]["options"]["renameByName"].values())
    assert {"4-hour yesterday", "A&E arrivals yesterday", ">60 min yesterday"} <= shown
    assert not any("today" in name for name in shown)
