"""Fish weighed and measured, rendered from the plan: growth samples (weekly in freshwater tanks,
fortnightly in sea pens) and the individual fish of the monthly health checks, one model of K.

Sampling days follow a fixed schedule per assignment (a hash of its id, not a random stream) so
a day is the same whichever year is rendered; the measured values come from the year's own
stream. Ids are the plan's daily row index (one row per assignment-day), never a counter.
"""
from __future__ import annotations

import numpy as np

from . import biology as bio
from .calendar import N_DAYS, year_days
from .render_batches import _date
from .rng import stream

FW_PERIOD, SEA_PERIOD = 7, 14
K_RANGE = (1.0, 1.4)  # Fulton's K of farmed salmon (REFERENCE 4)
N_PARAMS = 9  # reference.HEALTH_PARAMETERS, scored 0 (healthy) to 3 (severe)
# health parameters (1-based) an outbreak damages most
AFFECTS = {"AGD": (1, 8), "PD": (5, 6, 7), "HSMI": (6, 7), "CMS": (5, 6), "WINTER_ULCER": (3, 4),
           "ISA": (1, 5, 9), "IPN": (6, 7)}
BASE_P = np.array([0.66, 0.27, 0.06, 0.01])  # score 0..3 of a healthy fish
SICK_P = np.array([0.22, 0.38, 0.28, 0.12])  # a parameter the outbreak damages
ILL_P = np.array([0.48, 0.36, 0.13, 0.03])  # any other parameter during an outbreak


