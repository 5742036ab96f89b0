"""dbt and the report from the CLI, through Dagster so the runs show in the UI: staging views,
the year-incremental models over the generated window in one dbt run, then the cross-year marts
and the report."""
from __future__ import annotations

import os
import time

import dagster as dg

from ..config.years import FIRST_YEAR, LAST_YEAR
from ..defs import report
from ..defs.dbt.assets import dbt_cross_year, dbt_resource, dbt_staging, dbt_year_incremental
from ..defs.resources import Warehouse
from ..runtime import settings
from . import runs


def build_and_report(warehouse: Warehouse, years: tuple[int, int] = (FIRST_YEAR, LAST_YEAR),
                     out: str | None = None) -> int:
    if out:
        settings.export_to_environ({settings.REPORT_DIR_VAR: os.path.abspath(out)})
    resources = {"warehouse": warehouse, "dbt": dbt_resource()}
    steps = [("dbt staging", [dbt_staging], {}),
             ("dbt years", [dbt_year_incremental], {"dagster/asset_partition_range_start": str(years[0]),
                                                    "dagster/asset_partition_range_end": str(years[1])}),
             ("dbt marts", [dbt_cross_year], {}), ("report", [report.report], {})]
    for label, assets, tags in steps:
        t0 = time.perf_counter()
        result = runs.run(assets, resources, label=label, tags=tags)
        checks = result.get_asset_check_evaluations()
        failed = [c.check_name for c in checks if not c.passed and c.severity == dg.AssetCheckSeverity.ERROR]
        warned = [c.check_name for c in checks if not c.passed and c.severity != dg.AssetCheckSeverity.ERROR]
        print(f"  {label:<10} {time.perf_counter() - t0:8.1f} s  {len(checks)} dbt tests"
              + (f", FAILED: {', '.join(failed)}" if failed else "")
              + (f", {len(warned)} warned (stored years with a gap)" if warned else ""), flush=True)
    print(f"report: {report.report_dir() / 'report.html'}")
    return 0
