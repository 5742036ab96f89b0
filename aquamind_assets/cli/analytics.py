"""dbt and the report from the CLI, through Dagster so the runs show in the UI: staging views,
the year-incremental models over the generated window in one dbt run, then the cross-year marts
the report and the dbt docs."""
from __future__ import annotations

import contextlib
import os
import sys
import time

import dagster as dg

from ..config.years import FIRST_YEAR, LAST_YEAR
from ..defs import report
from ..defs.dbt.assets import dbt_cross_year, dbt_resource, dbt_staging, dbt_year_incremental
from ..defs.dbt.docs import dbt_docs
from ..defs.resources import Warehouse
from ..runtime import settings
from . import runs
from .errors import CliError


def _logged(log_path, label: str, step):
    """Run `step` with dagster-dbt's echo of dbt's output (it writes to sys.stdout) appended to
    the log file; a failed step prints that step's error lines in full, then fails as before."""
    start = log_path.stat().st_size if log_path.exists() else 0
    try:
        with open(log_path, "a") as log, contextlib.redirect_stdout(log):
            print(f"===== {label} {time.strftime('%Y-%m-%d %H:%M:%S')}", flush=True)
            return step()
    except CliError:
        with open(log_path) as f:
            f.seek(start)
            lines = [ln.rstrip() for ln in f if any(w in ln for w in ("ERROR", "FAIL", "rror"))]
        print("\n".join(lines[-40:]) or f"(no error lines; see {log_path})", file=sys.stderr)
        raise


def build_and_report(warehouse: Warehouse, years: tuple[int, int] = (FIRST_YEAR, LAST_YEAR),
                     out: str | None = None) -> int:
    if out:
        settings.export_to_environ({settings.REPORT_DIR_VAR: os.path.abspath(out)})
    resources = {"warehouse": warehouse, "dbt": dbt_resource()}
    steps = [("dbt staging", [dbt_staging], {}),
             ("dbt years", [dbt_year_incremental], {"dagster/asset_partition_range_start": str(years[0]),
                                                    "dagster/asset_partition_range_end": str(years[1])}),
             ("dbt marts", [dbt_cross_year], {}), ("report", [report.report, dbt_docs], {})]
    log_path = settings.dagster_home() / "logs" / "dbt.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    print(f"  dbt's own output: {log_path}", flush=True)
    for label, assets, tags in steps:
        t0 = time.perf_counter()
        result = _logged(log_path, label, lambda: runs.run(assets, resources, label=label, tags=tags))
        checks = result.get_asset_check_evaluations()
        failed = [c.check_name for c in checks if not c.passed and c.severity == dg.AssetCheckSeverity.ERROR]
        warned = [c.check_name for c in checks if not c.passed and c.severity != dg.AssetCheckSeverity.ERROR]
        print(f"  {label:<10} {time.perf_counter() - t0:8.1f} s  {len(checks)} dbt tests"
              + (f", FAILED: {', '.join(failed)}" if failed else "")
              + (f", {len(warned)} warned (stored years with a gap)" if warned else ""), flush=True)
    print(f"report: {report.report_dir() / 'report.html'}")
    return 0
