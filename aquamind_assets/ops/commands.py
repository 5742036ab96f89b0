"""The commands that drive Dagster: generate (with --resume), status, validate, report.

generate materializes through Dagster's own API against the persistent instance, one run for
the static assets and one run per year, so every run is visible (and re-executable) in the UI.
"""
from __future__ import annotations

import os
import shutil
import sys
import time

from ..scenario import load_scenario, parse_years


# the CLI prints its own progress and one-line errors; Dagster's event log (UI) keeps the detail
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def _instance():
    import dagster as dg

    return dg.DagsterInstance.get()


def _check_disk(scenario, years) -> None:
    """Refuse a large run in one line when free space is under 1.5x the estimate."""
    from ..plan_cache import ensure_built, get_plan, release
    from ..sim.readings import estimate_readings

    from .. import settings
    from ..cli import CliError

    t0 = time.perf_counter()
    ensure_built(scenario)  # raises if the simulation's child process fails
    print(f"plan: simulated or found in the cache in {time.perf_counter() - t0:.1f} s", flush=True)
    plan = get_plan(scenario)
    rows = estimate_readings(plan, years, scenario.scale_spec.cadence_multiplier)
    need = rows * 75 + len(plan.daily["day"]) * 120  # bytes per stored row incl. headers (measured)
    del plan
    release()
    free = shutil.disk_usage(settings.dagster_home()).free
    print(f"estimate: {rows:,} readings for {years[0]}-{years[-1]}, ~{need / 2**30:.1f} GiB on disk; "
          f"{free / 2**30:.1f} GiB free")
    if free < 1.5 * need:
        raise CliError(f"not enough disk: ~{need / 2**30:.1f} GiB needed (x1.5 margin), "
                       f"{free / 2**30:.1f} GiB free; free space or choose a smaller --scale/--years")


def failure_line(result) -> str:
    """The innermost cause of a failed run's first failed step, as one line."""
    failures = [e for e in result.all_events if e.is_step_failure]
    if not failures:
        return "run failed"
    err = failures[0].event_specific_data.error
    while err.cause is not None and err.cls_name in ("DagsterExecutionStepExecutionError", "RetryRequestedFromPolicy",
                                                     "DagsterMaxRetriesExceededError"):
        err = err.cause
    lines = [ln.strip() for ln in err.message.strip().splitlines() if ln.strip()]
    return lines[0] if lines else err.cls_name


def _materialize(assets, partition_key=None, label="", selection=None):
    import dagster as dg

    from ..definitions import defs
    from ..cli import CliError

    t0 = time.perf_counter()
    result = dg.materialize(assets, instance=_instance(), partition_key=partition_key, selection=selection,
                            resources={"warehouse": defs.resources["warehouse"]}, raise_on_error=False, run_config=QUIET,
                            tags={"aquamind/source": "cli"})
    dt = time.perf_counter() - t0
    rows = sum(int(m.metadata["dagster/row_count"].value) for m in
               (e.materialization for e in result.get_asset_materialization_events()) if "dagster/row_count" in m.metadata)
    if not result.success:
        raise CliError(f"{label} failed (run {result.run_id[:8]}): {failure_line(result)}")
    print(f"  {label:<18} {rows:>12,} rows {dt:8.1f} s {rows / max(dt, 1e-9):>12,.0f} rows/s", flush=True)
    return result


READINGS = "environmental_readings"


def _year(job: tuple[int, bool]) -> str:
    """Worker entry: one Dagster run for one year, of the readings or of every other yearly asset;
    returns '' or the error line."""
    from ..definitions import YEARLY_ASSETS
    from ..cli import CliError

    year, readings = job
    keys = [a.key for a in YEARLY_ASSETS if (a.key.to_user_string() == READINGS) == readings]
    try:
        _materialize(YEARLY_ASSETS, partition_key=str(year), selection=keys,
                     label=f"{year} {'readings' if readings else 'operations'}")
        return ""
    except CliError as e:
        return str(e)