def mix(*keys) -> np.ndarray:
    """A deterministic hash of integer keys to [0, 1): placement that must not depend on a stream."""
    h = np.uint64(0x9E3779B97F4A7C15)
    with np.errstate(over="ignore"):
        for k in keys:
            h = (h ^ np.asarray(k, dtype=np.int64).astype(np.uint64)) * np.uint64(0xBF58476D1CE4E5B9)
            h = (h ^ (h >> np.uint64(31))) * np.uint64(0x94D049BB133111EB)
            h = h ^ (h >> np.uint64(29))
    return (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def schedule(plan, year: int, stages, period: int, salt: int, jitter: int = 1, lead: int = 1):
    """Periodic days per assignment of `stages` inside its window and the year.

    Returns (assignment index 0-based, simulation day, plan.daily row index), sorted by row index.
    The k-th day of an assignment is start + lead + phase + k * period +- jitter.
    """
    a = plan.assignment
    first, stop = year_days(year)
    end = np.where(a["end"] < 0, N_DAYS, a["end"]).astype(np.int64)
    start = a["start"].astype(np.int64)
    idx = np.flatnonzero(np.isin(a["stage"], stages) & (start < stop) & (end > first))
    if len(idx) == 0:
        z = np.zeros(0, np.int64)
        return z, z, z
    phase = (mix(salt, idx + 1) * period).astype(np.int64)
    base = start[idx] + lead + phase
    k0 = np.maximum((first - base - jitter) // period, 0)
    k1 = np.maximum((np.minimum(end[idx], stop) - base + jitter) // period + 1, k0)
    n = k1 - k0
    ai = np.repeat(idx, n)
    k = np.repeat(k0, n) + np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    wobble = np.floor(mix(salt + 1, ai + 1, k) * (2 * jitter + 1)).astype(np.int64) - jitter
    day = start[ai] + lead + phase[np.searchsorted(idx, ai)] + k * period + wobble
    keep = (day >= np.maximum(start[ai], first)) & (day < np.minimum(end[ai], stop))
    ai, day = ai[keep], day[keep]
    row = a["offset"][ai] + day - start[ai]
    order = np.argsort(row, kind="stable")
    return ai[order], day[order], row[order].astype(np.int64)


def fulton_k(weight_g: np.ndarray, length_cm: np.ndarray) -> np.ndarray:
    return 100.0 * np.asarray(weight_g, np.float64) / np.asarray(length_cm, np.float64) ** 3


def render_growth(plan, year: int) -> dict[str, dict[str, np.ndarray]]:
    """batch.growth_sample for one year: mean within a few % of the plan's weight, K 1.0-1.4."""

    a, d = plan.assignment, plan.daily
    seed = int(plan.stats["seed"])
    fw = schedule(plan, year, (bio.FRY, bio.PARR, bio.SMOLT, bio.POST_SMOLT), FW_PERIOD, salt=11)
    sea = schedule(plan, year, (bio.ADULT,), SEA_PERIOD, salt=13)
    ai, day, row = (np.concatenate([x, y]) for x, y in zip(fw, sea))
    order = np.argsort(row, kind="stable")
    ai, day, row = ai[order], day[order], row[order]
    sea = a["stage"][ai] == bio.ADULT
    n = len(row)
    rng = stream(seed, "growth-sample", year)
    size = np.where(sea, rng.integers(30, 51, n), rng.integers(20, 31, n))
    size = np.minimum(size, d["pop"][row]).astype(np.int32)
    avg_w = (d["weight"][row] * rng.normal(1.0, 0.025, n).clip(0.93, 1.07)).astype(np.float32)
    cv = rng.uniform(0.10, 0.20, n)
    # K rises a little with size (lean fry, well-conditioned grow-out fish)
    k_mean = np.interp(np.log10(np.maximum(avg_w, 0.1)), [-1, 1, 3, 4], [1.05, 1.10, 1.20, 1.22])
    k = np.clip(k_mean + rng.normal(0, 0.05, n), K_RANGE[0] + 0.02, K_RANGE[1] - 0.02)
    avg_l = bio.length_cm(avg_w, k).astype(np.float32)
    keep = size > 0
    return {"batch.growth_sample": {
        "year": np.full(keep.sum(), year, np.int16), "id": (row[keep] + 1).astype(np.int32),
        "assignment_id": (ai[keep] + 1).astype(np.int32), "sample_date": _date(day[keep]),
        "sample_size": size[keep], "avg_weight_g": avg_w[keep],
        "std_weight_g": (avg_w * cv).astype(np.float32)[keep], "avg_length_cm": avg_l[keep],
        "std_length_cm": (avg_l * cv / 3 * rng.uniform(0.9, 1.1, n)).astype(np.float32)[keep],
        "condition_factor": fulton_k(avg_w, avg_l).astype(np.float32)[keep]}}


def outbreak_at(plan, batch: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Disease code active for each (batch, day), '' when healthy."""
    ob, out = plan.outbreak, np.full(len(batch), "", dtype=object)
    for b, code, s, e in zip(ob["batch"], ob["disease"], ob["start"], ob["end"]):
        out[(batch == b) & (day >= s) & (day < e)] = str(code)
    return out


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
    probs = np.broadcast_to(BASE_P, (len(ev), N_PARAMS, 4)).copy()
    for code, params in AFFECTS.items():
        sick = disease[ev] == code
        probs[sick] = ILL_P
        probs[np.ix_(sick, np.array(params) - 1)] = SICK_P
    score = (rng.random((len(ev), N_PARAMS, 1)) > np.cumsum(probs, axis=2)[:, :, :3]).sum(axis=2)
    ev_id = (row + 1).astype(np.int32)
    obs_id = ev_id[ev].astype(np.int64) * 32 + fish_no
    per = lambda x: np.bincount(ev, weights=x, minlength=n_ev) / np.maximum(n, 1)  # noqa: E731
    events = {"year": np.full(n_ev, year, np.int16), "id": ev_id, "assignment_id": (ai + 1).astype(np.int32),
              "sampling_date": _date(day), "fish_sampled": n.astype(np.int32),
              "avg_weight_g": per(w.astype(np.float64)).astype(np.float32),
              "avg_length_cm": per(length.astype(np.float64)).astype(np.float32),
              "avg_k_factor": per(fulton_k(w, length)).astype(np.float32)}
    obs = {"year": np.full(len(ev), year, np.int16), "id": obs_id, "sampling_event_id": ev_id[ev],
           "fish_number": fish_no.astype(np.int16), "weight_g": w, "length_cm": length}
    scores = {"year": np.full(score.size, year, np.int16), "observation_id": np.repeat(obs_id, N_PARAMS),
              "parameter_id": np.tile(np.arange(1, N_PARAMS + 1, dtype=np.int32), len(ev)),
              "score": score.reshape(-1).astype(np.int16)}
    return events, obs, scores, (ai, day, per(score.mean(axis=1).astype(np.float64)), disease)
