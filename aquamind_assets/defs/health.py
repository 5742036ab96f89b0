"""The health and growth-sample assets: what the vets and the farm staff recorded about the fish."""
from __future__ import annotations

from ..export.growth import render_growth
from ..export.health import render_health
from ..warehouse.tables import GROWTH_TABLES, HEALTH_TABLES
from .loading import yearly_asset

growth_samples = yearly_asset(
    "growth_samples", tables=[t.qualified for t in GROWTH_TABLES], render=render_growth,
    group="operations", deps=("batches",),
    description="Growth samples: weekly in freshwater tanks, fortnightly in sea pens; mean and spread of "
                "weight and length and the condition factor.")
health = yearly_asset(
    "health", tables=[t.qualified for t in HEALTH_TABLES], render=render_health,
    group="operations", deps=("batches",),
    description="Vaccinations, lice counts by species and stage, treatments with withholding periods, disease "
                "outbreaks, monthly health checks (fish, scores), lab samples and the veterinary journal.")
