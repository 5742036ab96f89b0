"""The growth-sample rules that join samples to the assignments and the daily state, as frame rules:
every sample as written (see daily_state_frames.py); same names and invariants as growth.py."""
from __future__ import annotations

import numpy as np

from ..warehouse.frame_checks import FrameCheck
from .daily_state_frames import YearOfState
from .frame_dims import in_window_rule, owning_year_rule, take

G = "batch.growth_sample"
EGG_STAGE = 1  # batch.lifecycle_stage id of eggs on trays


class Growth(YearOfState):
    """A growth-sample load's dimensions: the samples are judged row by row."""

    def state_of(self, cols) -> np.ndarray:
        return self.index.at(cols["assignment_id"], cols["sample_date"])


def _stored(cols, ctx: Growth) -> np.ndarray:
    return ctx.assignments.index.at(cols["assignment_id"]) >= 0


def _on_trays(cols, ctx: Growth) -> np.ndarray:
    stage = take(ctx.assignments.stage, ctx.assignments.index.at(cols["assignment_id"]), -1)
    population = take(ctx.state["population"], ctx.state_of(cols), -1)
    size = cols["sample_size"]
    return (stage == EGG_STAGE) | (size <= 0) | (population < 0) | (size > population)


def _off_state(cols, ctx: Growth) -> np.ndarray:
    """float4 arithmetic, as the SQL form's (real - real, numeric constant x real)."""
    plan_w = take(ctx.state["avg_weight_g"], ctx.state_of(cols), np.nan).astype(np.float32)
    w, sd = cols["avg_weight_g"].astype(np.float32), cols["std_weight_g"].astype(np.float32)
    with np.errstate(invalid="ignore"):
        return (np.isnan(plan_w) | (np.abs(w - plan_w) > np.float32(0.1) * plan_w)
                | (sd < np.float32(0.05) * w) | (sd > np.float32(0.25) * w))


FRAME_RULES = [
    owning_year_rule(G, "sample_date", Growth),
    in_window_rule(G, "sample_date", "growth sample", Growth),
    FrameCheck("growth_sample_not_on_trays", "fish are sampled in tanks and pens, never as eggs on trays, and "
               "a sample never holds more fish than the unit (every row with a stored assignment, as written)",
               G, _on_trays, lookup=Growth, examined=_stored),
    FrameCheck("growth_sample_matches_daily_state", "a sample's mean weight lies within 10 % of the unit's mean "
               "weight that day, with a spread of 5-25 % (every row, as written)", G, _off_state, lookup=Growth),
]
