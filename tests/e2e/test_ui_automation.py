"""A year rewritten from the UI refreshes what is downstream of it by itself (defs/automation.py).

The warehouse is first what `aquamind generate` leaves (static, two years, dbt, the report), made in
this test's process; then `aquamind ui` starts (webserver and daemon, as a user runs it), and 2016's yearly assets are backfilled
through the webserver's GraphQL API, as the UI's Materialize button does. Then, with no other
request: 2016's year models show stale, the daemon's automation sensor refreshes 2016's dbt year models
(and not 2015's) in one run, then the cross-year marts and the report.
"""
from __future__ import annotations

import time

import dagster as dg
import pytest

from conftest import aquamind_ui, gqlh

pytestmark = pytest.mark.slow
YEARS = ("2015", "2016")
REWRITTEN = "2016"
SENSOR = "refresh_marts_and_report"
AUTOMATION_TIMEOUT = 300  # s: ticks every 15 s, then the dbt year run, the marts and the report


def _generate_in_process(instance: dg.DagsterInstance) -> None:
    from aquamind_assets.definitions import YEARLY_ASSETS, defs
    from aquamind_assets.defs import report, static
    from aquamind_assets.defs.dbt.assets import dbt_cross_year, dbt_resource, dbt_staging, dbt_year_incremental

    resources = {"warehouse": defs.resources["warehouse"], "dbt": dbt_resource()}
    steps = [([static.static_assets], None, {}),
             *(([*YEARLY_ASSETS], y, {}) for y in YEARS),
             ([dbt_staging], None, {}),
             ([dbt_year_incremental], None, {"dagster/asset_partition_range_start": YEARS[0],
                                             "dagster/asset_partition_range_end": YEARS[-1]}),
             ([dbt_cross_year], None, {}), ([report.report], None, {})]
    for assets, partition, tags in steps:
        result = dg.materialize(assets, instance=instance, partition_key=partition, resources=resources,
                                raise_on_error=False, tags={"aquamind/source": "e2e", **tags},
                                run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}})
        assert result.success, [e.event_specific_data.error.message[:300] for e in result.all_events if e.is_step_failure]


def _newest(gql, key: list[str], partition: str | None = None) -> float:
    mats = gql.latest_materializations(key, [partition] if partition else None)
    return float(mats[0]["timestamp"]) if mats else 0.0


def test_a_year_rewritten_from_the_ui_refreshes_its_models_the_marts_and_the_report(e2e_env, dagster_instance, tmp_path):
    _generate_in_process(dagster_instance)
    with aquamind_ui(e2e_env, tmp_path / "ui.log") as ui:  # started only now: nothing to refresh before this
        _rewrite_a_year_and_watch(ui, dagster_instance)


def _rewrite_a_year_and_watch(ui, dagster_instance):
    from aquamind_assets.definitions import YEARLY_ASSETS
    from aquamind_assets.defs.dbt.assets import dbt_cross_year, dbt_year_incremental

    gql = ui.gql
    year_models = sorted(k.path for k in dbt_year_incremental.keys)
    cross_models = sorted(k.path for k in dbt_cross_year.keys)
    before = {tuple(k): {y: _newest(gql, k, y) for y in YEARS} for k in year_models}
    deadline = time.monotonic() + 120  # the sensor's first tick marks everything so far as handled
    while not [t for t in gql.sensor_ticks(SENSOR) if t["status"] in ("SUCCESS", "SKIPPED")]:
        assert time.monotonic() < deadline, f"the automation sensor never ticked: {gql.sensor_ticks(SENSOR)}"
        time.sleep(2)

    backfill = gql.launch_backfill([a.key.to_user_string() for a in YEARLY_ASSETS], [REWRITTEN], title="e2e: 2016")
    bf = gql.wait_backfill(backfill, timeout=240, alive=ui.dead)
    assert bf["status"] == "COMPLETED_SUCCESS", bf
    rewritten_at = max(_newest(gql, [a.key.to_user_string()], REWRITTEN) for a in YEARLY_ASSETS)
    # Dagster marks a year model's partition stale when its year's upstream changed; it does not carry
    # staleness from partitioned assets into unpartitioned ones (the cross-year marts, the report)
    stale_between = {k[-1]: gql.stale_status(k, REWRITTEN) for k in year_models}

    def refreshed_after_rewrite() -> bool:
        return _newest(gql, ["report"]) > rewritten_at and all(_newest(gql, k, REWRITTEN) > rewritten_at
                                                               for k in year_models)

    deadline = time.monotonic() + AUTOMATION_TIMEOUT
    while not refreshed_after_rewrite():
        assert time.monotonic() < deadline, f"no refreshed year models and report {AUTOMATION_TIMEOUT} s after " \
                                            f"the backfill; ticks: {gql.sensor_ticks(SENSOR, 5)}"
        assert not ui.dead(), ui.dead()
        time.sleep(3)

    assert set(stale_between.values()) == {"STALE"}, stale_between  # shown until automation caught up
    refreshed = {tuple(k): [m for m in gql.latest_materializations(k, [REWRITTEN]) if float(m["timestamp"]) > rewritten_at]
                 for k in year_models}
    assert all(len(ms) == 1 for ms in refreshed.values()), refreshed  # each 2016 model once
    assert len({m["runId"] for ms in refreshed.values() for m in ms}) == 1  # all of them in one dbt run
    for k in year_models:  # 2015 is left as it was
        assert _newest(gql, k, YEARS[0]) == before[tuple(k)][YEARS[0]], k
    for k in cross_models:
        assert _newest(gql, k) > rewritten_at, k
    from aquamind_assets.defs import report
    assert _newest(gql, ["report"]) > max(_newest(gql, list(k.path)) for k in report.report.dependency_keys)
    reports = [m for m in gql.latest_materializations(["report"]) if float(m["timestamp"]) > rewritten_at]
    assert len(reports) == 1, reports  # once, after the marts: not before the year models and again after
    assert gql.stale_status(["report"]) == "FRESH"
    runs = {m["runId"] for k in [*year_models, *cross_models, ["report"]] for m in gql.latest_materializations(k)[:1]}
    for run_id in runs:  # launched by the automation sensor, not by a user
        assert gqlh.tag(gql.run(run_id), "dagster/sensor_name") == "refresh_marts_and_report" or \
            gqlh.tag(gql.run(run_id), "dagster/from_automation_condition") == "true", run_id
