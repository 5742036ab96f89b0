"""The health rules over its largest tables, as frame rules: lice counts against the stored
assignments, fish scores against their fish and parameters (the fish of the same load, gathered
as the frames pass); same names and invariants as health.py."""
from __future__ import annotations

import numpy as np

from ..warehouse.frame_checks import FrameCheck, FrameTotal
from .frame_dims import ASSIGNMENTS, Assignments, ById, fetch, in_window_rule, owning_year_rule, take

L, F, P = "health.lice_count", "health.individual_fish_observation", "health.fish_parameter_score"
V, T, O = "health.vaccination", "health.treatment", "health.disease_outbreak"
J, E, X = "health.journal_entry", "health.health_sampling_event", "health.health_lab_sample"
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
        self.fish_of: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # sampling event, weight, length
        self.checks: list[tuple[np.ndarray, ...]] = []  # health sampling events
        self.scores: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, table: str, cols) -> None:
        if table == F:
            self.fish.append(cols["id"].astype(np.int64))
            self.fish_of.append((cols["sampling_event_id"].astype(np.int64), cols["weight_g"].astype(np.float64),
                                 cols["length_cm"].astype(np.float64)))
        elif table == E:
            self.checks.append(tuple(np.asarray(cols[c]) for c in SAMPLED))
        elif table == P:
            self.scores.append((cols["observation_id"].astype(np.int64), cols["parameter_id"], cols["score"]))


def _scores_verdict(ctx: Health):
    if not ctx.scores:
        return 0, 0, []
    obs, par, score = (np.concatenate(c) for c in zip(*ctx.scores))
    fish = ById(np.concatenate(ctx.fish) if ctx.fish else np.zeros(0, np.int64))
    p = ctx.parameters.at(par)
    score = score.astype(np.int64)
    bad = ((p < 0) | (fish.at(obs) < 0) | (score < take(ctx.p_min, p, 0)) | (score > take(ctx.p_max, p, -1))
           | (score < 0) | (score > 3))
    rows = np.flatnonzero(bad)[:5]
    return len(bad), int(bad.sum()), [{"observation_id": str(obs[r]), "parameter_id": str(par[r]),
                                       "score": str(score[r])} for r in rows]


SAMPLED = ("id", "assignment_id", "fish_sampled", "avg_weight_g", "avg_length_cm", "avg_k_factor")


def _health_check_verdict(ctx: Health):
    """Each health check of a stored assignment against the count and averages of its fish (float8)."""
    if not ctx.checks:
        return 0, 0, []
    ids, ass, sampled, w, l, k = (np.concatenate(c) for c in zip(*ctx.checks))
    stage = take(ctx.assignments.stage, ctx.assignments.index.at(ass), -1)
    event, weight, length = ((np.concatenate(c) for c in zip(*ctx.fish_of)) if ctx.fish_of
                             else (np.zeros(0, np.int64), np.zeros(0), np.zeros(0)))
    pos = ById(ids).at(event)
    mine = pos >= 0
    n = np.bincount(pos[mine], minlength=len(ids))

    def mean(v):
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.bincount(pos[mine], weights=v[mine], minlength=len(ids)) / n
    mw, ml, mk = mean(weight), mean(length), mean(100.0 * weight / length ** 3)

    def off(stored, computed):
        return np.abs(stored.astype(np.float64) - computed) > 0.001 * computed
    with np.errstate(invalid="ignore"):
        bad = ((n != sampled) | (sampled < 10) | (sampled > 30) | ~np.isin(stage, (5, ADULT_STAGE))
               | off(w, mw) | off(l, ml) | off(k, mk))
    bad &= stage >= 0  # the SQL form joins the stored assignment: checks of others are not examined
    rows = np.flatnonzero(bad)[:5]
    return int((stage >= 0).sum()), int(bad.sum()), [{"id": str(ids[r]), "fish_sampled": str(sampled[r]),
                                                      "fish": str(n[r])} for r in rows]


def _bad_k(cols, _) -> np.ndarray:
    w, length = cols["weight_g"].astype(np.float64), cols["length_cm"].astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        k = 100.0 * w / length ** 3
    return (length <= 0) | ~((k >= 1.0) & (k <= 1.4))


def _stored(cols, ctx: Health) -> np.ndarray:
    return ctx.assignments.index.at(cols["assignment_id"]) >= 0


def _not_at_sea(cols, ctx: Health) -> np.ndarray:
    a = ctx.assignments.index.at(cols["assignment_id"])
    return ((take(ctx.assignments.stage, a, -1) != ADULT_STAGE) | (take(ctx.assignments.batch, a, -1) != cols["batch_id"])
            | (cols["fish_sampled"] <= 0))


FRAME_RULES = [
    owning_year_rule(V, "vaccination_date", Health, min_examined=0),
    owning_year_rule(L, "count_date", Health),
    owning_year_rule(T, "treatment_date", Health, min_examined=0),
    owning_year_rule(O, "start_date", Health, min_examined=0),
    owning_year_rule(J, "entry_date", Health),
    owning_year_rule(E, "sampling_date", Health),
    owning_year_rule(X, "sample_date", Health),
    in_window_rule(V, "vaccination_date", "vaccination", Health),
    in_window_rule(T, "treatment_date", "treatment", Health),
    in_window_rule(E, "sampling_date", "health sampling event", Health),
    in_window_rule(X, "sample_date", "lab sample", Health),
    in_window_rule(J, "entry_date", "journal entry", Health),
    FrameTotal("health_check_from_fish", "a health check samples 10-30 fish of a post-smolt tank or sea pen and "
               "its count and averages are computed from its fish (gathered over the frames)", Health,
               _health_check_verdict),
    FrameCheck("fish_condition_factor", "every sampled fish has K = 100 W / L^3 within 1.0-1.4 (every row, as "
               "written)", F, _bad_k, lookup=Health),
    in_window_rule(L, "count_date", "lice count", Health),
    FrameCheck("lice_count_at_sea", "lice are counted only in sea pens, on the pen's own batch (every row with "
               "a stored assignment, as written)", L, _not_at_sea, lookup=Health, examined=_stored),
    FrameTotal("fish_scores_in_range", "every score is within its health parameter's 0-3 range and belongs to a "
               "fish of the load (gathered over the frames)", Health, _scores_verdict),
]
