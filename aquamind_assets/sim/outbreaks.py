"""Disease outbreaks at sea, drawn per batch from the profiles of docs/domain.md §8."""
from __future__ import annotations

import numpy as np

from .calendar import MONTH, N_DAYS
from .sea import Outbreak

# code: (probability per cycle FO, SC), onset rule, duration range, extra daily mortality, growth factor
PROFILES = {
    "AGD": ((0.0, 0.45), "months", (8, 9, 10, 11, 12), (30, 60), 0.0003, 0.85),
    "PD": ((0.10, 0.30), "months", (6, 7, 8, 9), (45, 90), 0.00035, 0.70),
    "HSMI": ((0.15, 0.15), "offset", (30, 150), (30, 60), 0.0003, 0.90),
    "CMS": ((0.12, 0.12), "offset", (300, 450), (60, 120), 0.0004, 0.95),
    "WINTER_ULCER": ((0.25, 0.25), "months", (1, 2, 3, 4), (30, 60), 0.0003, 0.95),
    "ISA": ((0.015, 0.015), "offset", (100, 400), (20, 21), 0.0020, 0.80),
}


def draw_sea_outbreaks(rng: np.random.Generator, geo: int, transfer_day: int) -> list[Outbreak]:
    out = []
    for code, (probs, rule, arg, (dmin, dmax), mort, growth) in PROFILES.items():
        if rng.random() >= probs[geo]:
            continue
        if rule == "offset":
            onset = transfer_day + int(rng.integers(*arg))
        else:
            window = np.arange(transfer_day + 30, min(transfer_day + 400, N_DAYS))
            window = window[np.isin(MONTH[window], arg)] if len(window) else window
            if len(window) == 0:
                continue
            onset = int(window[min(len(window) - 1, int(rng.integers(0, 45)))])
        if onset >= N_DAYS:
            continue
        treatment = {"AGD": "AGD_FRESHWATER"}.get(code)
        if code == "WINTER_ULCER" and geo == 1:
            treatment = "ANTIBIOTIC"  # antibiotics for bacterial disease; none in the Faroes
        out.append(Outbreak(code, onset, onset + int(rng.integers(dmin, dmax + 1)), mort, growth, treatment))
    return out
