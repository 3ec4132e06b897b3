"""The credentials file: what it accepts, what it refuses, and revocation without a restart."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest

from producers.gateway.credentials import (
    CredentialsError,
    CredentialsFile,
    hash_token,
    new_token,
    parse_credentials,
)
from tests.producers.gateway.conftest import FakeClock
from uecflow.config import Registry

TOKEN = "t" * 43


def _entry(ident: str = "barts-1", trust: str = "R1H", token: str = TOKEN, **extra: str) -> str:
    lines = [
        "[[credentials]]",
        f'id = "{ident}"',
        f'trust = "{trust}"',
        f'token_sha256 = "{hash_token(token)}"',
    ]
    return "\n".join(lines + [f"{key} = {value}" for key, value in extra.items()]) + "\n"


def test_a_token_is_known_by_its_hash_alone(registry: Registry) -> None:
    credentials = parse_credentials(_entry() + _entry("homerton", "RQX", "h" * 43), registry)
    found = credentials.identify(TOKEN)
    assert found is not None
    assert (found.id, found.trust, found.revoked) == ("barts-1", "R1H", False)
    assert credentials.identify("h" * 43).trust == "RQX"  # type: ignore[union-attr]
    assert credentials.identify(TOKEN[:-1]) is None
    assert credentials.identify("") is None


def test_a_revoked_token_is_still_recognised_so_it_can_be_refused(registry: Registry) -> None:
    found = parse_credentials(_entry(revoked="true"), registry).identify(TOKEN)
    assert found is not None
    assert found.revoked


def test_uppercase_hex_is_fine(registry: Registry) -> None:
    text = _entry().replace(hash_token(TOKEN), hash_token(TOKEN).upper())
    assert parse_credentials(text, registry).identify(TOKEN) is not None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[credentials]\n", "Expected"),
        ("[trusts]\n", "unknown table 'trusts'"),
        ("credentials = 1\n", "array of tables"),
        (_entry(trust="RAL"), "trust must be one of R1H, RF4, RQX"),
        (_entry().replace('id = "barts-1"\n', ""), "id must be a non-empty string"),
        (_entry().replace(hash_token(TOKEN), "abc"), "64 hex digits"),
        (_entry(revoked='"no"'), "revoked must be true or false"),
        (_entry(revokd="true"), "unknown key 'revokd'"),
        (_entry() + _entry(token="u" * 43), "id 'barts-1' appears twice"),
        (_entry() + _entry("barts-2"), "token_sha256"),
        (_entry(expires='"2026-11-30"'), "expires must be a TOML date"),
        (_entry(trust="LAS"), "or list its sites"),
        (_entry(trust="LAS", sites='["RAL01"]'), "'RAL01' is not in the site registry"),
        (_entry(trust="LAS", sites="[]"), "sites must be a list of site codes"),
        (_entry(event_types="[]"), "event_types must be a list"),
    ],
)
def test_a_wrong_file_is_refused_with_where_and_why(
    registry: Registry, text: str, message: str
) -> None:
    with pytest.raises(CredentialsError, match=message):
        parse_credentials(text, registry)


def test_an_empty_file_lets_nobody_in(registry: Registry) -> None:
    assert parse_credentials("", registry).identify(TOKEN) is None


def test_new_tokens_are_long_different_and_recognisable() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100
    # A prefix that secret scanners (and people who find one pasted somewhere) recognise.
    assert all(re.fullmatch(r"uecflow_[A-Za-z0-9_-]{43}", token) for token in tokens)


def test_a_credential_posts_for_its_trusts_sites_unless_scoped_otherwise(
    registry: Registry,
) -> None:
    barts = parse_credentials(_entry(), registry).identify(TOKEN)
    assert barts is not None
    assert barts.sites == {"R1H12", "R1HKH", "R1HNH"}
    assert barts.may_post("ae.arrival")
    las_entry = _entry("las", "LAS", sites='["*"]', event_types='["ambulance.*"]')
    las = parse_credentials(las_entry, registry).identify(TOKEN)
    assert las is not None
    assert las.sites == set(registry.sites)
    assert las.may_post("ambulance.arrival")
    assert las.may_post("ambulance.handover")
    assert not las.may_post("ae.arrival")
    assert not las.may_post("beds.ward_state")


@pytest.mark.parametrize(
    ("now", "expired"),
    [
        # The London day of the expiry date: in summer 23:30 UTC on the day before is already it.
        ("2026-06-29T22:59:59+00:00", False),
        ("2026-06-29T23:00:00+00:00", True),
        ("2026-07-01T00:00:00+00:00", True),
    ],
)
def test_a_token_expires_at_the_start_of_its_london_expiry_day(
    registry: Registry, now: str, expired: bool
) -> None:
    entry = parse_credentials(_entry(expires="2026-06-30"), registry).identify(TOKEN)
    assert entry is not None
    assert entry.expired(datetime.fromisoformat(now)) is expired


def test_revoking_in_the_file_takes_effect_without_a_restart(
    registry: Registry, tmp_path: Path
) -> None:
    path = tmp_path / "credentials.toml"
    path.write_text(_entry())
    clock = FakeClock()
    source = CredentialsFile(path, registry, check_every=2.0, clock=clock)
    assert not source.current().identify(TOKEN).revoked  # type: ignore[union-attr]
    path.write_text(_entry(revoked="true"))
    clock.now += 2.0
    assert source.current().identify(TOKEN).revoked  # type: ignore[union-attr]


def test_a_broken_edit_leaves_the_previous_credentials_in_force(
    registry: Registry, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "credentials.toml"
    path.write_text(_entry())
    clock = FakeClock()
    source = CredentialsFile(path, registry, clock=clock)
    path.write_text(_entry() + "[[credentials\n")
    clock.now += 60
    assert source.current().identify(TOKEN) is not None
    (kept,) = [entry for entry in caplog.records if "not reloaded" in entry.message]
    assert kept.reason  # type: ignore[attr-defined]  # an `extra=` field: why, for the operator


OTHER, NEWER = "o" * 43, "n" * 43


def test_an_edit_with_a_mistake_still_revokes_what_it_revokes_and_lets_nobody_new_in(
    registry: Registry, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "credentials.toml"
    path.write_text(_entry() + _entry("barts-2", token=OTHER) + _entry("homerton", "RQX", NEWER))
    clock = FakeClock()
    source = CredentialsFile(path, registry, clock=clock)
    # barts-1 revoked, homerton dropped, a new token added, and a typo in the new one's trust.
    edit = _entry(revoked="true") + _entry("barts-2", token=OTHER)
    path.write_text(edit + _entry("new", "NOPE", "x" * 43))
    clock.now += 60
    credentials = source.current()
    assert credentials.identify(TOKEN).revoked  # type: ignore[union-attr]
    assert credentials.identify(NEWER).revoked  # type: ignore[union-attr]
    assert not credentials.identify(OTHER).revoked  # type: ignore[union-attr]
    assert credentials.identify("x" * 43) is None
    (refused,) = [entry for entry in caplog.records if "not reloaded" in entry.message]
    assert refused.revoked == ["barts-1", "homerton"]  # type: ignore[attr-defined]
    assert "NOPE" in refused.reason or "trust" in refused.reason  # type: ignore[attr-defined]


def test_a_missing_file_at_start_is_an_error(registry: Registry, tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match="cannot read"):
        CredentialsFile(tmp_path / "nowhere.toml", registry)
