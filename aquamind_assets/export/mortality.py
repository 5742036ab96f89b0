"""Yearly rendering of the mortality events: one per assignment-day and cause, summing to the daily state."""
from __future__ import annotations

import numpy as np

from ..sim.calendar import epoch_days, year_days
from ..sim.reference import MORTALITY_CAUSES
from ..warehouse.schema import Table
from ..warehouse.tables import MORTALITY_EVENT
from .columns import vocabulary

def render_mortality(plan, year: int) -> dict[Table, dict[str, np.ndarray]]:
    """Base deaths and event deaths (disease, handling, ...) of every assignment-day of the year; the
    id interleaves the two kinds per plan row, so ids are unique without a counter."""
    d, a = plan.daily, plan.assignment
    first, stop = year_days(year)
    rows = np.flatnonzero((d["day"] >= first) & (d["day"] < stop))
    parts = []
    for kind, count, cause in ((0, d["base"], d["bcause"]), (1, d["event"], d["ecause"])):
        r = rows[count[rows] > 0]
        parts.append((r.astype(np.int64) * 2 + kind, r, count[r], cause[r]))
    ids = np.concatenate([p[0] for p in parts])
    order = np.argsort(ids, kind="stable")
    r = np.concatenate([p[1] for p in parts])[order]
    cnt = np.concatenate([p[2] for p in parts])[order]
    cause = np.concatenate([p[3] for p in parts])[order].astype(np.int64)
    ass = d["assignment"][r]
    return {MORTALITY_EVENT: {
        "year": np.full(len(r), year, np.int16), "id": ids[order] + 1, "batch_id": a["batch"][ass - 1],
        "assignment_id": ass, "event_date": epoch_days(d["day"][r]), "count": cnt.astype(np.int32),
        "biomass_kg": (cnt * d["weight"][r].astype(np.float64) / 1000).astype(np.float32),
        "cause": vocabulary(cause, MORTALITY_CAUSES), "mortality_reason_id": (cause + 1).astype(np.int32)}}
