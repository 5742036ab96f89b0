"""dbt models as Dagster assets: year-incremental marts partitioned by YEARS (one dbt run for a whole
backfill, the window passed in the environment) and cross-year marts rebuilt from everything stored."""
import functools
import json
import os
import shutil
import time
from pathlib import Path

import dagster as dg
import psycopg
from dagster_dbt import DbtCliResource, dbt_assets

from ...config.years import FIRST_YEAR, LAST_YEAR
from ...runtime import database, settings
from ...warehouse.statistics import analyze_tables, partitioned_tables
from ..partitions import YEARS
from ..resources import Warehouse
from .project import dbt_project, manifest_path
from .translator import TRANSLATOR

MANIFEST = manifest_path()
PARTIAL_PARSE = "partial_parse.msgpack"


def dbt_env(warehouse: Warehouse, years: tuple[int, int] = (FIRST_YEAR, LAST_YEAR)) -> None:
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


def project_vars(complete: bool) -> list[str]:
    """The --vars of every invocation against a warehouse: the same ones each time, so dbt's partial
    parse stays valid from one invocation to the next (docs included)."""
    return ["--vars", json.dumps({"history_complete": complete})]


def _build(context: dg.AssetExecutionContext, dbt: DbtCliResource, complete: bool, full_refresh: bool = False):
    """`dbt build` of the asset's selection. Every invocation passes the same --vars (only
    history_complete, which changes only when a year is missing; --full-refresh is a flag, not a
    var), and the parse it saves becomes the next invocation's starting point, so consecutive
    builds against one warehouse reuse the parsed project instead of re-parsing it."""
    invocation = dbt.cli(["build", *project_vars(complete)] + (["--full-refresh"] if full_refresh else []),
                         context=context)
    yield from invocation.stream()
    _keep_partial_parse(Path(invocation.target_path))


def _keep_partial_parse(invocation_target: Path) -> None:
    """dagster-dbt starts every invocation from the project's target/partial_parse.msgpack, but dbt
    saves the refreshed parse in the invocation's own folder: without copying it back, a parse
    made for other vars or another database (dbt hashes the connection into it) is re-done on
    every invocation. os.replace keeps the shared file whole when two builds finish at once."""
    saved = invocation_target / PARTIAL_PARSE
    shared = dbt_project.project_dir / dbt_project.target_path / PARTIAL_PARSE
    if not saved.exists() or (shared.exists() and shared.stat().st_mtime >= saved.stat().st_mtime):
        return
    tmp = shared.with_name(f"{PARTIAL_PARSE}.{os.getpid()}.tmp")
    shutil.copyfile(saved, tmp)
    os.replace(tmp, shared)


@functools.cache
def tables_read_by_models() -> frozenset[tuple[str, str]]:
    """(schema, table) of every source a model reads beyond its staging view (from the manifest):
    the tables whose planner statistics matter to the marts. The raw readings are not among them:
    the marts read their daily rollup."""
    manifest = json.loads(MANIFEST.read_text())
    children, read = manifest["child_map"], set()
    for source_id, source in manifest["sources"].items():
        staging = [c for c in children.get(source_id, []) if c.startswith("model.")]
        if any(g.startswith("model.") for c in staging for g in children.get(c, [])):
            read.add((source["schema"], source["name"]))
    return frozenset(read)


def analyze_model_inputs(warehouse: Warehouse, log=None) -> float:
    """Statistics of the partitioned tables the marts read, as wholes (warehouse/statistics.py)."""
    with warehouse.connect() as conn:
        parents = partitioned_tables(conn)
    tables = [t for t in parents if t in tables_read_by_models()]
    dt_s = analyze_tables(warehouse.url(), tables)
    if log:
        log(f"analyzed {len(tables)} of {len(parents)} partitioned tables (those the marts read) in {dt_s:.1f} s")
    return dt_s


@dbt_assets(manifest=MANIFEST, project=dbt_project, select="tag:year_incremental", partitions_def=YEARS,
            backfill_policy=dg.BackfillPolicy.single_run(), dagster_dbt_translator=TRANSLATOR,
            name="dbt_year_incremental")
def dbt_year_incremental(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse):
    window = context.partition_time_window
    years = (window.start.year, window.end.year - 1)
    dbt_env(warehouse, years)
    analyze_model_inputs(warehouse, context.log.info)
    with warehouse.connect() as conn:
        complete = history_complete(conn)
    # a window of every year replaces every row: rebuilding the tables is then cheaper than
    # deleting and re-inserting all of them (which writes each row twice and keeps the dead ones)
    full = years == (FIRST_YEAR, LAST_YEAR)
    context.log.info(f"dbt build of the year-incremental models for {years[0]}-{years[1]}"
                     + (" (full refresh: the window is every year)" if full else ""))
    yield from _build(context, dbt, complete, full_refresh=full)


@dbt_assets(manifest=MANIFEST, project=dbt_project, select="tag:staging tag:intermediate resource_type:seed",
            dagster_dbt_translator=TRANSLATOR, name="dbt_staging")
def dbt_staging(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse):
    """Staging views and seeds: upstream of both mart groups. Their relationship tests fail a build
    only when the stored history is complete: with a year loaded alone (2020 without 2019), rows
    pointing at a batch or assignment of an unloaded year are expected, and are warnings."""
    dbt_env(warehouse)
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
    dbt_env(warehouse)
    with warehouse.connect() as conn:
        complete = history_complete(conn)
    yield from _build(context, dbt, complete)


class _VenvDbt(DbtCliResource):
    """The dbt executable installed beside this interpreter: its version is the installed
    dbt-core's, read from the package metadata instead of from a `dbt --version` subprocess, which
    dagster-dbt would otherwise start (about two seconds) for every run."""

    @functools.cached_property
    def _cli_version(self):
        from importlib.metadata import version as installed

        from packaging.version import parse

        return parse(installed("dbt-core"))


def dbt_resource() -> DbtCliResource:
    import sys

    exe = Path(sys.executable).with_name("dbt")
    if exe.exists():
        return _VenvDbt(project_dir=dbt_project, dbt_executable=str(exe))
    return DbtCliResource(project_dir=dbt_project, dbt_executable=shutil.which("dbt") or "dbt")
