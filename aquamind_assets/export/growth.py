"""Growth samples rendered from the plan: weekly in freshwater tanks, fortnightly in sea pens."""
from __future__ import annotations

import numpy as np

from ..sim import biology as bio
from ..sim.calendar import epoch_days
from ..sim.rng import stream
from ..warehouse.schema import Table
from ..warehouse.tables_health import GROWTH_SAMPLE
from .sampling import fulton_k, schedule

FW_PERIOD, SEA_PERIOD = 7, 14
K_RANGE = (1.0, 1.4)  # Fulton's K of farmed salmon (docs/domain.md §4)


def render_growth(plan, year: int) -> dict[Table, dict[str, np.ndarray]]:
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
    return {GROWTH_SAMPLE: {
        "year": np.full(keep.sum(), year, np.int16), "id": (row[keep] + 1).astype(np.int32),
        "assignment_id": (ai[keep] + 1).astype(np.int32), "sample_date": epoch_days(day[keep]),
        "sample_size": size[keep], "avg_weight_g": avg_w[keep],
        "std_weight_g": (avg_w * cv).astype(np.float32)[keep], "avg_length_cm": avg_l[keep],
        "std_length_cm": (avg_l * cv / 3 * rng.uniform(0.9, 1.1, n)).astype(np.float32)[keep],
        "condition_factor": fulton_k(avg_w, avg_l).astype(np.float32)[keep]}}
