"""dbt models as Dagster assets: year-incremental marts partitioned by YEARS (one dbt run for a whole
backfill, the window passed as vars) and cross-year marts rebuilt from everything stored."""
import json

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from ... import settings
from ..partitions import YEARS
from .project import dbt_project, ensure_manifest

MANIFEST = ensure_manifest()
# several warehouse tables belong to one Dagster asset (batches writes seven), hence duplicate source keys
TRANSLATOR = DagsterDbtTranslator(settings=DagsterDbtTranslatorSettings(
    enable_asset_checks=True, enable_duplicate_source_asset_keys=True))


def _env() -> None:
    """dbt reads the warehouse from AQUAMIND_DBT_*: derive them, on every run, from the one database
    setting; and keep only the newest dbt target folders (dagster-dbt writes one per invocation)."""
    import os
    import shutil

    if "AQUAMIND_DATABASE_URL" in os.environ:
        env = settings.export_env(settings.resolve(start_embedded=False))
        os.environ.update({k: v for k, v in env.items() if k.startswith("AQUAMIND_DBT_")})
    runs = sorted((p for p in dbt_project.project_dir.joinpath("target").glob("dbt_*-*") if p.is_dir()),
                  key=lambda p: p.stat().st_mtime)
    for old in runs[:-10]:
        shutil.rmtree(old, ignore_errors=True)


def history_complete() -> bool:
    """Every yearly asset's stored years run from 2015 without a gap (what references can span)."""
    import os

    import psycopg

    if "AQUAMIND_DATABASE_URL" not in os.environ:
        return True
    with psycopg.connect(os.environ["AQUAMIND_DATABASE_URL"], autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('meta.partition_load')").fetchone()[0] is None:
            return True
        rows = conn.execute("""SELECT asset, count(*), max(year) FROM meta.partition_load
                               WHERE year > 0 GROUP BY asset""").fetchall()
    return all(n == last - 2014 for _, n, last in rows)


def analyze_partitioned_parents(log=None) -> float:
    """ANALYZE every year-partitioned warehouse table as a whole. Loads analyze the partitions they
    write, but the planner sizes joins over the parent (what the staging views read) from the
    parent's own statistics, which only this builds; without them dbt's joins over 135 M readings get
    estimates off by 10^4 and sort instead of hash (minutes instead of seconds at full scale)."""
    import os
    import time

    import psycopg
    from psycopg import sql

    if "AQUAMIND_DATABASE_URL" not in os.environ:
        return 0.0
    t0 = time.perf_counter()
    with psycopg.connect(os.environ["AQUAMIND_DATABASE_URL"], autocommit=True) as conn:
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
def dbt_year_incremental(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    _env()
    window = context.partition_time_window
    dbt_vars = {"min_year": window.start.year, "max_year": window.end.year - 1}
    analyze_partitioned_parents(context.log.info)
    context.log.info(f"dbt build of the year-incremental models for {dbt_vars}")
    yield from dbt.cli(["build", "--vars", json.dumps(dbt_vars)], context=context).stream()


@dbt_assets(manifest=MANIFEST, project=dbt_project, select="tag:staging tag:intermediate resource_type:seed",
            dagster_dbt_translator=TRANSLATOR, name="dbt_staging")
def dbt_staging(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """Staging views and seeds: upstream of both mart groups. Their relationship tests fail a build
    only when the stored history is complete: with a year loaded alone (2020 without 2019), rows
    pointing at a batch or assignment of an unloaded year are expected, and are warnings."""
    _env()
    complete = history_complete()
    if not complete:
        context.log.warning("the stored years do not run without a gap from 2015: relationship tests warn")
    yield from dbt.cli(["build", "--vars", json.dumps({"history_complete": complete})], context=context).stream()


@dbt_assets(manifest=MANIFEST, project=dbt_project, select="tag:cross_year", dagster_dbt_translator=TRANSLATOR,
            name="dbt_cross_year")
def dbt_cross_year(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """Per-batch FCR, survival, lifecycle, summaries, data quality: rebuilt from every stored year
    (data-quality violations warn instead of failing when the stored years have a gap)."""
    _env()
    yield from dbt.cli(["build", "--vars", json.dumps({"history_complete": history_complete()})],
                       context=context).stream()


def dbt_resource() -> DbtCliResource:
    import shutil
    import sys
    from pathlib import Path

    exe = Path(sys.executable).with_name("dbt")
    return DbtCliResource(project_dir=dbt_project, dbt_executable=str(exe) if exe.exists() else shutil.which("dbt") or "dbt")
