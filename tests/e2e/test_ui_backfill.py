"""Operate the platform like its users: the UI's backfill, a failed year, "Re-execute from failure".

Real dagster-webserver and dagster-daemon processes on a fresh warehouse (scale tiny), driven only
through the webserver's GraphQL API (what the UI sends):

1. the static assets are materialized in the same instance (in-process, as `aquamind generate`
   does, while the two processes start);
2. a fault file makes `batches` 2016 fail; a backfill of every yearly asset for 2015-2017 ends
   COMPLETED_FAILED with 2015 and 2017 loaded and nothing of 2016 (a failed year blocks no other);
3. the fault is removed and the backfill re-executed FROM_FAILURE: only 2016 runs again;
4. then every (asset, year) has exactly one load record, each table's year partition holds exactly
   the rows the record counts, and every asset check of the final runs passed.

The backfill is launched exactly as the UI does, with no run config: the Definitions' executor
(in-process, one process per run) is what a user gets.
"""
from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

import psycopg
import pytest
from psycopg import sql


def _helper():
    """tests/e2e/ui_client.py, by path (as `graphql` it would shadow graphql-core); conftest loaded it."""
    name = "aquamind_e2e_graphql"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("ui_client.py"))
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


gqlh = _helper()

YEARS = ["2015", "2016", "2017"]
FAILED_YEAR = "2016"
BACKFILL_TIMEOUT = 240  # s; a daemon tick is ~30 s, a tiny year ~10 s per run


def _yearly():
    """The yearly assets a failing `batches` year holds up: batches and those downstream of it (the
    farm's infrastructure changes do not wait for the fish, so they are not in this scenario)."""
    import dagster as dg

    from aquamind_assets.definitions import YEARLY_ASSETS, defs

    graph, batches = defs.resolve_asset_graph(), dg.AssetKey("batches")
    out = {}
    for a in YEARLY_ASSETS:
        if a.key != batches and batches not in graph.get(a.key).parent_keys:
            continue
        key = a.key.to_user_string()
        out[key] = {"tables": [t.strip() for t in a.metadata_by_key[a.key]["tables"].split(",")],
                    "checks": {c.name for c in a.check_specs}}
    return out


def _runs_by_year(backfill: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in backfill["runs"]:
        out.setdefault(gqlh.tag(r, "dagster/partition"), []).append(r)
    return out


def _load_records(db_url: str) -> dict[tuple[str, int], dict]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        rows = conn.execute("SELECT asset, year, rows, checksum, loaded_at FROM meta.partition_load").fetchall()
    out: dict[tuple[str, int], dict] = {}
    for asset, year, counts, checksum, loaded_at in rows:
        assert (asset, year) not in out, f"two load records for {asset} {year}"
        out[(asset, year)] = {"rows": counts, "checksum": checksum, "loaded_at": loaded_at}
    return out


def _partition_count(conn, qualified: str, year: int) -> int:
    from aquamind_assets.defs.loading import TABLES

    table = TABLES[qualified]
    part = table.partition_name(year)
    if conn.execute("SELECT to_regclass(%s)", [f"{table.schema}.{part}"]).fetchone()[0] is not None:
        q = sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(table.schema), sql.Identifier(part))
        return conn.execute(q).fetchone()[0]
    # a hypertable (TimescaleDB) has no year partitions: count the year in the parent
    q = sql.SQL("SELECT count(*) FROM {}.{} WHERE year = %s").format(sql.Identifier(table.schema),
                                                                     sql.Identifier(table.name))
    return conn.execute(q, [year]).fetchone()[0]


def _materialize_static(instance):
    import dagster as dg

    from aquamind_assets.definitions import defs
    from aquamind_assets.defs import static

    return dg.materialize([static.static_assets], instance=instance, raise_on_error=False,
                          resources={"warehouse": defs.resources["warehouse"]}, tags={"aquamind/source": "e2e"},
                          run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}})


