"""`aquamind generate`: the static assets, then every year (operations, then readings), then dbt and
the report; `--resume` skips the years already loaded and checked under this scenario.

Dagster is imported only once the plan is simulated (in a child process), so the parent stays
small while the simulation peaks.
"""
from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

from ..config.scenario import load_scenario, parse_years
from ..runtime import settings
from .connection import connect
from .errors import CliError

READINGS = "environmental_readings"


def _check_disk(scenario, years) -> None:
    """Refuse a large run in one line when free space is under 1.5x the estimate."""
    from ..runtime.plan_cache import ensure_built, get_plan, release
    from ..sim.readings import estimate_readings

    t0 = time.perf_counter()
    ensure_built(scenario)  # raises if the simulation's child process fails
    print(f"plan: simulated or found in the cache in {time.perf_counter() - t0:.1f} s", flush=True)
    plan = get_plan(scenario)
    rows = estimate_readings(plan, years, scenario.scale_spec.cadence_multiplier, scenario.scale_spec.readings_cadence)
    need = rows * 75 + len(plan.daily["day"]) * 120  # bytes per stored row incl. headers (measured)
    del plan
    release()
    free = shutil.disk_usage(settings.dagster_home()).free
    print(f"estimate: {rows:,} readings for {years[0]}-{years[-1]}, ~{need / 2**30:.1f} GiB on disk; "
          f"{free / 2**30:.1f} GiB free")
    if free < 1.5 * need:
        raise CliError(f"not enough disk: ~{need / 2**30:.1f} GiB needed (x1.5 margin), "
                       f"{free / 2**30:.1f} GiB free; free space or choose a smaller --scale/--years")


def _check_storage(url: str) -> str:
    """The storage path asked for (storage.py), refused in one line before anything is simulated or
    written when it is unknown, unavailable on the server, or not the warehouse's own."""
    import psycopg

    from ..warehouse import storage

    asked = settings.storage()
    with psycopg.connect(url, autocommit=True) as conn:
        storage.verify(conn, asked)
        storage.require_available(conn, asked)
    return asked


def _resources(url: str, choice: settings.RunChoice) -> dict:
    from ..defs.resources import Warehouse

    return {"warehouse": Warehouse.of(url, choice)}


def _year(job: tuple[int, bool, str, settings.RunChoice]) -> str:
    """Worker entry: one Dagster run for one year, of the readings or of every other yearly asset;
    returns '' or the error line."""
    from ..definitions import YEARLY_ASSETS
    from .runs import materialize

    year, readings, url, choice = job
    keys = [a.key for a in YEARLY_ASSETS if (a.key.to_user_string() == READINGS) == readings]
    try:
        materialize(YEARLY_ASSETS, _resources(url, choice), partition_key=str(year), selection=keys,
                    label=f"{year} {'readings' if readings else 'operations'}")
        return ""
    except CliError as e:
        return str(e)


def _materialize_years(years: list[int], workers: int, url: str, choice: settings.RunChoice) -> None:
    """Two phases. Years are independent: the operations (every yearly asset but the readings) run
    `workers` years at a time (with more than one, each in its own process, spawned so it maps the
    cached plan rather than inheriting a copy). Then the readings, one year at a time. Any load keeps
    two cores busy by itself (the server parses COPY on one, the producer renders and checks on the
    other), so two loads on two cores only halve each one's rate and double the memory: hence one
    worker per two cores by default. A failed year does not stop the others."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    failed: dict[int, str] = {}

    def phases(map_operations, run_one):
        for y, err in zip(years, map_operations(_year, [(y, False, url, choice) for y in years])):
            if err:
                failed[y] = err
        for y in years:
            if y not in failed and (err := run_one((y, True, url, choice))):
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


def _done_years(years, scenario_hash, url: str) -> set[int]:
    """Years whose every yearly asset has a load record of this scenario and no failed last run."""
    import psycopg

    from ..definitions import YEARLY_ASSETS
    from ..warehouse.status import partition_status

    names = {a.key.to_user_string() for a in YEARLY_ASSETS}
    with psycopg.connect(url, autocommit=True) as conn:
        loaded = {(r["asset"], r["year"]) for r in partition_status(conn) if r["scenario_hash"] == scenario_hash}
    failed = _failed_partitions(years)
    return {y for y in years if all((n, y) in loaded for n in names) and str(y) not in failed}


def _failed_partitions(years) -> set[str]:
    """Partitions whose latest Dagster run failed (the plan's checkpoint/resume)."""
    import dagster as dg

    from .runs import instance

    inst = instance()
    out = set()
    for y in years:
        found = inst.get_runs(dg.RunsFilter(tags={"dagster/partition": str(y)}), limit=1)
        if found and found[0].status == dg.DagsterRunStatus.FAILURE:
            out.add(str(y))
    return out


def generate(args) -> int:
    scenario = load_scenario(args.scenario, scale=args.scale, seed=args.seed)
    first, last = parse_years(args.years)
    years = list(range(first, last + 1))
    resolved = connect()
    url = resolved.warehouse_url
    choice = settings.RunChoice(scenario_file=args.scenario and os.path.abspath(args.scenario),
                                scale=scenario.scale, seed=scenario.seed, replace_all=bool(args.replace_all))
    storage = _check_storage(url)
    from ..runtime import generate_lease

    with generate_lease.hold():  # the UI's automation leaves dbt to this run meanwhile
        return _generate(args, scenario, years, url, choice, storage, embedded=resolved.source == "embedded")


def _generate(args, scenario, years: list[int], url: str, choice: settings.RunChoice, storage: str,
              embedded: bool = False) -> int:
    first, last = years[0], years[-1]
    t0 = time.perf_counter()
    print(f"aquamind generate: scale {scenario.scale}, seed {scenario.seed}, years {first}-{last}, "
          f"scenario {scenario.data_hash()}, storage {storage}", flush=True)
    _check_disk(scenario, years)  # simulates the plan first, while this process is still small
    from ..defs import static
    from .runs import materialize

    if args.resume:
        done = _done_years(years, scenario.data_hash(), url)
        print(f"resume: {len(done)} of {len(years)} years already loaded and checked: {sorted(done)}")
        years = [y for y in years if y not in done]
    materialize([static.static_assets], _resources(url, choice), label="static")
    _materialize_years(years, args.workers, url, choice)
    if not args.no_dbt:
        from ..defs.resources import Warehouse
        from .analytics import build_and_report

        build_and_report(Warehouse.of(url, choice), years=(first, last))
    print(f"done in {time.perf_counter() - t0:.1f} s")
    # the server resolved at the start: connect() exported its URL, so resolving again finds "env"
    print(closing_hint(embedded=embedded))
    return 0


def command_name() -> str:
    """How this shell can start `aquamind`: its name when PATH finds this one, else its path."""
    exe = Path(sys.executable).with_name("aquamind")
    if shutil.which("aquamind") == str(exe) or not exe.exists():
        return "aquamind"
    rel = os.path.relpath(exe)
    return str(exe) if rel.startswith("..") else os.path.join(".", rel)


def closing_hint(embedded: bool) -> str:
    cmd = command_name()
    lines = [f"open the UI: {cmd} ui   (then http://127.0.0.1:3000; Ctrl-C stops it)"]
    if embedded:
        lines.append(f"the embedded PostgreSQL keeps running with the data; stop it: {cmd} db down")
    return "\n".join(lines)
