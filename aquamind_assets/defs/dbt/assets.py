"""dbt models as Dagster assets: year-incremental marts partitioned by YEARS (one dbt run for a whole
backfill, the window passed in the environment) and cross-year marts rebuilt from everything stored."""
import json
import os
import shutil
import time

import dagster as dg
import psycopg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets
from psycopg import sql

from ...config.years import FIRST_YEAR, LAST_YEAR
from ...runtime import database, settings
from ..partitions import YEARS
from ..resources import Warehouse
from .project import dbt_project, manifest_path

MANIFEST = manifest_path()
# several warehouse tables belong to one Dagster asset (batches writes seven), hence duplicate source keys
TRANSLATOR = DagsterDbtTranslator(settings=DagsterDbtTranslatorSettings(
    enable_asset_checks=True, enable_duplicate_source_asset_keys=True))


def _env(warehouse: Warehouse, years: tuple[int, int] = (FIRST_YEAR, LAST_YEAR)) -> None:
    """dbt reads the warehouse and the year window from AQUAMIND_DBT_*: derive them, on every run,
    from the warehouse this run writes to and the run's partitions (the window is read at execution
    only, so it never forces a re-parse: macros/year_window.sql); and keep only the newest dbt target
    folders (dagster-dbt writes one per invocation)."""
    env = settings.export_env(database.resolve(start_embedded=False, env={settings.WAREHOUSE_URL_VAR: warehouse.url()}))
    settings.export_to_environ({**{k: v for k, v in env.items() if k.startswith("AQUAMIND_DBT_")},
                                "AQUAMIND_DBT_MIN_YEAR": str(years[0]), "AQUAMIND_DBT_MAX_YEAR": str(years[1]),
                                "AQUAMIND_DBT_THREADS": str(max(os.cpu_count() or 1, 1))})
    runs = sorted((p for p in dbt_project.project_dir.joinpath("target").glob("dbt_*-*") if p.is_dir()),
                  key=lambda p: p.stat().st_mtime)
    for old in runs[:-10]:
        shutil.rmtree(old, ignore_errors=True)


def history_complete(conn: psycopg.Connection) -> bool:
    """Every yearly asset's stored years run from the first year without a gap (what references can span)."""
    if conn.execute("SELECT to_regclass('meta.partition_load')").fetchone()[0] is None:
        return True
    rows = conn.execute("""SELECT asset, count(*), max(year) FROM meta.partition_load
                           WHERE year > 0 GROUP BY asset""").fetchall()
    return all(n == last - FIRST_YEAR + 1 for _, n, last in rows)


def _build(context: dg.AssetExecutionContext, dbt: DbtCliResource, complete: bool):
    """`dbt build` of the asset's selection. Every invocation passes the same --vars (only
    history_complete, which changes only when a year is missing), so consecutive builds reuse the
    parsed project instead of re-parsing it."""
    return dbt.cli(["build", "--vars", json.dumps({"history_complete": complete})], context=context).stream()


def analyze_partitioned_parents(conn: psycopg.Connection, log=None) -> float:
    """ANALYZE every year-partitioned warehouse table as a whole. Loads analyze the partitions they
    write, but the planner sizes joins over the parent (what the staging views read) from the
    parent's own statistics, which only this builds; without them dbt's joins over the readings get
    estimates off by orders of magnitude and sort instead of hash."""
    t0 = time.perf_counter()
    parents = conn.execute("""SELECT n.nspname, c.relname FROM pg_class c
                              JOIN pg_namespace n ON n.oid = c.relnamespace
                              WHERE c.relkind = 'p' AND n.nspname NOT IN ('pg_catalog', 'analytics')
                              ORDER BY 1, 2""").fetchall()
    for schema, name in parents:
        conn.execute(sql.SQL("ANALYZE {}.{}").format(sql.Identifier(schema), sql.Identifier(name)))
    dt_s = time.perf_counter() - t0
    if log:
        log(f"analyzed {len(parents)} partitioned tables in {dt_s:.1f} s")
    return dt_s


@dbt_assets(manifest=MANIFEST, project=dbt_project, select="tag:year_incremental", partitions_def=YEARS,
            backfill_policy=dg.BackfillPolicy.single_run(), dagster_dbt_translator=TRANSLATOR,
            name="dbt_year_incremental")
def dbt_year_incremental(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse):
    window = context.partition_time_window
    years = (window.start.year, window.end.year - 1)
    _env(warehouse, years)
    with warehouse.connect() as conn:
        analyze_partitioned_parents(conn, context.log.info)
        complete = history_complete(conn)
    context.log.info(f"dbt build of the year-incremental models for {years[0]}-{years[1]}")
    yield from _build(context, dbt, complete)


@dbt_assets(manifest=MANIFEST, project=dbt_project, select="tag:staging tag:intermediate resource_type:seed",
            dagster_dbt_translator=TRANSLATOR, name="dbt_staging")
def dbt_staging(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse):
    """Staging views and seeds: upstream of both mart groups. Their relationship tests fail a build
    only when the stored history is complete: with a year loaded alone (2020 without 2019), rows
    pointing at a batch or assignment of an unloaded year are expected, and are warnings."""
    _env(warehouse)
    with warehouse.connect() as conn:
        complete = history_complete(conn)
    if not complete:
        context.log.warning(f"the stored years do not run without a gap from {FIRST_YEAR}: relationship tests warn")
    yield from _build(context, dbt, complete)


@dbt_assets(manifest=MANIFEST, project=dbt_project, select="tag:cross_year", dagster_dbt_translator=TRANSLATOR,
            name="dbt_cross_year")
def dbt_cross_year(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse):
    """Per-batch FCR, survival, lifecycle, summaries, data quality: rebuilt from every stored year
    (data-quality violations warn instead of failing when the stored years have a gap)."""
    _env(warehouse)
    with warehouse.connect() as conn:
        complete = history_complete(conn)
    yield from _build(context, dbt, complete)


def dbt_resource() -> DbtCliResource:
    import sys
    from pathlib import Path

    exe = Path(sys.executable).with_name("dbt")
    return DbtCliResource(project_dir=dbt_project, dbt_executable=str(exe) if exe.exists() else shutil.which("dbt") or "dbt")
