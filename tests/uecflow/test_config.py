"""A deployment's reference data file: mistakes are named, never a traceback or a silent loss."""

from __future__ import annotations

from pathlib import Path

import pytest

from uecflow.config import ConfigError, load_registry

DEFAULT = (Path(__file__).resolve().parents[2] / "uecflow" / "nel.toml").read_text(encoding="utf-8")


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "nel.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_default_registry_has_the_six_nel_sites_in_three_trusts() -> None:
    registry = load_registry()
    assert sorted(registry.sites) == ["R1H12", "R1HKH", "R1HNH", "RF4DG", "RF4QH", "RQXM1"]
    assert sorted(registry.trusts) == ["R1H", "RF4", "RQX"]
    assert registry.sites_of_trust("RF4") == ("RF4QH", "RF4DG")


def test_the_scc_is_told_of_opel_3_and_above_unless_configured_otherwise() -> None:
    assert load_registry().targets.opel_level_max == 2


def test_a_given_file_replaces_the_default(tmp_path: Path) -> None:
    changed = config(tmp_path, DEFAULT.replace("0.92", "0.9"))
    assert load_registry(changed).targets.ga_occupancy_max == 0.9


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('code = "RF4DG"', 'code = "R1H12"'), "site code listed twice: R1H12"),
        (("from = 2025-04-01", 'from = "2025-04-01"'), "must be a TOML date"),
        (('trust = "RQX"', 'trust = "RQY"'), "unknown trust RQY"),
        (("ga_occupancy_max = 0.92", "occupancy_max = 0.92"), "missing 'ga_occupancy_max'"),
        (("handover_max_minutes = 45", "handover_max_minutes = ["), "nel.toml"),
        (("opel_level_max = 2", "opel_level_max = 5"), "must be an OPEL level, 1 to 4"),
        (("central_stale_share = 0.5", "central_stale_share = 0"), "must be a share"),
        (("central_stale_share = 0.5", "central_stale_share = true"), "must be a share"),
        (("opel_level_max = 2", "opel_level_max = 2.5"), "must be an OPEL level, 1 to 4"),
        # OPEL scoring stays off: never bands without their source, nor any until implemented.
        (
            ("parameters = []", 'parameters = [{metric = "ae_4h_performance_today"}]'),
            "bands need the published framework's reference",
        ),
        (
            (
                'reference = ""\nparameters = []',
                'reference = "NHS England PRN0000, table 1"\nparameters = [{weight = 1}]',
            ),
            "OPEL scoring is not implemented",
        ),
    ],
)
def test_a_broken_config_is_refused_with_a_reason(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    assert change[0] in DEFAULT
    with pytest.raises(ConfigError, match=message):
        load_registry(config(tmp_path, DEFAULT.replace(*change)))


def test_a_missing_config_file_is_refused_with_a_reason(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_registry(tmp_path / "absent.toml")


def test_the_four_hour_standard_in_force_follows_the_london_date() -> None:
    from datetime import date

    targets = load_registry().targets
    assert targets.four_hour_min(date(2025, 3, 31)) == 0.76
    assert targets.four_hour_min(date(2025, 4, 1)) == 0.78
    assert targets.four_hour_min(date(2023, 3, 31)) is None
