"""The simulation's day axis: a warm-up before the stored years, so the operation is in steady state
on their first day.

Days are indices from SIM_START; stored dates are int32 days since 1970-01-01 (`epoch_days`).
"""
from __future__ import annotations

import numpy as np

from ..config.years import FIRST_DATE, FIRST_YEAR, LAST_DATE, LAST_YEAR

SIM_START_YEAR = 2011  # warm-up: long enough for batches at every stage on the first stored day
SIM_START = np.datetime64(f"{SIM_START_YEAR}-01-01", "D")
FIRST_STORED = np.datetime64(FIRST_DATE, "D")
LAST_STORED = np.datetime64(LAST_DATE, "D")
N_DAYS = int((LAST_STORED - SIM_START).astype(int)) + 1
EPOCH_OFFSET = int((SIM_START - np.datetime64("1970-01-01", "D")).astype(int))
FIRST_STORED_DAY = int((FIRST_STORED - SIM_START).astype(int))

DATES = SIM_START + np.arange(N_DAYS)
YEAR = DATES.astype("datetime64[Y]").astype(int) + 1970
MONTH = DATES.astype("datetime64[M]").astype(int) % 12 + 1
DOY = (DATES - DATES.astype("datetime64[Y]")).astype(int) + 1


def epoch_days(day: np.ndarray | int) -> np.ndarray | int:
    """Simulation day index -> days since 1970-01-01 (what date columns store)."""
    return np.asarray(day, dtype=np.int32) + np.int32(EPOCH_OFFSET) if np.ndim(day) else int(day) + EPOCH_OFFSET


def day_of(date: str) -> int:
    return int((np.datetime64(date, "D") - SIM_START).astype(int))


def owning_year(day: np.ndarray) -> np.ndarray:
    """The year that owns a row starting on `day`: its calendar year, FIRST_YEAR for anything earlier."""
    return np.maximum(YEAR[np.asarray(day)], FIRST_YEAR).astype(np.int16)


def year_days(year: int) -> tuple[int, int]:
    """[first, last+1) simulation days of a calendar year."""
    return day_of(f"{year}-01-01"), day_of(f"{year + 1}-01-01") if year < LAST_YEAR else N_DAYS
