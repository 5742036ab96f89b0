"""Yearly rendering of the harvest: events pen by pen and lots per product grade, graded from the
weight distribution of the pen's fish."""
from __future__ import annotations

import math

import numpy as np

from ..sim.calendar import epoch_days, year_days
from ..warehouse.schema import Table
from ..warehouse.tables import HARVEST_EVENT, HARVEST_LOT
from .sampling import mix

# Grades (harvest.product_grade ids 1-5: superior, A, B, C, reject) by the gutted weight of each fish
# and by quality: a pen's live weights are lognormal around the event's mean weight; fish at or above
# SIZE_KG[0] gutted are superior, then A, B and C down the thresholds; a share of the pen, whatever its
# size, is downgraded for quality (wounds, maturation) to B, C or reject.
SIZE_KG = (4.0, 3.0, 2.0)
CV_LIVE = 0.18  # coefficient of variation of live weight within a pen at harvest
DOWNGRADE = (0.03, 0.10)  # share of a pen downgraded for quality; doubled when harvested early (disease)
DOWNGRADE_TO = np.array([0.0, 0.0, 0.6, 0.3, 0.1])  # of the downgraded fish: to B, C, reject
_phi = np.vectorize(lambda z: 0.5 * math.erfc(-z / math.sqrt(2.0)), otypes=[np.float64])


def _events(plan, sel: np.ndarray, year: int) -> dict[str, np.ndarray]:
    h, bt = plan.harvest, plan.batch
    return {"year": np.full(len(sel), year, np.int16), "id": (sel + 1).astype(np.int32),
            "batch_id": h["batch"][sel].astype(np.int32), "assignment_id": h["assignment"][sel].astype(np.int32),
            "event_date": epoch_days(h["day"][sel]),
            "geography_id": (bt["geo"][h["batch"][sel] - 1] + 1).astype(np.int32),
            "document_ref": np.array([f"HRV-{b}-{p}" for b, p in zip(h["batch"][sel], h["assignment"][sel])],
                                     dtype=object),
            "is_early": h["early"][sel].astype(bool)}


def _size_classes(w_g: np.ndarray, gutted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per event and grade (superior, A, B, C, reject): the share of the pen's fish in the size class,
    and the class's share of the pen's live weight (lognormal partial expectations)."""
    sigma = math.sqrt(math.log1p(CV_LIVE ** 2))
    mu = np.log(w_g) - sigma ** 2 / 2
    cut = np.stack([np.log(t * 1000.0 / gutted) for t in SIZE_KG], axis=1)  # live grams, descending
    below = np.hstack([np.ones((len(w_g), 1)), _phi((cut - mu[:, None]) / sigma), np.zeros((len(w_g), 1))])
    mass = np.hstack([np.ones((len(w_g), 1)), _phi((cut - mu[:, None] - sigma ** 2) / sigma), np.zeros((len(w_g), 1))])
    fish, weight = below[:, :-1] - below[:, 1:], mass[:, :-1] - mass[:, 1:]  # superior, A, B, C
    pad = np.zeros((len(w_g), 1))
    return np.hstack([fish, pad]), np.hstack([weight, pad])


def _lots(plan, sel: np.ndarray, year: int) -> dict[str, np.ndarray]:
    """Five lots per event (one per grade, possibly empty): whole fish and live weight conserved,
    gutted weight at the event's share of the scenario's `gutted_ratio` band."""
    h = plan.harvest
    n, w = h["count"][sel].astype(np.int64), h["weight"][sel].astype(np.float64)
    low, high = plan.stats["gutted_ratio"]
    gutted = low + (high - low) * mix(41, sel + 1)
    down = (DOWNGRADE[0] + (DOWNGRADE[1] - DOWNGRADE[0]) * mix(43, sel + 1)) * np.where(h["early"][sel], 2, 1)
    fish, weight = _size_classes(w, gutted)
    fish = fish * (1 - down)[:, None] + down[:, None] * DOWNGRADE_TO  # downgrades are of every size alike
    weight = weight * (1 - down)[:, None] + down[:, None] * DOWNGRADE_TO
    counts = np.floor(fish * n[:, None]).astype(np.int64)
    counts[np.arange(len(sel)), fish.argmax(axis=1)] += n - counts.sum(axis=1)  # whole fish conserved
    weight = np.where(counts > 0, weight, 0.0)
    live = weight / np.maximum(weight.sum(axis=1, keepdims=True), 1e-12) * (n * w / 1000.0)[:, None]
    k, grades = len(sel), DOWNGRADE_TO.size
    rep = lambda x: np.repeat(x, grades)  # noqa: E731
    return {"year": np.full(k * grades, year, np.int16),
            "id": ((rep(sel) + 1) * 10 + np.tile(np.arange(1, grades + 1), k)).astype(np.int32),
            "harvest_event_id": rep(sel + 1).astype(np.int32), "assignment_id": rep(h["assignment"][sel]).astype(np.int32),
            "event_date": rep(epoch_days(h["day"][sel])), "product_grade_id": np.tile(np.arange(1, grades + 1, dtype=np.int32), k),
            "unit_count": counts.reshape(-1).astype(np.int32), "live_weight_kg": live.reshape(-1),
            "gutted_weight_kg": (live * gutted[:, None]).reshape(-1)}


def render_harvest(plan, year: int) -> dict[Table, dict[str, np.ndarray]]:
    """Harvest events of the year and their lots per grade."""
    h = plan.harvest
    first, stop = year_days(year)
    sel = np.flatnonzero((h["day"] >= first) & (h["day"] < stop)) if len(h["day"]) else np.zeros(0, int)
    return {HARVEST_EVENT: _events(plan, sel, year), HARVEST_LOT: _lots(plan, sel, year)}
