"""Yearly rendering of the harvest: events pen by pen and lots per product grade."""
from __future__ import annotations

import numpy as np

from ..sim.calendar import epoch_days, year_days
from ..sim.rng import stream
from ..warehouse.schema import Table
from ..warehouse.tables import HARVEST_EVENT, HARVEST_LOT

GRADES = ((0.10, 1.15), (0.40, 1.05), (0.35, 1.00), (0.12, 0.85), (0.03, 0.60))  # share, weight ratio
LOT_COLUMNS = ("id", "harvest_event_id", "assignment_id", "event_date", "product_grade_id", "unit_count",
               "live_weight_kg", "gutted_weight_kg")


def _events(plan, sel: np.ndarray, year: int) -> dict[str, np.ndarray]:
    h, bt = plan.harvest, plan.batch
    return {"year": np.full(len(sel), year, np.int16), "id": (sel + 1).astype(np.int32),
            "batch_id": h["batch"][sel].astype(np.int32), "assignment_id": h["assignment"][sel].astype(np.int32),
            "event_date": epoch_days(h["day"][sel]),
            "geography_id": (bt["geo"][h["batch"][sel] - 1] + 1).astype(np.int32),
            "document_ref": np.array([f"HRV-{b}-{p}" for b, p in zip(h["batch"][sel], h["assignment"][sel])],
                                     dtype=object),
            "is_early": h["early"][sel].astype(bool)}


def _lots(plan, sel: np.ndarray, year: int) -> dict[str, np.ndarray]:
    """Whole fish split by grade share, live weight by grade weight ratio (conserved), gutted at a share
    drawn per event from the scenario's `gutted_ratio` band."""
    h = plan.harvest
    shares = np.array([g[0] for g in GRADES])
    ratio = np.array([g[1] for g in GRADES])
    lots = {k: [] for k in LOT_COLUMNS}
    for i in sel:
        n, w = int(h["count"][i]), float(h["weight"][i])
        counts = np.floor(shares * n).astype(np.int64)
        counts[1] += n - counts.sum()
        weights = counts * ratio
        live = w * n / 1000 * weights / max(weights.sum(), 1)
        gut = live * stream(int(plan.stats["seed"]), "gutting", int(i)).uniform(*plan.stats["gutted_ratio"])
        for gi in range(len(GRADES)):
            for k, v in zip(LOT_COLUMNS, ((i + 1) * 10 + gi + 1, i + 1, h["assignment"][i], epoch_days(h["day"][i]),
                                          gi + 1, counts[gi], live[gi], gut[gi])):
                lots[k].append(v)
    dt = {"live_weight_kg": np.float64, "gutted_weight_kg": np.float64}
    lot = {k: np.asarray(v, dtype=dt.get(k, np.int32)) for k, v in lots.items()}
    lot["year"] = np.full(len(lot["id"]), year, np.int16)
    return lot


def render_harvest(plan, year: int) -> dict[Table, dict[str, np.ndarray]]:
    """Harvest events of the year and their lots per grade."""
    h = plan.harvest
    first, stop = year_days(year)
    sel = np.flatnonzero((h["day"] >= first) & (h["day"] < stop)) if len(h["day"]) else np.zeros(0, int)
    return {HARVEST_EVENT: _events(plan, sel, year), HARVEST_LOT: _lots(plan, sel, year)}
