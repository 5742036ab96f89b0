"""Container occupancy planned before anything happens: no double booking, cleaning and fallow gaps.

Batches are allocated in start order. A unit is free from the end of its last booking plus its
cleaning gap; since every booking of a unit ends before its `free_from`, a unit free on day t is
free on every later day too, so a stage can be booked before its end date is known.

A unit exists only between its commissioning and its retirement (infrastructure_life.py): it is free
from its commissioning day on, and a unit due for retirement is offered only to bookings that cannot
outlast it; a sea site due for retirement takes no new generation.
"""
from __future__ import annotations

import numpy as np

from . import biology as bio
from .infrastructure_life import LONGEST_FRESHWATER_BOOKING, NEVER


class ContainerBook:
    def __init__(self, container_stage: np.ndarray, container_station: np.ndarray,
                 container_geo: np.ndarray, container_area: np.ndarray, commissioned: np.ndarray | None = None,
                 retired: np.ndarray | None = None, site_open: dict[int, int] | None = None,
                 site_retire_after: dict[int, int] | None = None) -> None:
        self.stage, self.station = container_stage, container_station
        self.geo, self.area = container_geo, container_area
        n = len(container_stage)
        self.free_from = np.full(n, -10**6, np.int64)
        if commissioned is not None:
            self.free_from = np.maximum(self.free_from, np.asarray(commissioned, np.int64))
        self.retired = np.full(n, NEVER, np.int64) if retired is None else np.asarray(retired, np.int64)
        self.site_free: dict[int, int] = dict(site_open or {})
        self.site_retire_after = dict(site_retire_after or {})

    def _available(self, geo: int, stage: int, day: int) -> np.ndarray:
        """Units of the kind free on `day` that no booking from then could outlive."""
        return ((self.geo == geo) & (self.stage == stage) & (self.free_from <= day)
                & (day + LONGEST_FRESHWATER_BOOKING <= self.retired))

    def free_units(self, geo: int, stage: int, day: int) -> np.ndarray:
        """Free units of a stage kind in a geography, grouped so a batch spans few stations."""
        idx = np.flatnonzero(self._available(geo, stage, day))
        if len(idx) == 0:
            return idx
        stations, counts = np.unique(self.station[idx], return_counts=True)
        rank = {s: r for r, s in enumerate(stations[np.lexsort((stations, -counts))])}
        order = np.lexsort((idx, np.array([rank[s] for s in self.station[idx]])))
        return idx[order]

    def first_day_with(self, geo: int, stage: int, n: int, day: int, horizon: int = 400) -> int | None:
        for d in range(day, day + horizon):
            if np.count_nonzero(self._available(geo, stage, d)) >= n:
                return d
        return None

    def book(self, units: np.ndarray, end_day: int, cleaning: int) -> None:
        assert np.all(self.free_from[units] <= end_day), "double booking"
        assert np.all(end_day <= self.retired[units]), "booked past the unit's retirement"
        self.free_from[units] = end_day + cleaning

    def free_site(self, geo: int, sites: np.ndarray, capacity: np.ndarray, fish: int, day: int,
                  horizon: int = 120) -> tuple[int, int] | None:
        """The site (all in, all out) that can take `fish` soonest from `day`; (site, day)."""
        best = None
        for s, cap in zip(sites, capacity):
            if cap < fish:
                continue
            d = max(day, self.site_free.get(int(s), -10**6))
            if d >= self.site_retire_after.get(int(s), NEVER):
                continue
            if d - day <= horizon and (best is None or d < best[1] or (d == best[1] and s < best[0])):
                best = (int(s), d)
        return best


def units_needed(fish: int, weight_g: float, max_count: float, max_biomass_kg: float) -> int:
    """Units for `fish` at the heaviest weight they will reach in the stage, by count and biomass."""
    return int(max(1, np.ceil(fish / max_count), np.ceil(fish * weight_g / 1000.0 / max_biomass_kg)))


def split_even(total: int, n: int) -> np.ndarray:
    """Integer split of fish over n units; sums exactly to total."""
    out = np.full(n, total // n, dtype=np.int64)
    out[: total % n] += 1
    return out


def pair_transfers(source: np.ndarray, dest: np.ndarray) -> list[tuple[int, int, int]]:
    """Water-filling of source counts into destination counts: (source idx, dest idx, fish).

    Both sum to the same total, so population is conserved action by action.
    """
    assert source.sum() == dest.sum(), "population must be conserved across a transfer"
    cs, cd = np.concatenate([[0], np.cumsum(source)]), np.concatenate([[0], np.cumsum(dest)])
    out, i, j = [], 0, 0
    while i < len(source) and j < len(dest):
        lo, hi = max(cs[i], cd[j]), min(cs[i + 1], cd[j + 1])
        if hi > lo:
            out.append((i, j, int(hi - lo)))
        if cs[i + 1] <= cd[j + 1]:
            i += 1
        else:
            j += 1
    return out


def stage_mortality_rate(survival: float, days: int) -> float:
    return -np.log(survival) / days


def cleaning_days(stage: int, cleaning: dict[str, int]) -> int:
    return cleaning["tray"] if stage == bio.EGG else cleaning["tank"]
