"""The farm through the decade: when each unit was commissioned and when it is retired, decided from the
seed before any batch is planned, so the container schedule uses a unit only while it exists.

What changes (docs/domain.md §1.12-§1.15): the Faroes commission a RAS post-smolt hall when their smolts
grow bigger, each geography opens a new sea site and gives one up, a share of the fry, parr and smolt
tanks is rebuilt (the old unit retired, its replacement commissioned a season later in the same hall).
A freshwater unit due for retirement takes no booking that could outlast it; a retiring sea site
finishes the generation it holds and is given up after its fallow, so its date is settled by the plan.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import biology as bio
from .calendar import day_of
from .freshwater import MAX_STAGE_DAYS
from .rng import stream

NEVER = 10**9  # retirement day of a unit still in service after the last stored day
BUILT_YEARS = (2005, 2010)  # the farm as it stands before the warm-up was built in these years (the oldest
# date a stored column may hold is ten years before the first stored year)
NEW_HALL_YEARS = (2017, 2020)  # the Faroese post-smolt hall (smolts grow from ~200 g to ~400 g, §3)
NEW_SITE_YEARS = (2016, 2022)
RETIRED_SITE_YEARS = (2019, 2023)  # from then on the site takes no new generation
REBUILD_YEARS = (2016, 2022)
REBUILT_SHARE = 0.02  # of a geography's fry, parr and smolt tanks
REBUILD_DAYS = 120  # from the old tank's retirement to its replacement's commissioning
# the longest a freshwater booking can run: a stage is simulated on at most MAX_STAGE_DAYS + 130 days of
# water temperature (stocking.py), waiting for a sea site included; the rest is margin
LONGEST_FRESHWATER_BOOKING = MAX_STAGE_DAYS + 160


def _days_in(rng, years: tuple[int, int], n: int | None = None):
    lo, hi = day_of(f"{years[0]}-01-01"), day_of(f"{years[1]}-01-01")
    return rng.integers(lo, hi, n) if n is not None else int(rng.integers(lo, hi))


@dataclass
class Decade:
    """The changes drawn for the decade (ids and container indices of the farm as first built)."""

    rng: np.random.Generator  # the stream the new units are drawn with (size of the new site)
    new_halls: list[tuple[int, int]]  # (station index, commissioning day)
    new_sites: list[tuple[int, int, int]]  # (geography, site number, commissioning day)
    rebuilt: list[tuple[int, int]]  # (container index, its retirement day)
    retired_sites: dict[int, int]  # area id -> first day it takes no new generation


def draw_decade(seed: int, stage: np.ndarray, geo: np.ndarray, station_geo: list[int], station_ras: list[bool],
                sea_sites: dict[str, int]) -> Decade:
    rng = stream(seed, "infrastructure-decade")
    fo_ras = [i for i, (g, r) in enumerate(zip(station_geo, station_ras)) if g == 0 and r]
    fo_any = [i for i, g in enumerate(station_geo) if g == 0]
    hall_station = int(rng.choice(fo_ras or fo_any))
    new_halls = [(hall_station, _days_in(rng, NEW_HALL_YEARS))]
    counts = [sea_sites["FO"], sea_sites["SC"]]
    new_sites = [(gi, counts[gi], _days_in(rng, NEW_SITE_YEARS)) for gi in (0, 1)]
    first_area = [1, 1 + counts[0]]
    retired_sites = {first_area[gi] + int(rng.integers(0, counts[gi])): _days_in(rng, RETIRED_SITE_YEARS)
                     for gi in (0, 1) if counts[gi] > 1}
    rebuilt = []
    for gi in (0, 1):
        for s in (bio.FRY, bio.PARR, bio.SMOLT):
            units = np.flatnonzero((geo == gi) & (stage == s))
            n = max(1, int(round(REBUILT_SHARE * len(units)))) if len(units) > 2 else 0
            chosen = np.sort(rng.choice(units, n, replace=False)) if n else units[:0]
            rebuilt += [(int(c), int(d)) for c, d in zip(chosen, _days_in(rng, REBUILD_YEARS, n))]
    return Decade(rng, new_halls, new_sites, rebuilt, retired_sites)


@dataclass
class Lives:
    """Commissioning and retirement days (simulation days) of stations, halls, sites and containers."""

    station_commissioned: np.ndarray  # by station index
    hall_commissioned: dict[int, int]  # hall id -> day
    area_commissioned: dict[int, int]  # area id -> day
    area_retire_after: dict[int, int] = field(default_factory=dict)  # area id -> no new generation from then
    rebuilt: dict[int, tuple[int, int]] = field(default_factory=dict)  # new container -> (old one, its last day)
    container_commissioned: np.ndarray | None = None
    container_retired: np.ndarray | None = None  # NEVER while in service
    area_retired: dict[int, int] = field(default_factory=dict)  # settled by the plan (record_decade)
    sensor_successor: np.ndarray | None = None  # by sensor id: the id of its replacement, 0 for none
    sensor_switch: np.ndarray | None = None  # by sensor id: the day its replacement is installed
    replacement_sensors: dict[str, np.ndarray] | None = None  # rows of the sensors installed as replacements

    def settle(self, container_hall: np.ndarray, container_area: np.ndarray) -> None:
        """Per container: commissioned with its hall or site, or a season after the unit it replaces."""
        self.container_commissioned = np.array(
            [self.hall_commissioned[int(h)] if h > 0 else self.area_commissioned[int(a)]
             for h, a in zip(container_hall, container_area)], dtype=np.int64)
        self.container_retired = np.full(len(container_hall), NEVER, dtype=np.int64)
        for new, (old, day) in self.rebuilt.items():
            self.container_retired[old] = day
            self.container_commissioned[new] = day + REBUILD_DAYS


def initial_lives(seed: int, n_stations: int, n_halls: int, n_areas: int, hall_station: list[int]) -> Lives:
    """The farm before the warm-up: stations and sites built in BUILT, halls with their station."""
    rng = stream(seed, "infrastructure-built")
    stations, areas = _days_in(rng, BUILT_YEARS, n_stations), _days_in(rng, BUILT_YEARS, n_areas)
    return Lives(stations, {h + 1: int(stations[hall_station[h] - 1]) for h in range(n_halls)},
                 {a + 1: int(areas[a]) for a in range(n_areas)})