def _materialize_years(years: list[int], workers: int) -> None:
    """Two phases. Years are independent: the operations (every yearly asset but the readings) run
    `workers` years at a time, each in its own process (spawned, so it maps the cached plan rather
    than inheriting a copy). Then the readings, one year at a time: a readings load keeps both cores
    busy by itself (the server parses COPY on one, the producer renders and checks on the other), so
    running two at once only halves each one's rate. A failed year does not stop the others."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    from ..cli import CliError

    failed: dict[int, str] = {}

    def phases(map_operations, run_one):
        for y, err in zip(years, map_operations(_year, [(y, False) for y in years])):
            if err:
                failed[y] = err
        for y in years:
            if y not in failed and (err := run_one((y, True))):
                failed[y] = err

    if workers <= 1 or len(years) <= 1:
        phases(map, _year)
    else:
        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
            phases(pool.map, lambda job: pool.submit(_year, job).result())
    if failed:
        first = failed[min(failed)]
        raise CliError(f"{len(failed)} of {len(years)} year(s) failed; first: {first} "
                       "(rerun with --resume to complete the rest)")


def _done_years(years, scenario_hash) -> set[int]:
    """Years whose every yearly asset has a load record of this scenario and no failed last run."""
    import psycopg

    from ..definitions import YEARLY_ASSETS
    from ..warehouse.status import partition_status

    names = {a.key.to_user_string() for a in YEARLY_ASSETS}
    with psycopg.connect(os.environ["AQUAMIND_DATABASE_URL"], autocommit=True) as conn:
        loaded = {(r["asset"], r["year"]) for r in partition_status(conn) if r["scenario_hash"] == scenario_hash}
    failed = _failed_partitions(years)
    return {y for y in years if all((n, y) in loaded for n in names) and str(y) not in failed}


def _failed_partitions(years) -> set[str]:
    """Partitions whose latest Dagster run failed (the plan's checkpoint/resume)."""
    import dagster as dg

    inst = _instance()
    out = set()
    for y in years:
        runs = inst.get_runs(dg.RunsFilter(tags={"dagster/partition": str(y)}), limit=1)
        if runs and runs[0].status == dg.DagsterRunStatus.FAILURE:
            out.add(str(y))
    return out


def generate(args, connect_env) -> int:
    scenario = load_scenario(args.scenario, scale=args.scale, seed=args.seed)
    first, last = parse_years(args.years)
    years = list(range(first, last + 1))
    connect_env()
    os.environ.update({"AQUAMIND_SCALE": scenario.scale, "AQUAMIND_SEED": str(scenario.seed)})
    if args.scenario:
        os.environ["AQUAMIND_SCENARIO"] = os.path.abspath(args.scenario)
    if args.replace_all:
        os.environ["AQUAMIND_REPLACE_ALL"] = "1"
    t0 = time.perf_counter()
    print(f"aquamind generate: scale {scenario.scale}, seed {scenario.seed}, years {first}-{last}, "
          f"scenario {scenario.data_hash()}", flush=True)
    _check_disk(scenario, years)  # simulates the plan first, while this process is still small
    from ..defs import static
    if args.resume:
        done = _done_years(years, scenario.data_hash())
        print(f"resume: {len(done)} of {len(years)} years already loaded and checked: {sorted(done)}")
        years = [y for y in years if y not in done]
    _materialize([static.static_assets], label="static")
    _materialize_years(years, args.workers)
    if not args.no_dbt:
        from .dbt_run import build_and_report

        build_and_report(years=(first, last))
    print(f"done in {time.perf_counter() - t0:.1f} s; open the UI with `aquamind ui`")
    return 0


def status(args, connect_env) -> int:
    import psycopg

    from ..definitions import YEARLY_ASSETS
    from ..warehouse.status import partition_status

    connect_env()
    with psycopg.connect(os.environ["AQUAMIND_DATABASE_URL"], autocommit=True) as conn:
        loads = {(r["asset"], r["year"]): r for r in partition_status(conn)}
    inst = _instance()
    bad = 0
    print(f"{'asset':<24}{'year':>6}{'rows':>14}  {'warehouse':<10}{'dagster':<10}")
    for a in YEARLY_ASSETS:
        name = a.key.to_user_string()
        materialized = inst.get_materialized_partitions(a.key)
        for y in range(2015, 2025):
            rec = loads.get((name, y))
            in_dagster = str(y) in materialized
            flag = "" if bool(rec) == in_dagster else "  <- disagree"
            bad += bool(flag)
            print(f"{name:<24}{y:>6}{(rec['total_rows'] if rec else 0):>14,}  {'loaded' if rec else '-':<10}"
                  f"{'yes' if in_dagster else '-':<10}{flag}")
    return 1 if bad else 0


def validate(args, connect_env) -> int:
    import psycopg

    from ..rules.registry import all_rules
    from ..warehouse.checks import run_checks
    from ..warehouse.status import partition_status

    connect_env()
    failed = 0
    with psycopg.connect(os.environ["AQUAMIND_DATABASE_URL"], autocommit=True) as conn:
        loads = partition_status(conn)
        with conn.cursor() as cur:
            for asset, year, rules in all_rules(loads):
                for r in run_checks(cur, rules, {"year": year, "asset": asset}):
                    if not r.passed:
                        failed += 1
                        print(f"FAIL {asset} {year or 'all'}: {r.message()}")
    print(f"validate: {failed} failed rule evaluation(s)" if failed else "validate: every rule passed")
    return 1 if failed else 0


def run(args, connect_env) -> int:
    if args.command == "generate":
        return generate(args, connect_env)
    if args.command == "status":
        return status(args, connect_env)
    if args.command == "validate":
        return validate(args, connect_env)
    if args.command == "report":
        from .dbt_run import build_and_report

        connect_env()
        return build_and_report(out=args.out)
    print(f"unknown command {args.command}", file=sys.stderr)
    return 2