@pytest.mark.slow
def test_ui_backfill_failed_year_then_reexecute_from_failure(e2e_env, dagster_instance, dagster_stack):
    t_start = time.monotonic()
    timings: dict[str, float] = {}
    yearly = _yearly()
    keys = list(yearly)
    stack = dagster_stack

    def progress(bf: dict) -> None:  # shown with -s: where the time goes
        print(f"  {time.monotonic() - t_start:5.0f} s  backfill {bf['id']} {bf['status']}: " + ", ".join(
            f"{gqlh.tag(r, 'dagster/partition')} {r['status']}" for r in sorted(bf["runs"], key=lambda r: r["creationTime"])))

    def ctx() -> str:  # what to read when something goes wrong
        return (f"\n--- webserver log tail ---\n{stack.log_tail('webserver')}"
                f"\n--- daemon log tail ---\n{stack.log_tail('daemon')}")

    # 1. static assets into the same instance, while the webserver and daemon start
    static = _materialize_static(dagster_instance)
    assert static.success, "static assets failed: " + "; ".join(
        str(e.event_specific_data.error.message) for e in static.all_events if e.is_step_failure)
    timings["static"] = time.monotonic() - t_start
    gql = stack.wait_until_up(timeout=180)
    timings["stack_up"] = time.monotonic() - t_start
    assert gql.repository() == ("aquamind", "__repository__")

    # 2. the UI's backfill of the yearly assets for three years, with 2016's batches failing
    fault = e2e_env.fault("batches", FAILED_YEAR)
    fault.parent.mkdir(parents=True, exist_ok=True)
    fault.touch()
    timings["launch"] = time.monotonic() - t_start
    backfill_id = gql.launch_backfill(keys, YEARS, title="e2e: yearly assets 2015-2017")
    bf = gql.wait_backfill(backfill_id, timeout=BACKFILL_TIMEOUT, alive=stack.dead, progress=progress)
    timings["backfill"] = time.monotonic() - t_start
    runs = _runs_by_year(bf)
    statuses = {y: [r["status"] for r in rs] for y, rs in runs.items()}
    assert bf["status"] == "COMPLETED_FAILED", (bf["status"], statuses, bf["error"], ctx())
    assert statuses == {"2015": ["SUCCESS"], "2016": ["FAILURE"], "2017": ["SUCCESS"]}, (statuses, ctx())
    failures = gql.step_failures(runs[FAILED_YEAR][0]["runId"])
    assert any(f.startswith("batches:") and f"injected fault for batches {FAILED_YEAR}" in f for f in failures), failures
    assert gqlh.tag(runs[FAILED_YEAR][0], "dagster/will_retry") != "true"  # asset failures are not run-retried
    per_asset = {"/".join(s["assetKey"]["path"]): s for s in bf["assetBackfillData"]["assetBackfillStatuses"]}
    assert set(per_asset) == set(keys)
    for key, s in per_asset.items():
        assert (s["numPartitionsTargeted"], s["numPartitionsMaterialized"], s["numPartitionsFailed"],
                s["numPartitionsInProgress"]) == (3, 2, 1, 0), (key, s)
    for key in keys:  # nothing of 2016 materialized, downstream of batches included
        mats = gql.materializations_by_partition(key, YEARS)
        assert {y: len(m) for y, m in mats.items()} == {"2015": 1, "2016": 0, "2017": 1}, (key, mats)
    first = _load_records(e2e_env.db_url)
    assert set(first) == {("static", 0)} | {(k, int(y)) for k in keys for y in YEARS if y != FAILED_YEAR}, sorted(first)

    # 3. fix the cause, then the backfill page's "Re-execute from failure"
    fault.unlink()
    retry_id = gql.reexecute_backfill(backfill_id, "FROM_FAILURE")
    bf2 = gql.wait_backfill(retry_id, timeout=BACKFILL_TIMEOUT, alive=stack.dead, progress=progress)
    timings["reexecution"] = time.monotonic() - t_start
    runs2 = _runs_by_year(bf2)
    assert bf2["status"] == "COMPLETED_SUCCESS", (bf2["status"], bf2["error"], ctx())
    assert {y: [r["status"] for r in rs] for y, rs in runs2.items()} == {FAILED_YEAR: ["SUCCESS"]}, runs2
    assert gqlh.tag(runs2[FAILED_YEAR][0], "dagster/parent_backfill_id") == backfill_id
    assert bf2["partitionNames"] == [FAILED_YEAR]

    # 4a. the warehouse: one load record per (asset, year); each year partition holds exactly its rows
    final = _load_records(e2e_env.db_url)
    assert set(final) == {("static", 0)} | {(k, int(y)) for k in keys for y in YEARS}, sorted(final)
    for (asset, year), rec in first.items():  # FROM_FAILURE left the good years alone
        assert final[(asset, year)] == rec, f"{asset} {year} was reloaded by the re-execution"
    mismatches = []
    with psycopg.connect(e2e_env.db_url, autocommit=True) as conn:
        for key in keys:
            for y in YEARS:
                rec = final[(key, int(y))]
                assert set(rec["rows"]) == set(yearly[key]["tables"]), (key, y, rec["rows"])
                for table, n in rec["rows"].items():
                    got = _partition_count(conn, table, int(y))
                    if got != int(n):
                        mismatches.append(f"{table} {y}: {got} rows stored, load record says {n}")
        assert sum(int(n) for k in keys for y in YEARS for n in final[(k, int(y))]["rows"].values()) > 0
    assert not mismatches, mismatches

    # 4b. Dagster: each (asset, year) materialized exactly once, by the year's final run, whose
    # asset checks all ran and passed
    final_runs = {"2015": runs["2015"][0]["runId"], "2016": runs2["2016"][0]["runId"],
                  "2017": runs["2017"][0]["runId"]}
    for key in keys:
        mats = gql.materializations_by_partition(key, YEARS)
        assert {y: [m["runId"] for m in ms] for y, ms in mats.items()} == {y: [final_runs[y]] for y in YEARS}, key
    expected_checks = {(k, c) for k, v in yearly.items() for c in v["checks"]}
    for y, run_id in final_runs.items():
        events = gql.run_events(run_id)
        evals = gql.check_evaluations(events)
        seen = [(e["asset"], e["check"]) for e in evals]
        assert sorted(seen) == sorted(expected_checks), (y, set(expected_checks) ^ set(seen))
        failed = [e for e in evals if not e["success"]]
        assert not failed, (y, failed)
        assert all(e["target_run"] == run_id for e in evals), (y, [e for e in evals if e["target_run"] != run_id])
        assert all(e["partition"] == y for e in evals), (y, [e for e in evals if e["partition"] != y])  # filed under its year
        mats = gql.materializations(events)
        assert sorted(m["asset"] for m in mats) == sorted(keys) and {m["partition"] for m in mats} == {y}, (y, mats)
        for m in mats:  # the row count Dagster shows is the load record's
            assert m["metadata"]["dagster/row_count"] == sum(int(n) for n in final[(m["asset"], int(y))]["rows"].values())
    # and no check of these assets ever failed (the injected fault fails before any rule runs)
    for key, check in sorted(expected_checks):
        for e in gql.check_executions(key, check, limit=25):
            assert e["status"] != "FAILED", (key, check, e)

    timings["total"] = time.monotonic() - t_start
    print("e2e timings (s since start): " + ", ".join(f"{k} {v:.0f}" for k, v in timings.items()))
