"""A trust's adapter settings: refused whole, naming the rule, before anything listens."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from producers.epr.pseudonym import key_in_force
from producers.epr.settings import AdapterSettingsError, load_adapter_settings
from tests.producers.epr.conftest import KEY, NEW_KEY, write_settings
from uecflow.config import load_registry

REGISTRY = load_registry(None)
EXAMPLE = Path(__file__).parents[3] / "producers" / "epr" / "example-trust.toml"


def test_the_key_in_force_is_the_newest_that_started_by_then(tmp_path: Path) -> None:
    settings = load_adapter_settings(write_settings(tmp_path), REGISTRY)
    assert key_in_force(settings, datetime(2029, 12, 31, 23, 59, tzinfo=UTC)) == KEY
    assert key_in_force(settings, datetime(2030, 1, 1, tzinfo=UTC)) == NEW_KEY


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('"HOMERTON" = "RQXM1"', '"HOMERTON" = "R1H12"'),
            "locations.HOMERTON: 'R1H12' is not a site of trust RQX",
        ),
        (('trust = "RQX"', 'trust = "XYZ"'), "trust 'XYZ' is not in the registry"),
        (('file = "rqx.key"', 'file = "short.key"'), "shorter than 32 bytes"),
        (('file = "rqx.key"', 'file = "absent.key"'), "cannot read the key"),
        (
            ('trust = "RQX"', 'trust = "RQX"\ntimezone = "Mars/Olympus"'),
            "timezone 'Mars/Olympus' is unknown",
        ),
        (
            ('trust = "RQX"', 'trust = "RQX"\nnhs_number_field = "PID-3"'),
            "nhs_number_field: Extra inputs are not permitted",
        ),
        (
            ('trust = "RQX"', 'trust = "RQX"\n[dispositions]\n"01" = "home"'),
            "dispositions.01: Input should be",
        ),
    ],
)
def test_a_file_that_breaks_a_rule_is_refused_naming_it(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    path = write_settings(tmp_path)
    (tmp_path / "short.key").write_bytes(b"k" * 31)
    path.write_text(path.read_text().replace(*change, 1))
    with pytest.raises(AdapterSettingsError, match=message):
        load_adapter_settings(path, REGISTRY)


def test_the_shipped_example_is_valid_but_for_its_key_file(tmp_path: Path) -> None:
    (tmp_path / "rqx-2026.key").write_bytes(KEY)
    text = EXAMPLE.read_text().replace("/run/secrets/rqx-2026.key", str(tmp_path / "rqx-2026.key"))
    (tmp_path / "example.toml").write_text(text)
    settings = load_adapter_settings(tmp_path / "example.toml", REGISTRY)
    assert settings.site_of("HOMERTON") == "RQXM1"
