"""The monthly health checks of sea pens and post-smolt tanks: 10-30 fish weighed, measured and
scored 0 (healthy) to 3 (severe) on each health parameter, worse on those an outbreak damages."""
from __future__ import annotations

import numpy as np

from ..sim import biology as bio
from ..sim.calendar import epoch_days
from ..sim.rng import stream
from .sampling import fulton_k, outbreak_at, schedule

N_PARAMS = 9  # reference.HEALTH_PARAMETERS, scored 0 (healthy) to 3 (severe)
# health parameters (1-based) an outbreak damages most
AFFECTS = {"AGD": (1, 8), "PD": (5, 6, 7), "HSMI": (6, 7), "CMS": (5, 6), "WINTER_ULCER": (3, 4),
           "ISA": (1, 5, 9), "IPN": (6, 7)}
BASE_P = np.array([0.66, 0.27, 0.06, 0.01])  # score 0..3 of a healthy fish
SICK_P = np.array([0.22, 0.38, 0.28, 0.12])  # a parameter the outbreak damages
ILL_P = np.array([0.48, 0.36, 0.13, 0.03])  # any other parameter during an outbreak
CUM_P = np.cumsum(np.stack([BASE_P, ILL_P, SICK_P]), axis=1)[:, :3].T.copy()  # [threshold, kind]


def render_sampling(plan, year: int):
    """Monthly checks of sea pens and post-smolt tanks: 10-30 fish weighed, measured and scored 0-3."""
    a, d = plan.assignment, plan.daily
    ai, day, row = schedule(plan, year, (bio.POST_SMOLT, bio.ADULT), 30, salt=19, jitter=2, lead=5)
    rng = stream(int(plan.stats["seed"]), "health-sampling", year)
    n_ev = len(row)
    n = np.minimum(rng.integers(10, 31, n_ev), d["pop"][row]).astype(np.int64)
    ev = np.repeat(np.arange(n_ev), n)
    fish_no = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n) + 1
    mean_w = d["weight"][row] * rng.normal(1.0, 0.02, n_ev)
    w = np.round(mean_w[ev] * rng.lognormal(-0.01, 0.14, len(ev)), 1).astype(np.float32)
    k_ev = np.interp(np.log10(mean_w), [2, 3, 4], [1.12, 1.2, 1.22]) + rng.normal(0, 0.04, n_ev)
    k = np.clip(k_ev[ev] + rng.normal(0, 0.05, len(ev)), 1.03, 1.37)
    length = np.round(bio.length_cm(w, k), 1).astype(np.float32)
    disease = outbreak_at(plan, a["batch"][ai], day)
    kind = np.zeros((len(ev), N_PARAMS), np.int8)  # a column of CUM_P per fish and parameter
    for code, params in AFFECTS.items():
        sick = disease[ev] == code
        kind[sick] = 1
        kind[np.ix_(sick, np.array(params) - 1)] = 2
    u = rng.random((len(ev), N_PARAMS))
    score = sum((u > np.take(cut, kind)).view(np.int8) for cut in CUM_P)  # thresholds passed = the score
    ev_id = (row + 1).astype(np.int32)
    obs_id = ev_id[ev].astype(np.int64) * 32 + fish_no
    per = lambda x: np.bincount(ev, weights=x, minlength=n_ev) / np.maximum(n, 1)  # noqa: E731
    events = {"year": np.full(n_ev, year, np.int16), "id": ev_id, "assignment_id": (ai + 1).astype(np.int32),
              "sampling_date": epoch_days(day), "fish_sampled": n.astype(np.int32),
              "avg_weight_g": per(w.astype(np.float64)).astype(np.float32),
              "avg_length_cm": per(length.astype(np.float64)).astype(np.float32),
              "avg_k_factor": per(fulton_k(w, length)).astype(np.float32)}
    obs = {"year": np.full(len(ev), year, np.int16), "id": obs_id, "sampling_event_id": ev_id[ev],
           "fish_number": fish_no.astype(np.int16), "weight_g": w, "length_cm": length}
    scores = {"year": np.full(score.size, year, np.int16), "observation_id": np.repeat(obs_id, N_PARAMS),
              "parameter_id": np.tile(np.arange(1, N_PARAMS + 1, dtype=np.int32), len(ev)),
              "score": score.reshape(-1).astype(np.int16)}
    return events, obs, scores, (ai, day, per(score.mean(axis=1).astype(np.float64)), disease)
