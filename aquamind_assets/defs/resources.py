"""The warehouse resource: connection, scenario and plan, all resolved from the environment.

Runs launched from the UI get scale and seed from AQUAMIND_SCENARIO / AQUAMIND_SCALE /
AQUAMIND_SEED (exported by `aquamind ui`), never from per-run config a user would have to type.
"""
from __future__ import annotations

import os

import dagster as dg
import psycopg

from .. import settings
from ..plan_cache import get_plan
from ..scenario import Scenario, load_scenario


class Warehouse(dg.ConfigurableResource):
    database_url: str | None = None
    scenario_file: str | None = None
    scale: str | None = None
    seed: int | None = None
    replace_all: bool = False

    def url(self) -> str:
        return self.database_url or os.environ.get("AQUAMIND_DATABASE_URL") or settings.resolve().warehouse_url

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.url(), connect_timeout=10, autocommit=True)  # loads open their own transaction

    def scenario(self) -> Scenario:
        seed = self.seed if self.seed is not None else os.environ.get("AQUAMIND_SEED")
        return load_scenario(self.scenario_file or os.environ.get("AQUAMIND_SCENARIO"),
                             scale=self.scale or os.environ.get("AQUAMIND_SCALE"),
                             seed=int(seed) if seed is not None else None)

    def plan(self, log=None):
        return get_plan(self.scenario(), log=log)

    def replace_everything(self) -> bool:
        return self.replace_all or os.environ.get("AQUAMIND_REPLACE_ALL") == "1"
