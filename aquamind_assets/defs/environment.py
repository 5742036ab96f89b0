"""environmental_readings: the volume of the dataset, streamed in chunks through binary COPY, with
its daily rollup and the events behind them."""
from __future__ import annotations

from ..export.readings import render_environment as render
from ..warehouse.tables import ENVIRONMENT_TABLES
from .loading import yearly_asset


environmental_readings = yearly_asset(
    "environmental_readings", tables=[t.qualified for t in ENVIRONMENT_TABLES], render=render,
    group="environment", deps=("batches",),
    description="Readings of every sensor of every occupied container (temperature, oxygen, pH, salinity, "
                "CO2, nitrogen) at the scenario's cadence, and the environmental events that shaped them.")
