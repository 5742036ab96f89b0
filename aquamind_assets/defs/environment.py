"""environmental_readings: the volume of the dataset, streamed in chunks through binary COPY."""
from __future__ import annotations

from ..rules import environment as rules
from ..sim.readings import render_environmental_events, render_readings
from ..warehouse.tables import ENVIRONMENT_TABLES
from .loading import yearly_asset


def render(plan, year: int):
    yield "environmental.environmental_event", render_environmental_events(plan, year)
    cadence = int(plan.stats.get("cadence_multiplier", 1))
    for chunk in render_readings(plan, year, chunk_rows=1_000_000, cadence_multiplier=cadence,
                                 first_chunk_rows=100_000):
        yield "environmental.environmental_reading", chunk


environmental_readings = yearly_asset(
    "environmental_readings", tables=[t.qualified for t in ENVIRONMENT_TABLES], render=render,
    rules=[*rules.RULES, *rules.FRAME_RULES], group="operations", deps=("batches",),
    description="Readings of every sensor of every occupied container (temperature, oxygen, pH, salinity, "
                "CO2, nitrogen) at the scenario's cadence, and the environmental events that shaped them.")
