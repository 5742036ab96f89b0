"""Column values as the warehouse stores them: dates as days since 1970-01-01, NULL for an open end."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..sim.calendar import FIRST_STORED_DAY, N_DAYS, epoch_days, owning_year, year_days


def nullable_date(day: np.ndarray) -> np.ndarray:
    """Stored dates of simulation days, None (NULL) where the day is unknown or past the stored days."""
    out = np.empty(len(day), dtype=object)
    valid = (day >= 0) & (day < N_DAYS)
    out[valid] = epoch_days(day[valid])
    return out


def vocabulary(codes: np.ndarray, words) -> pd.Categorical:
    """A text column drawn from a few words (a cause, a method): codes into `words`, so a million
    rows never become a million Python strings on their way to COPY (warehouse/encode.py)."""
    return pd.Categorical.from_codes(np.asarray(codes, np.int8), categories=list(words))


def stored(start: np.ndarray, end: np.ndarray, year: int) -> np.ndarray:
    """Rows owned by `year` that are alive on or after the first stored day (end < 0: still open)."""
    return (owning_year(start) == year) & ((end < 0) | (end > FIRST_STORED_DAY))


def in_year(day, year: int) -> np.ndarray:
    """Days that fall in the calendar year."""
    first, stop = year_days(year)
    return (np.asarray(day) >= first) & (np.asarray(day) < stop)
