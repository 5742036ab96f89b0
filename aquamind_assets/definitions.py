"""The one Definitions object: static assets, yearly assets, dbt models, the report."""
import dagster as dg

from .defs import production, static
from .defs.partitions import YEARS
from .defs.resources import Warehouse

yearly = [production.batches, production.mortality_events, production.harvest]

defs = dg.Definitions(
    assets=[static.static_assets, *yearly],
    resources={"warehouse": Warehouse()},
    jobs=[dg.define_asset_job("yearly_assets", selection=dg.AssetSelection.assets(*yearly), partitions_def=YEARS)],
)
