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


@dbt_assets(manifest=MANIFEST, project=dbt_project, select="tag:year_incremental", partitions_def=YEARS,
            backfill_policy=dg.BackfillPolicy.single_run(), dagster_dbt_translator=TRANSLATOR,
            name="dbt_year_incremental")
def dbt_year_incremental(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    _env()
    window = context.partition_time_window
    dbt_vars = {"min_year": window.start.year, "max_year": window.end.year - 1}
    context.log.info(f"dbt build of the year-incremental models for {dbt_vars}")
    yield from dbt.cli(["build", "--vars", json.dumps(dbt_vars)], context=context).stream()


@dbt_assets(manifest=MANIFEST, project=dbt_project, select="tag:staging tag:intermediate resource_type:seed",
            dagster_dbt_translator=TRANSLATOR, name="dbt_staging")
def dbt_staging(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """Staging views and seeds: upstream of both mart groups."""
    _env()
    yield from dbt.cli(["build"], context=context).stream()


@dbt_assets(manifest=MANIFEST, project=dbt_project, select="tag:cross_year", dagster_dbt_translator=TRANSLATOR,
            name="dbt_cross_year")
def dbt_cross_year(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """Per-batch FCR, survival, lifecycle, summaries, data quality: rebuilt from every stored year."""
    _env()
    yield from dbt.cli(["build"], context=context).stream()


def dbt_resource() -> DbtCliResource:
    import shutil
    import sys
    from pathlib import Path

    exe = Path(sys.executable).with_name("dbt")
    return DbtCliResource(project_dir=dbt_project, dbt_executable=str(exe) if exe.exists() else shutil.which("dbt") or "dbt")
