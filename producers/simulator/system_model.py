"""The NEL system simulated: every site's model side by side, their events in one ordered stream.

Sites do not share patients or ambulances in the model (no diversion between sites), so each
runs on its own random streams: a scenario at one site leaves every other site's events exactly
as they would have been.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from datetime import datetime

from events.contract import Event
from producers.simulator.calibration import site_calibration
from producers.simulator.ed_model import SiteModel
from producers.simulator.scenarios import Scenario, validate


def simulate(
    sites: Iterable[str],
    scenario: Scenario,
    *,
    seed: int,
    start: datetime,
    end: datetime,
) -> Iterator[Event]:
    """Events of the given sites from `start` (and, first, the arrivals still open at `start`,
    with their earlier times) until before `end`, in occurred_at order. The same arguments
    always give the same events."""
    codes = list(dict.fromkeys(sites))
    validate(scenario, codes)
    send_from, until = start.timestamp(), end.timestamp()
    if until <= send_from:
        raise ValueError("the simulated period must end after it starts")
    models = [
        SiteModel(
            site_calibration(code),
            scenario.for_site(code),
            seed=seed,
            send_from=send_from,
            end=until,
        )
        for code in codes
    ]
    # Ties go to the site listed first, so the order of lines is reproducible too.
    return heapq.merge(*(model.events() for model in models), key=lambda e: e.occurred_at)
