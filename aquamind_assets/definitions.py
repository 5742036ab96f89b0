"""The one Definitions object: static assets, yearly assets, dbt models, the report and the dbt docs, and the sensor
that refreshes the models and the report after a year is rewritten."""
import dagster as dg

from .defs import automation, environment, feeding, health, infrastructure, production, report, static
from .defs.dbt.assets import dbt_cross_year, dbt_resource, dbt_staging, dbt_year_incremental
from .defs.dbt.docs import dbt_docs
from .defs.resources import Warehouse

YEARLY_ASSETS = [infrastructure.infrastructure_changes, production.batches, production.mortality_events,
                 health.health, production.harvest, environment.environmental_readings, feeding.feeding,
                 health.growth_samples]
DBT_ASSETS = [dbt_staging, dbt_year_incremental, dbt_cross_year]
# meta.partition_load, meta.rule and meta.rule_evaluation: written by every load (and `aquamind
# validate`), not materialized on their own; the data-quality marts read them
LOAD_RECORDS = dg.AssetSpec(
    "load_records", group_name="data_quality", kinds={"postgres"},
    deps=[*static.static_assets.keys, *(a.key for a in YEARLY_ASSETS)],
    description="What each load records about itself: rows per table, checksum, seconds per phase, the rule "
                "catalogue and every rule's latest result at load and in the `aquamind validate` audit.")

defs = dg.Definitions(
    assets=[static.static_assets, *YEARLY_ASSETS, LOAD_RECORDS, *DBT_ASSETS, report.report, dbt_docs],
    resources={"warehouse": Warehouse(), "dbt": dbt_resource()},
    # one process per run, not per step: a year's assets share the mapped plan and skip re-importing
    # Dagster per step (measured 3x faster per year); years run in parallel as separate runs
    executor=dg.in_process_executor,
    sensors=[automation.SENSOR],
    jobs=[dg.define_asset_job("yearly_assets", selection=dg.AssetSelection.assets(*YEARLY_ASSETS)),
          dg.define_asset_job("analytics", selection=dg.AssetSelection.assets(*DBT_ASSETS, report.report, dbt_docs))],
)
