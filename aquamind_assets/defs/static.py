"""infrastructure and reference_data: unpartitioned, written together in one transaction because
the infrastructure's foreign keys point into the reference data."""

import time

import dagster as dg
import numpy as np

from ..config.years import FIRST_DATE
from ..runtime import settings
from ..runtime.plan_cache import code_version
from ..rules.catalogue import STATIC_ASSET, at_load, publish
from ..sim.infrastructure_events import stored_tables
from ..sim.readings import readings_per_day
from ..sim.reference import reference_tables
from ..config.scenario import ScenarioError
from ..warehouse.validation import FrameInvalid, validate
from ..warehouse.checks import CheckFailed
from ..warehouse.ddl import ensure_warehouse
from ..warehouse.storage import StorageError
from ..warehouse.static_load import StaticLoad
from ..warehouse.schema import Frame
from ..warehouse.tables import INFRASTRUCTURE_TABLES, REFERENCE_TABLES
from .loading import (LOCK_ERRORS, RETRY, TABLES, check_fault, check_result, column_schema, lock_failure,
                      peak_rss_mib)
from .resources import Warehouse

INFRA = dg.AssetKey("infrastructure")
RULES = at_load(STATIC_ASSET)
REFERENCE = dg.AssetKey("reference_data")


def _service_counts(container: dict) -> dict[str, int]:
    """Containers in service on the last stored day, and those commissioned or retired in the decade."""
    retired = ~np.equal(container["decommissioned_on"], None)
    built = np.asarray(container["commissioned_on"], np.int64) >= (np.datetime64(FIRST_DATE, "D")
                                                                   - np.datetime64("1970-01-01", "D")).astype(int)
    return {"containers_in_service_at_end": int((~retired).sum()),
            "containers_commissioned_in_decade": int(built.sum()), "containers_retired_in_decade": int(retired.sum())}


@dg.multi_asset(
    specs=[dg.AssetSpec(REFERENCE, group_name="static", kinds={"python", "postgres"},
                        description="Species, stages, parameters, feeds, lice, vaccines, treatments, "
                                    "diseases, grades: the lookups every other table refers to."),
           dg.AssetSpec(INFRA, group_name="static", kinds={"python", "postgres"}, deps=[REFERENCE],
                        description="Geographies, sea sites, freshwater stations, halls, containers, "
                                    "sensors and feed stores, sized from the scale preset: every unit ever in "
                                    "service in the decade, with the days it was commissioned and retired "
                                    "(what happened each year: infrastructure_changes).",
                        metadata={"dagster/column_schema": column_schema(TABLES["infrastructure.container"])})],
    check_specs=[dg.AssetCheckSpec(r.name, asset=INFRA, blocking=True, description=r.description) for r in RULES],
    retry_policy=RETRY)
def static_assets(context: dg.AssetExecutionContext, warehouse: Warehouse):
    check_fault("infrastructure", "static")
    t0 = time.perf_counter()
    scenario = warehouse.scenario()
    plan = warehouse.plan(log=context.log.info)
    infra = {f"infrastructure.{k}": v for k, v in stored_tables(plan.infra).items()}
    ref = reference_tables(readings_per_day(int(plan.stats.get("cadence_multiplier", 1)),
                                            plan.stats.get("readings_cadence", "default")))
    with warehouse.connect() as conn:
        try:
            ensure_warehouse(conn, storage=settings.storage())
        except StorageError as e:  # not transient: no retry
            raise dg.Failure(description=str(e), allow_retries=False) from None
        publish(conn, STATIC_ASSET)
        try:
            with StaticLoad(conn, asset=STATIC_ASSET, tables=[*REFERENCE_TABLES, *INFRASTRUCTURE_TABLES],
                            scenario_hash=scenario.data_hash(), code_version=code_version(), checks=RULES,
                            replace_all=True, scenario=scenario.model_dump(mode="json"),
                            write_scenario=True, lock_timeout_s=settings.lock_timeout_s()) as load:
                load.write_stream(validate(Frame(TABLES[n], c)) for n, c in [*ref.items(), *infra.items()])
        except CheckFailed as e:
            for r in e.results:
                yield check_result(r)
            raise dg.Failure(description=str(e), allow_retries=False)
        except (FrameInvalid, ScenarioError, settings.InvalidSetting) as e:
            raise dg.Failure(description=str(e), allow_retries=False) from None
        except LOCK_ERRORS as e:  # a deadlock or the lock timeout, in one line naming the table and holder
            raise lock_failure(e, warehouse, STATIC_ASSET, "tables", context.retry_number) from None
    res = load.result
    wall = time.perf_counter() - t0
    for key, group in ((REFERENCE, REFERENCE_TABLES), (INFRA, INFRASTRUCTURE_TABLES)):
        rows = {t.qualified: res.rows[t.qualified] for t in group}
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={"dagster/row_count": sum(rows.values()), "rows_per_table": dg.MetadataValue.json(rows),
                      "duration_s": round(wall, 3), "peak_rss_mib": round(peak_rss_mib(), 1),
                      "scenario_hash": scenario.data_hash(), "scale": scenario.scale,
                      **({"containers": rows["infrastructure.container"], "sensors": rows["infrastructure.sensor"],
                          **_service_counts(plan.infra.tables["container"]),
                          "sea_pens": int(plan.infra.tables["container"]["is_sea"].astype(bool).sum()),
                          "freshwater_stations": rows["infrastructure.freshwater_station"]} if key == INFRA else {})},
            check_results=[check_result(r) for r in res.checks] if key == INFRA else None)
