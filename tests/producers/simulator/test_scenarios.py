"""What each scenario does, seen through the metric core: where, when, and nowhere else."""

from __future__ import annotations

from datetime import timedelta

import pytest

from events.contract import Event
from producers.simulator import scenarios
from producers.simulator.scenarios import Pressure, Scenario, Window
from streams.core.flow import FlowState
from streams.core.intake import STREAM_OF
from tests.producers.simulator.runs import (
    END_OF_DAY,
    SITES,
    SITREP,
    WINTER_THURSDAY,
    at,
    normal_winter_day,
    number,
    run,
    state_of,
)

INCIDENT_SITE, OTHER_SITE = "RF4QH", "RQXM1"
INCIDENT_AT = at(10)


def _of_site(events: list[Event] | tuple[Event, ...], site: str) -> list[str]:
    return [event.model_dump_json() for event in events if event.site == site]


def _before(events: list[Event], moment: float) -> list[str]:
    return [e.model_dump_json() for e in events if e.occurred_at.timestamp() < moment]


@pytest.fixture(scope="module")
def surge_day() -> list[Event]:
    return run(scenarios.winter_surge(WINTER_THURSDAY.timestamp()))


def test_a_winter_surge_fills_every_sites_beds_further(surge_day: list[Event]) -> None:
    normal = state_of(normal_winter_day()).snapshot(SITREP)
    surge = state_of(surge_day).snapshot(SITREP)
    for site in SITES:
        occupied = "ga_beds_occupied"
        assert number(surge.site(site), occupied) >= number(normal.site(site), occupied)
    assert number(surge.system(), "ga_occupancy") > number(normal.system(), "ga_occupancy")
    assert number(surge.system(), "ga_occupancy") >= 0.97


def test_a_winter_surge_lowers_four_hour_performance_and_lengthens_handovers(
    surge_day: list[Event],
) -> None:
    normal = state_of(normal_winter_day()).snapshot(END_OF_DAY).system()
    surge = state_of(surge_day).snapshot(END_OF_DAY).system()
    four_hours = "ae_type1_4h_performance_today"
    assert number(surge, four_hours) < number(normal, four_hours) - 0.03
    assert number(surge, "handovers_over_45_today") > number(normal, "handovers_over_45_today")
    assert number(surge, "ae_over_12h_today") > number(normal, "ae_over_12h_today")


@pytest.fixture(scope="module")
def incident() -> tuple[list[Event], list[Event]]:
    """(normal, major incident at Queen's at 10:00) for Queen's and Homerton, 36 hours."""
    sites = (INCIDENT_SITE, OTHER_SITE)
    incident = scenarios.major_incident(INCIDENT_SITE, INCIDENT_AT.timestamp())
    return run(sites=sites, hours=36), run(incident, sites=sites, hours=36)


def test_a_major_incident_changes_nothing_at_other_sites(
    incident: tuple[list[Event], list[Event]],
) -> None:
    normal, major = incident
    assert _of_site(major, OTHER_SITE) == _of_site(normal, OTHER_SITE)


def test_a_major_incident_changes_nothing_before_it_happens(
    incident: tuple[list[Event], list[Event]],
) -> None:
    normal, major = incident
    assert _before(major, INCIDENT_AT.timestamp()) == _before(normal, INCIDENT_AT.timestamp())


def test_a_major_incident_brings_its_casualties_within_two_hours(
    incident: tuple[list[Event], list[Event]],
) -> None:
    def arrivals(events: list[Event]) -> int:
        window = (INCIDENT_AT, INCIDENT_AT + timedelta(hours=2))
        return sum(
            1
            for e in events
            if e.event_type == "ae.arrival"
            and e.site == INCIDENT_SITE
            and window[0] <= e.occurred_at < window[1]
        )

    normal, major = incident
    # 50 casualties; those by ambulance start their clock up to 15 minutes after arriving.
    assert arrivals(major) - arrivals(normal) >= 45


def test_a_major_incident_holds_ambulances_and_brings_12_hour_waits_later(
    incident: tuple[list[Event], list[Event]],
) -> None:
    normal, major = (state_of(events) for events in incident)
    evening, over_45 = at(20), "handovers_over_45_today"
    assert number(major.snapshot(evening).site(INCIDENT_SITE), over_45) > number(
        normal.snapshot(evening).site(INCIDENT_SITE), over_45
    )

    def over_12h_next_day(state: FlowState) -> int:
        metric = "ae_over_12h_in_department"
        return sum(
            int(number(state.snapshot(at(hour)).site(INCIDENT_SITE), metric))
            for hour in range(22, 36)
        )

    assert over_12h_next_day(major) > over_12h_next_day(normal)


@pytest.mark.parametrize("stream", ["ae", "beds", "ambulance"])
def test_a_silent_feed_sends_nothing_of_its_stream_from_the_silence(
    stream: scenarios.StreamName,
) -> None:
    silent_at = at(2)
    silent = scenarios.silent_feed(OTHER_SITE, stream, silent_at.timestamp())
    events = run(silent, sites=(OTHER_SITE,), hours=6)
    normal = run(sites=(OTHER_SITE,), hours=6)

    def of_stream(event: Event) -> bool:
        return STREAM_OF[type(event)].value == stream

    assert not [e for e in events if of_stream(e) and e.occurred_at >= silent_at]
    # The site's other feeds, and everything before the silence, go on as before.
    assert [e for e in events if not of_stream(e)] == [e for e in normal if not of_stream(e)]
    assert [e for e in events if e.occurred_at < silent_at] == [
        e for e in normal if e.occurred_at < silent_at
    ]


def test_a_silent_feed_that_comes_back_sends_again_after_its_silence() -> None:
    silent = scenarios.silent_feed(OTHER_SITE, "ae", at(2).timestamp(), lasting=3600)
    events = run(silent, sites=(OTHER_SITE,), hours=6)
    ae_times = [e.occurred_at for e in events if e.event_type.startswith("ae.")]
    assert not [t for t in ae_times if at(2) <= t < at(3)]
    assert [t for t in ae_times if t >= at(3)]


def test_scenarios_compose_a_silence_on_top_of_a_surge_only_removes_events() -> None:
    surge = scenarios.winter_surge(WINTER_THURSDAY.timestamp())
    silence = scenarios.silent_feed(OTHER_SITE, "ae", at(2).timestamp())
    both = run(surge + silence, sites=(OTHER_SITE,), hours=6)
    surge_only = run(surge, sites=(OTHER_SITE,), hours=6)
    assert both == [
        e for e in surge_only if not (e.event_type.startswith("ae.") and e.occurred_at >= at(2))
    ]
    assert (surge + silence).names == ("winter-surge", "silent-feed")


def test_a_demand_beyond_what_the_model_can_draw_is_refused() -> None:
    flood = Scenario(pressures=(Pressure(sites=None, window=Window(), walk_ins=2.5),))
    with pytest.raises(ValueError, match="beyond"):
        run(flood, sites=(OTHER_SITE,), hours=1)


def test_pressures_at_one_site_leave_the_others_as_they_were() -> None:
    busier = Scenario(
        pressures=(Pressure(sites=frozenset({INCIDENT_SITE}), window=Window(), walk_ins=1.5),)
    )
    sites = (INCIDENT_SITE, OTHER_SITE)
    assert _of_site(run(busier, sites=sites, hours=6), OTHER_SITE) == _of_site(
        run(sites=sites, hours=6), OTHER_SITE
    )
