"""OPEL levels as declared: the one in force at T, per site, and a trust's level in force."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from streams.core.flow import FlowState, Outcome
from streams.core.metrics import opel_in_force
from tests.events_builder import REGISTRY, at, opel, state_of, ward

T0 = at("2025-01-15T08:00:00Z")
US = timedelta(microseconds=1)
BARTS = ("R1H12", "R1HKH", "R1HNH")


def trust_level(state: FlowState, as_of: datetime, trust: str = "R1H") -> int | float | None:
    return opel_in_force(state.snapshot(as_of).trust(trust))


def test_nothing_declared_is_no_level_not_level_one() -> None:
    snap = state_of([]).snapshot(T0)
    assert snap.site("R1H12")["opel_site_level"] is None
    assert opel_in_force(snap.trust("R1H")) is None
    assert snap.system()["opel_site_level"] is None


def test_a_declaration_is_in_force_from_its_instant_until_the_next() -> None:
    state = state_of([opel(2, T0), opel(3, T0 + timedelta(hours=5))])
    levels = [
        state.snapshot(moment).site("R1H12")["opel_site_level"]
        for moment in (T0 - US, T0, T0 + timedelta(hours=5) - US, T0 + timedelta(hours=5))
    ]
    assert levels == [None, 2, 2, 3]


def test_a_lower_level_declared_later_replaces_a_higher_one() -> None:
    state = state_of([opel(4, T0), opel(1, T0 + timedelta(minutes=1))])
    assert state.snapshot(T0 + timedelta(days=3)).site("R1H12")["opel_site_level"] == 1


def test_an_older_declaration_delivered_late_does_not_replace_the_newer() -> None:
    state = state_of([opel(1, T0 + timedelta(hours=1)), opel(4, T0)])
    assert state.snapshot(T0 + timedelta(hours=2)).site("R1H12")["opel_site_level"] == 1


def test_two_declarations_at_one_instant_give_the_higher_level_in_either_order() -> None:
    for levels in ((2, 3), (3, 2)):
        state = state_of([opel(level, T0) for level in levels])
        assert state.snapshot(T0).site("R1H12")["opel_site_level"] == 3


def test_a_duplicate_declaration_is_ignored() -> None:
    state = FlowState(REGISTRY, horizon=None)
    first = opel(3, T0, event_id="opel-1")
    assert state.apply(first) is Outcome.APPLIED
    assert state.apply(first) is Outcome.DUPLICATE
    assert state.snapshot(T0).site("R1H12")["opel_site_level"] == 3


def test_a_trusts_level_is_the_highest_of_its_sites() -> None:
    state = state_of([opel(2, T0, "R1H12"), opel(3, T0, "R1HKH"), opel(4, T0, "RF4QH")])
    assert trust_level(state, T0) == 3
    assert trust_level(state, T0, "RF4") == 4
    assert trust_level(state, T0, "RQX") is None


def test_a_trusts_own_declaration_holds_instead_of_its_sites_even_when_lower() -> None:
    events = [
        opel(4, T0, "R1H12"),
        opel(2, T0 + timedelta(hours=1), "R1HNH", scope="trust"),
    ]
    state = state_of(events)
    assert trust_level(state, T0) == 4
    assert trust_level(state, T0 + timedelta(hours=1)) == 2
    # The site's own level is still what it declared; a trust declaration is no site's level.
    snap = state.snapshot(T0 + timedelta(hours=1))
    assert snap.site("R1H12")["opel_site_level"] == 4
    assert snap.site("R1HNH")["opel_site_level"] is None
    assert snap.site("R1HNH")["opel_trust_level"] == 2


def test_a_trust_declaring_from_two_hospitals_is_at_the_higher_level_in_force() -> None:
    state = state_of(
        [opel(3, T0, "R1H12", scope="trust"), opel(2, T0 + timedelta(hours=1), "R1HKH", "trust")]
    )
    assert trust_level(state, T0 + timedelta(hours=1)) == 3
    state.apply(opel(1, T0 + timedelta(hours=2), "R1H12", scope="trust"))
    assert trust_level(state, T0 + timedelta(hours=2)) == 2


def test_the_system_and_a_place_show_the_highest_site_level() -> None:
    state = state_of([opel(2, T0, "R1H12"), opel(3, T0, "RQXM1")])
    snap = state.snapshot(T0)
    assert snap.system()["opel_site_level"] == 3
    assert snap.place("Tower Hamlets")["opel_site_level"] == 2


def test_a_declaration_moves_no_bed_figure() -> None:
    events = [ward("W1", T0, beds_open_core=20, beds_occupied=18, nctr=3)]
    before = state_of(events).snapshot(T0).site("R1H12")
    after = state_of([*events, opel(4, T0)]).snapshot(T0).site("R1H12")
    assert {k: v for k, v in after.items() if not k.startswith("opel")} == {
        k: v for k, v in before.items() if not k.startswith("opel")
    }


def test_an_old_declaration_stays_in_force_past_the_lateness_horizon() -> None:
    horizon = timedelta(hours=48)
    state = FlowState(REGISTRY, horizon=horizon)
    state.apply(opel(3, T0))
    state.apply(ward("W1", T0 + timedelta(days=5), beds_open_core=1, beds_occupied=1))
    assert state.snapshot(T0 + timedelta(days=5)).site("R1H12")["opel_site_level"] == 3


@given(
    st.lists(
        st.tuples(
            st.integers(1, 4),
            st.integers(0, 20),
            st.sampled_from(BARTS),
            st.sampled_from(["site", "trust"]),
        ),
        max_size=12,
    ),
    st.randoms(use_true_random=False),
    st.integers(0, 21),
)
def test_levels_do_not_depend_on_the_order_of_delivery(
    declared: list[tuple[int, int, str, str]], rng: random.Random, hour: int
) -> None:
    events = [
        opel(level, T0 + timedelta(hours=h), site, scope, event_id=f"o-{i}")
        for i, (level, h, site, scope) in enumerate(declared)
    ]
    shuffled = list(events)
    rng.shuffle(shuffled)
    as_of = T0 + timedelta(hours=hour)
    one, other = state_of(events), state_of(shuffled)
    assert trust_level(one, as_of) == trust_level(other, as_of) == _oracle(declared, hour)
    for site in BARTS:
        assert one.snapshot(as_of).site(site) == other.snapshot(as_of).site(site)


def _oracle(declared: list[tuple[int, int, str, str]], hour: int) -> int | None:
    """The issue's words: the trust's own declaration in force if any (the highest of those in
    force at its hospitals), else the highest its sites declared."""
    in_force: dict[tuple[str, str], tuple[int, int]] = {}
    for level, h, site, scope in declared:
        if h <= hour:
            in_force[site, scope] = max(in_force.get((site, scope), (h, level)), (h, level))
    trust = [level for (_, scope), (_, level) in in_force.items() if scope == "trust"]
    sites = [level for (_, scope), (_, level) in in_force.items() if scope == "site"]
    return max(trust) if trust else max(sites) if sites else None
