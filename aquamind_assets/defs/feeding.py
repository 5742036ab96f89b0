"""feeding: meals per assignment-day and the feed inventory (purchases, lots, daily stock) behind them."""
from __future__ import annotations

from ..export.feeding import render_feeding
from ..warehouse.tables_feeding import FEEDING_TABLES
from .loading import yearly_asset

feeding = yearly_asset(
    "feeding", tables=[t.qualified for t in FEEDING_TABLES], render=render_feeding,
    group="operations", deps=("batches",),
    description="Meals (2-4 a day) of every fed assignment-day, summing to the daily state's ration; the "
                "feed they came from: purchases landing as lots in each hall's silo or site's barges, FIFO "
                "cost, and the daily stock per store and feed, balanced to the gram and never over capacity.")
