"""The production assets: batches (with assignments, transfers, daily state), mortality, harvest."""
from __future__ import annotations

from ..rules import batches as batch_rules, harvest as harvest_rules, mortality as mortality_rules
from ..rules.health import HARVEST_OUTSIDE_WITHHOLDING
from ..sim.render_batches import render_batches, render_harvest, render_mortality
from ..warehouse.tables import BATCH_TABLES, HARVEST_TABLES, MORTALITY_TABLES
from .loading import yearly_asset

batches = yearly_asset(
    "batches", tables=[t.qualified for t in BATCH_TABLES], render=render_batches, rules=batch_rules.RULES,
    group="production", deps=("infrastructure",),
    description="Batches, their container assignments (the spine), transfer workflows and actions, the "
                "opening state on 2015-01-01 and the daily state per assignment.")
mortality_events = yearly_asset(
    "mortality_events", tables=[t.qualified for t in MORTALITY_TABLES], render=render_mortality,
    rules=mortality_rules.RULES, group="production", deps=("batches",),
    description="Deaths per assignment, day and cause; they sum exactly to the daily state.")
harvest = yearly_asset(
    "harvest", tables=[t.qualified for t in HARVEST_TABLES], render=render_harvest,
    rules=[*harvest_rules.RULES, HARVEST_OUTSIDE_WITHHOLDING], group="production", deps=("batches", "health"),
    description="Harvest events pen by pen and lots per product grade, live and gutted weight.")
