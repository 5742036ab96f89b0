"""The one Definitions object: static assets, yearly assets, dbt models, the report."""
import dagster as dg

from .defs import environment, production, static
from .defs.partitions import YEARS
from .defs.resources import Warehouse

YEARLY_ASSETS = [production.batches, production.mortality_events, production.harvest,
                 environment.environmental_readings]

defs = dg.Definitions(
    assets=[static.static_assets, *YEARLY_ASSETS],
    resources={"warehouse": Warehouse()},
    jobs=[dg.define_asset_job("yearly_assets", selection=dg.AssetSelection.assets(*YEARLY_ASSETS),
                              partitions_def=YEARS)],
)
