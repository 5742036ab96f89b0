"""dbt and the report from the CLI, through Dagster so the runs show in the UI: staging views,
the year-incremental models over the generated window in one dbt run, then the cross-year marts
and the report."""
from __future__ import annotations

import time

from ..scenario import FIRST_YEAR, LAST_YEAR


# the CLI prints its own progress and one-line errors; Dagster's event log (UI) keeps the detail
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def build_and_report(years: tuple[int, int] = (FIRST_YEAR, LAST_YEAR), out: str | None = None) -> int:
    import os

    import dagster as dg

    from ..cli import CliError
    from .commands import failure_line
    from ..definitions import defs
    from ..defs import report
    from ..defs.dbt.assets import dbt_cross_year, dbt_staging, dbt_year_incremental

    if out:
        os.environ["AQUAMIND_REPORT_DIR"] = os.path.abspath(out)
    resources = {"warehouse": defs.resources["warehouse"], "dbt": defs.resources["dbt"]}
    steps = [("dbt staging", [dbt_staging], {}),
             ("dbt years", [dbt_year_incremental], {"dagster/asset_partition_range_start": str(years[0]),
                                                    "dagster/asset_partition_range_end": str(years[1])}),
             ("dbt marts", [dbt_cross_year], {}), ("report", [report.report], {})]
    for label, assets, tags in steps:
        t0 = time.perf_counter()
        result = dg.materialize(assets, instance=dg.DagsterInstance.get(), resources=resources,
                                tags={"aquamind/source": "cli", **tags}, raise_on_error=False, run_config=QUIET)
        if not result.success:
            raise CliError(f"{label} failed (run {result.run_id[:8]}): {failure_line(result)}")
        checks = result.get_asset_check_evaluations()
        failed = [c.check_name for c in checks if not c.passed and c.severity == dg.AssetCheckSeverity.ERROR]
        warned = [c.check_name for c in checks if not c.passed and c.severity != dg.AssetCheckSeverity.ERROR]
        print(f"  {label:<10} {time.perf_counter() - t0:8.1f} s  {len(checks)} dbt tests"
              + (f", FAILED: {', '.join(failed)}" if failed else "")
              + (f", {len(warned)} warned (stored years with a gap)" if warned else ""), flush=True)
    print(f"report: {report.report_dir() / 'report.html'}")
    return 0
