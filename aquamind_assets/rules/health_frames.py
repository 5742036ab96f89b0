"""The health rules over its largest tables, as frame rules: lice counts against the stored
assignments, fish scores against their fish and parameters (the fish of the same load, gathered
as the frames pass); same names and invariants as health.py."""
from __future__ import annotations

import numpy as np

from ..warehouse.frame_checks import FrameCheck, FrameTotal
from .frame_dims import ASSIGNMENTS, Assignments, ById, fetch, in_window_rule, owning_year_rule, take

L, F, P = "health.lice_count", "health.individual_fish_observation", "health.fish_parameter_score"
ADULT_STAGE = 6  # batch.lifecycle_stage id of sea grow-out
PARAMETERS = """SELECT string_agg(int4send(id) || int4send(min_score) || int4send(max_score), ''::bytea)
                FROM health.health_parameter"""


class Health:
    statements = (ASSIGNMENTS, PARAMETERS)

    def __init__(self, cur, params: dict):
        self.year = int(params["year"])
        self.assignments = Assignments.read(cur)
        ids, lo, hi = fetch(cur, PARAMETERS, (">i4", ">i4", ">i4"))
        self.parameters, self.p_min, self.p_max = ById(ids), lo, hi
        self.fish: list[np.ndarray] = []
        self.scores: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, table: str, cols) -> None:
        if table == F:
            self.fish.append(cols["id"].astype(np.int64))
        elif table == P:
            self.scores.append((cols["observation_id"].astype(np.int64), cols["parameter_id"], cols["score"]))


def _scores_verdict(ctx: Health):
    if not ctx.scores:
        return 0, 0, []
    obs, par, score = (np.concatenate(c) for c in zip(*ctx.scores))
    fish = np.unique(np.concatenate(ctx.fish)) if ctx.fish else np.zeros(0, np.int64)
    p = ctx.parameters.at(par)
    score = score.astype(np.int64)
    bad = ((p < 0) | ~np.isin(obs, fish) | (score < take(ctx.p_min, p, 0)) | (score > take(ctx.p_max, p, -1))
           | (score < 0) | (score > 3))
    rows = np.flatnonzero(bad)[:5]
    return len(bad), int(bad.sum()), [{"observation_id": str(obs[r]), "parameter_id": str(par[r]),
                                       "score": str(score[r])} for r in rows]


def _stored(cols, ctx: Health) -> np.ndarray:
    return ctx.assignments.index.at(cols["assignment_id"]) >= 0


def _not_at_sea(cols, ctx: Health) -> np.ndarray:
    a = ctx.assignments.index.at(cols["assignment_id"])
    return ((take(ctx.assignments.stage, a, -1) != ADULT_STAGE) | (take(ctx.assignments.batch, a, -1) != cols["batch_id"])
            | (cols["fish_sampled"] <= 0))


FRAME_RULES = [
    owning_year_rule(L, "count_date", Health),
    in_window_rule(L, "count_date", "lice count", Health),
    FrameCheck("lice_count_at_sea", "lice are counted only in sea pens, on the pen's own batch (every row with "
               "a stored assignment, as written)", L, _not_at_sea, lookup=Health, examined=_stored),
    FrameTotal("fish_scores_in_range", "every score is within its health parameter's 0-3 range and belongs to a "
               "fish of the load (gathered over the frames)", Health, _scores_verdict),
]
