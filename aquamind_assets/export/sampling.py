"""When fish are weighed and measured, and the one model of their condition factor K.

Sampling days follow a fixed schedule per assignment (a hash of its id, not a random stream) so a day
is the same whichever year is rendered; the measured values come from the year's own stream. Ids are
the plan's daily row index (one row per assignment-day), never a counter.
"""
from __future__ import annotations

import numpy as np

from ..sim.calendar import N_DAYS, year_days


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


def outbreak_at(plan, batch: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Disease code active for each (batch, day), '' when healthy."""
    ob, out = plan.outbreak, np.full(len(batch), "", dtype=object)
    for b, code, s, e in zip(ob["batch"], ob["disease"], ob["start"], ob["end"]):
        out[(batch == b) & (day >= s) & (day < e)] = str(code)
    return out


def active_assignment(plan, batch: int, day: int) -> int:
    """Lowest assignment id of a batch holding fish on `day` (0 when none): the unit a vet samples."""
    a = plan.assignment
    own = np.flatnonzero(a["batch"] == batch)  # the batch's few dozen, then only those are compared
    end = np.where(a["end"][own] < 0, N_DAYS, a["end"][own])
    ids = own[(a["start"][own] <= day) & (end > day)]
    return int(ids[0]) + 1 if len(ids) else 0
