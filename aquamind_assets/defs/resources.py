"""The warehouse resource: connection, scenario and plan.

The CLI builds it with the run's choices (`Warehouse.of(...)`); runs launched from the UI or the
daemon get the default instance, which takes scale, seed and scenario from what `aquamind ui`
exported (runtime/settings.py), never from per-run config a user would have to type.
"""
from __future__ import annotations

import dagster as dg
import psycopg

from ..config.scenario import Scenario, load_scenario
from ..runtime import database, settings
from ..runtime.plan_cache import get_plan


class Warehouse(dg.ConfigurableResource):
    database_url: str | None = None
    scenario_file: str | None = None
    scale: str | None = None
    seed: int | None = None
    replace_all: bool = False

    @classmethod
    def of(cls, url: str, choice: settings.RunChoice) -> Warehouse:
        return cls(database_url=url, scenario_file=choice.scenario_file, scale=choice.scale, seed=choice.seed,
                   replace_all=choice.replace_all)

    def url(self) -> str:
        return self.database_url or database.resolve().warehouse_url

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.url(), connect_timeout=10, autocommit=True)  # loads open their own transaction

    def scenario(self) -> Scenario:
        env = settings.run_choice()  # what this resource leaves unset
        seed = self.seed if self.seed is not None else env.seed
        return load_scenario(self.scenario_file or env.scenario_file, scale=self.scale or env.scale, seed=seed)

    def plan(self, log=None):
        return get_plan(self.scenario(), log=log)

    def replace_everything(self) -> bool:
        return self.replace_all or settings.run_choice().replace_all
