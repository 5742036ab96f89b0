"""One freshwater stage of one batch: development or TGC growth on each unit's own water, and deaths.

Vectorised over the batch's units x the stage's days; the stage ends when the batch's mean weight
(or, for eggs, degree-days) reaches the threshold, so a cold hall makes a longer stage.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import biology as bio
from .calendar import DOY, N_DAYS

MAX_STAGE_DAYS = 320
CHRONIC_MONTHLY = 0.0005  # share of a unit's fish lost in a quiet month
EPISODE_WEEK_SHARE = 0.04  # unit-weeks with a mortality episode
MAX_UNIT_HAZARD = 1.2  # a unit keeps ~30 % of its fish through its worst stage (never emptied to a few)


@dataclass
class StageRun:
    start: int
    end: int  # exclusive; fish are in the next stage from this day
    weight: np.ndarray  # [units, days] mean weight at the start of each day
    pop: np.ndarray  # [units, days] population at the start of each day
    deaths_base: np.ndarray
    deaths_event: np.ndarray  # disease (IPN) or handling deaths on top of the base rate
    exit_weight: np.ndarray  # [units] weight on the first day after the stage
    exit_pop: np.ndarray  # [units] survivors after the last day


def episodes(rng, daily_rate: float, units: int, days: int) -> np.ndarray:
    """Multiplier of the stage's mortality per unit-day, mean ~1: most unit-weeks lose fish at the
    quiet chronic level, a few carry an episode (gill disease, fungus, a water-quality failure, the
    pinheads that never start feeding) that takes most of the stage's losses (docs/domain.md §5.2)."""
    weeks, share = (days + 6) // 7, EPISODE_WEEK_SHARE
    quiet = min(1.0, CHRONIC_MONTHLY / (daily_rate * 30.44)) if daily_rate > 0 else 1.0
    high = (1.0 - (1.0 - share) * quiet) / share
    mult = np.where(rng.random((units, weeks)) < share, high, quiet)
    mult = mult * rng.lognormal(-0.08, 0.4, (units, weeks))
    return mult.repeat(7, axis=1)[:, :days]


def _same_survival(rate: np.ndarray, hazard: float) -> np.ndarray:
    """The unit-day rates scaled so the stage's mean survival stays what steady losses give (an
    episode's losses saturate: a unit cannot lose its fish twice, so uneven rates of the same mean
    would let more fish through), and so no unit loses more than its worst episodes take."""
    total = rate.sum(axis=1)
    target, lo, hi = np.exp(-hazard), 1.0, 8.0
    for _ in range(30):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if np.exp(-np.minimum(mid * total, MAX_UNIT_HAZARD)).mean() > target else (lo, mid)
    scale = np.minimum((lo + hi) / 2, MAX_UNIT_HAZARD / np.maximum(total, 1e-12))
    return rate * scale[:, None]


def _deaths(rng, n0: np.ndarray, rate: np.ndarray, extra: np.ndarray):
    """Deaths per unit-day drawn on the expected population path; integer and never below zero."""
    total_rate = rate + extra
    expected = n0[:, None] * np.exp(-np.cumsum(np.concatenate(
        [np.zeros((len(n0), 1)), total_rate[:, :-1]], axis=1), axis=1))
    base = rng.poisson(expected * rate)
    event = rng.poisson(expected * extra)
    cum = np.cumsum(base + event, axis=1)
    over = cum > n0[:, None]
    if over.any():  # cannot lose more fish than are there: trim the excess from the base draws
        excess = np.maximum(cum - n0[:, None], 0)
        excess = np.diff(np.concatenate([np.zeros((len(n0), 1), int), excess], axis=1), axis=1)
        take = np.minimum(excess, base)
        base -= take
        event -= np.minimum(excess - take, event)
    pop = n0[:, None] - np.concatenate([np.zeros((len(n0), 1), int), np.cumsum(base + event, axis=1)[:, :-1]], axis=1)
    return base, event, pop


def run_stage(rng: np.random.Generator, stage: int, start: int, n0: np.ndarray, w0: float | np.ndarray,
              temps: np.ndarray, tgc: float, end_weight: float | None, daily_rate: float,
              extra_rate: np.ndarray | None = None, factor: np.ndarray | None = None,
              min_end: int | None = None) -> StageRun:
    """Simulate a stage from `start` on units with initial counts n0 and weights w0 (one or per unit).

    temps: [units, horizon] water temperature from `start`. The stage ends at the threshold,
    or later if `min_end` (e.g. waiting for a sea site) says so, never past the data's end.
    """
    horizon = min(temps.shape[1], N_DAYS - start)
    temps = temps[:, :horizon]
    factor = np.ones(horizon) if factor is None else factor[:horizon]
    if stage == bio.EGG:
        dd = np.cumsum(np.maximum(temps, 0), axis=1)
        frac = np.clip(np.concatenate([np.zeros((len(n0), 1)), dd[:, :-1]], axis=1) / bio.EGG_DEGREE_DAYS, 0, 1)
        weight = bio.EGG_WEIGHT_G[0] + (bio.EGG_WEIGHT_G[1] - bio.EGG_WEIGHT_G[0]) * frac
        done = np.flatnonzero(frac.mean(axis=0) >= 1.0)
    else:
        weight = bio.grow(np.broadcast_to(np.asarray(w0, float), len(n0)), np.full(len(n0), tgc), temps, factor[None, :])
        done = np.flatnonzero(weight.mean(axis=0) >= end_weight)
    length = int(done[0]) if len(done) else min(horizon, MAX_STAGE_DAYS)
    if min_end is not None:
        length = max(length, min_end - start)
    length = max(1, min(length, horizon))  # cut by the end of the data: the stage stays open
    season = 1.0 + 0.3 * np.cos(2 * np.pi * (DOY[start:start + length] - 200) / 365.25)
    if stage == bio.EGG:  # eggs die steadily in every tray: the batch's hatch rate varies little
        mult = rng.lognormal(-0.18, 0.6, (len(n0), (length + 6) // 7)).repeat(7, axis=1)[:, :length]
    else:
        mult = episodes(rng, daily_rate, len(n0), length)
    rate = daily_rate * season[None, :] * mult
    if stage != bio.EGG:
        rate = _same_survival(rate, daily_rate * season.sum())
    extra = np.zeros((len(n0), length)) if extra_rate is None else np.broadcast_to(extra_rate[:length], (len(n0), length))
    base, event, pop = _deaths(rng, n0.astype(np.int64), rate, extra)
    exit_pop = pop[:, -1] - base[:, -1] - event[:, -1]
    exit_w = weight[:, length] if weight.shape[1] > length else weight[:, -1]
    return StageRun(start, start + length, weight[:, :length], pop, base, event, exit_w, exit_pop)
