"""The production assets: batches (with assignments, transfers, daily state), mortality, harvest."""
from __future__ import annotations

from ..config.years import FIRST_DATE
from ..export.batches import render_batches
from ..export.harvest import render_harvest
from ..export.mortality import render_mortality
from ..warehouse.tables import BATCH_TABLES, HARVEST_TABLES, MORTALITY_TABLES
from .loading import yearly_asset

batches = yearly_asset(
    "batches", tables=[t.qualified for t in BATCH_TABLES], render=render_batches,
    group="operations", deps=("infrastructure",),
    description="Batches, their container assignments (the spine), transfer workflows and actions, the "
                f"opening state on {FIRST_DATE} and the daily state per assignment.")
mortality_events = yearly_asset(
    "mortality_events", tables=[t.qualified for t in MORTALITY_TABLES], render=render_mortality,
    group="operations", deps=("batches",),
    description="Deaths per assignment, day and cause; they sum exactly to the daily state.")
harvest = yearly_asset(
    "harvest", tables=[t.qualified for t in HARVEST_TABLES], render=render_harvest,
    group="operations", deps=("batches", "health"),
    description="Harvest events pen by pen and lots per product grade, live and gutted weight.")
