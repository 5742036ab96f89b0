"""The mortality rules as frame rules: every event as written, against the stored assignments and
the year's daily state (see daily_state_frames.py); same names and invariants as mortality.py."""
from __future__ import annotations

import numpy as np

from ..warehouse.frame_checks import FrameCheck, FrameTotal
from .daily_state_frames import YearOfState
from .frame_dims import in_window_rule, owning_year_rule

M = "batch.mortality_event"


class Mortality(YearOfState):
    """A mortality load's dimensions and the deaths its events add up to per assignment-day."""

    def __init__(self, cur, params: dict):
        super().__init__(cur, params)
        self.deaths = np.zeros(self.index.n, np.float64)

    def add(self, table: str, cols) -> None:
        if table == M:
            pos = self.index.at(cols["assignment_id"], cols["event_date"])
            found = pos >= 0
            self.deaths += np.bincount(pos[found], weights=cols["count"][found], minlength=self.index.n)


def _deaths_verdict(ctx: Mortality):
    events = np.rint(ctx.deaths).astype(np.int64)
    bad = np.flatnonzero(events != ctx.state["deaths"])
    sample = [{"assignment_id": str(ctx.state["assignment_id"][i]), "state_date": str(ctx.state["state_date"][i]),
               "deaths": str(ctx.state["deaths"][i]), "events": str(events[i])} for i in bad[:5]]
    return ctx.index.n, len(bad), sample


FRAME_RULES = [
    owning_year_rule(M, "event_date", Mortality),
    in_window_rule(M, "event_date", "mortality event", Mortality),
    FrameCheck("mortality_positive", "a mortality event records a positive whole number of fish (every row, "
               "as written)", M, lambda c, _: (c["count"] <= 0) | (c["biomass_kg"] < 0), lookup=Mortality),
    FrameTotal("deaths_sum_to_daily_state", "death events sum exactly to each assignment-day's deaths in the "
               "daily state (summed over the frames as written)", Mortality, _deaths_verdict),
]
