"""infrastructure_changes: the farm through the decade, a year at a time. The units themselves (with
their commissioning and retirement dates) stay in the static `infrastructure` asset: one row per unit
ever in service, so every other table can refer to it; this asset holds what happened to them."""
from __future__ import annotations

from ..export.infrastructure import render_infrastructure_changes
from ..warehouse.tables import INFRASTRUCTURE_CHANGE_TABLES
from .loading import yearly_asset

infrastructure_changes = yearly_asset(
    "infrastructure_changes", tables=[t.qualified for t in INFRASTRUCTURE_CHANGE_TABLES],
    render=render_infrastructure_changes, group="infrastructure", deps=("infrastructure",),
    description="Units commissioned, retired and rebuilt, and sensors installed, replaced and recalibrated "
                "in the year: the farm changing through the decade (the units carry their dates).")
