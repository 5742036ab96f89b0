"""What the planning of every batch shares: the farm, its climate, the container book and the plan
being built, with the lookups derived from them once."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from ..config.scenario import Scenario
from . import biology as bio
from .calendar import N_DAYS
from .climate import Climate, build_climate
from .infrastructure import Infrastructure, build_infrastructure
from .plan_state import PlanBuilder
from .schedule import ContainerBook, stage_mortality_rate


@dataclass
class PlanContext:
    scenario: Scenario
    infra: Infrastructure
    climate: Climate
    book: ContainerBook
    builder: PlanBuilder
    unit_ras: np.ndarray  # container index -> in a RAS hall (water at the RAS temperature)
    stage_rates: dict[int, float]  # freshwater stage -> base daily mortality rate
    pens_by_site: dict[int, list[int]]  # area id -> its pens (container indices)

    @property
    def seed(self) -> int:
        return self.scenario.seed

    def sites_of(self, geo: int) -> tuple[np.ndarray, np.ndarray]:
        """(area ids, fish capacity of all their pens) of a geography's sea sites."""
        sites = np.array([s for s in self.pens_by_site if self.infra.area_geo[s - 1] == geo])
        capacity = {s: len(p) * int(self.infra.container_max_count[p[0]]) for s, p in self.pens_by_site.items()}
        return sites, np.array([capacity[s] for s in sites])

    def unit_temperatures(self, units: np.ndarray, start: int, days: int) -> np.ndarray:
        """[units, days] water temperature: heated early stages, incubators, RAS halls."""
        infra, climate = self.infra, self.climate
        st = infra.container_station[units]
        stop = min(start + days, N_DAYS)
        fresh = climate.fresh_temp[st, start:stop]
        stage = infra.container_stage[units][:, None]
        fresh = np.where(stage <= bio.PARR, np.clip(fresh, 8.0, 12.0), fresh)  # heated in winter
        fresh = np.where(stage == bio.EGG, climate.ras_temp[st, start:stop] - 4.0, fresh)  # incubators ~8 C
        # incubators keep their own chilled water in a RAS hall too: eggs develop at ~8 C everywhere
        return np.where(self.unit_ras[units][:, None] & (stage != bio.EGG), climate.ras_temp[st, start:stop], fresh)


def _ras_units(infra: Infrastructure) -> np.ndarray:
    hall_ras = infra.tables["hall"]["is_ras"].astype(bool)
    return np.where(infra.container_hall > 0, hall_ras[np.maximum(infra.container_hall, 1) - 1], False)


def _pens_by_site(infra: Infrastructure) -> dict[int, list[int]]:
    pens = defaultdict(list)
    for c in np.flatnonzero(infra.container_stage == 5):
        pens[int(infra.container_area[c])].append(c)
    return pens


def plan_context(scenario: Scenario) -> PlanContext:
    """The farm built from the scale preset, its climate, an empty container book and plan."""
    b = scenario.biology
    infra = build_infrastructure(scenario)
    climate = build_climate(scenario.seed, infra.area_geo, infra.area_lat, infra.station_geo)
    lives = infra.lives
    book = ContainerBook(infra.container_stage, infra.container_station, infra.container_geo,
                         infra.container_area, lives.container_commissioned, lives.container_retired,
                         lives.area_commissioned, lives.area_retire_after)
    rates = {s: stage_mortality_rate(b.stage_survival[bio.STAGES[s]], bio.NOMINAL_DAYS[s]) for s in range(5)}
    return PlanContext(scenario, infra, climate, book, PlanBuilder(scenario, infra, climate), _ras_units(infra),
                       rates, _pens_by_site(infra))
