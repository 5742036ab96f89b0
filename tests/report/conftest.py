"""The report's fixture: a tiny warehouse for 2015-2017 in this module's fresh database, built through
Dagster like the CLI builds it (static, one run per year of every yearly asset, then dbt staging,
the year-incremental models over the range in one run, the cross-year marts, the report), with
the report written to a temporary AQUAMIND_REPORT_DIR. Everything set here is undone afterwards.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
from fixture_helpers import dbt_target

YEARS = (2015, 2016, 2017)


@dataclass
class BuiltReport:
    db_url: str
    report_dir: Path
    result: dg.ExecuteInProcessResult

    @property
    def html_path(self) -> Path:
        return self.report_dir / "report.html"


@pytest.fixture(scope="module")
def built_report(db_url, tmp_path_factory):
    from aquamind_assets.runtime import database, settings
    from aquamind_assets.definitions import YEARLY_ASSETS, defs
    from aquamind_assets.defs import report, static
    from aquamind_assets.defs.dbt.assets import dbt_cross_year, dbt_staging, dbt_year_incremental
    from aquamind_assets.cli.runs import QUIET

    home = tmp_path_factory.mktemp("dagster_home")
    report_dir = tmp_path_factory.mktemp("report")
    dbt_env = settings.export_env(database.resolve(start_embedded=False, env={"AQUAMIND_DATABASE_URL": db_url}),
                                  env={"DAGSTER_HOME": str(home)})
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AQUAMIND_DATABASE_URL", db_url)
        mp.setenv("AQUAMIND_SCALE", "tiny")
        mp.setenv("DAGSTER_HOME", str(home))
        mp.setenv("AQUAMIND_REPORT_DIR", str(report_dir))
        # each dbt invocation writes a target dir of its own: keep them out of dbt_project/target
        mp.setenv("DBT_TARGET_PATH", str(dbt_target(tmp_path_factory)))
        for var in ("AQUAMIND_SCENARIO", "AQUAMIND_SEED", "AQUAMIND_REPLACE_ALL"):
            mp.delenv(var, raising=False)
        for k, v in dbt_env.items():  # set here so the dbt assets' _env() never writes os.environ
            if k.startswith("AQUAMIND_DBT_"):
                mp.setenv(k, v)
        resources = {"warehouse": defs.resources["warehouse"], "dbt": defs.resources["dbt"]}
        with dg.instance_for_test(temp_dir=str(home)) as instance:
            def run(assets, partition_key=None, tags=None):
                return dg.materialize(assets, instance=instance, resources=resources, partition_key=partition_key,
                                      tags={"aquamind/source": "test", **(tags or {})}, raise_on_error=True,
                                      run_config=QUIET)

            run([static.static_assets])
            for y in YEARS:
                run(YEARLY_ASSETS, partition_key=str(y))
            run([dbt_staging])
            run([dbt_year_incremental], tags={"dagster/asset_partition_range_start": str(YEARS[0]),
                                              "dagster/asset_partition_range_end": str(YEARS[-1])})
            run([dbt_cross_year])
            result = run([report.report])
            yield BuiltReport(db_url=db_url, report_dir=report_dir, result=result)
