"""A seeded chaos run: a yearly backfill through a Dagster daemon while faults fire, compared with
an undisturbed run of the same scenario (issue 21).

    .venv/bin/python benchmarks/chaos [--seed N] [--faults 24] [--scale small] [--years 2015-2024]
        [--time-limit 3600] [--lock-timeout 5]

It starts everything it hurts, on loopback: a throwaway PostgreSQL 15 cluster for the warehouses
(the chaos one and the reference), a dagster-webserver and dagster-daemon whose storage is a
database of its own on the system server (AQUAMIND_BENCH_ADMIN_URL, default 127.0.0.1:5432; only
created and dropped there). Faults, in a seeded order and at seeded moments, some armed to fire
when a load is in its COPY or commit: SIGKILL of a run worker, of the daemon, of the webserver; a
`pg_ctl restart -m fast` of the warehouse cluster; a client idle in a transaction holding a lock
the loads need (AQUAMIND_LOCK_TIMEOUT_S). Recovery is a user's (see driver.py). Then the stored
rows are compared, Dagster's view with the load records, and `aquamind validate` runs. Writes
benchmarks/results/chaos_<UTC timestamp>.json; exits non-zero unless nothing was lost or doubled.
"""
from __future__ import annotations

import argparse
import atexit
import collections
import datetime as dt
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql

from . import compare, faults
from .cluster import Cluster
from .driver import Chaos
from .stack import Stack

ROOT = compare.ROOT
RESULTS = ROOT / "benchmarks" / "results"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seed", type=int, default=None, help="scenario seed, also the fault plan's (default: the scenario's)")
    p.add_argument("--faults", type=int, default=24, help="faults to inject (default 24)")
    p.add_argument("--scale", default="small", help="scale preset (default small)")
    p.add_argument("--years", default="2015-2024", help="year range (default 2015-2024)")
    p.add_argument("--time-limit", type=float, default=3600.0,
                   help="seconds for the chaos phase: faults in the first 70%%, recovery until the end (default 3600)")
    p.add_argument("--lock-timeout", type=float, default=5.0, help="AQUAMIND_LOCK_TIMEOUT_S of the loads (default 5)")
    return p


class Resources:
    """Everything the run started, ended in reverse order once (finally and atexit)."""

    def __init__(self):
        self.undo: list = []

    def add(self, fn) -> None:
        self.undo.append(fn)

    def close(self) -> None:
        while self.undo:
            fn = self.undo.pop()
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - keep cleaning
                print(f"chaos: cleanup: {e}", flush=True)


def _dagster_db(admin: str, res: Resources) -> str:
    name = f"aquamind_chaos_{secrets.token_hex(4)}_dagster"
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop():
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    res.add(drop)
    return admin.rsplit("/", 1)[0] + "/" + name


def _years(spec: str) -> list[str]:
    from aquamind_assets.config.scenario import parse_years
    first, last = parse_years(spec)
    return [str(y) for y in range(first, last + 1)]


def _commit() -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()


def _reference(cluster: Cluster, tmp: Path, args) -> dict:
    url = cluster.create("aquamind_reference")
    env = compare.env_for(url, tmp / "reference_home", args.scale, args.seed)
    t = time.monotonic()
    rc, lines = compare.aquamind(env, "generate", "--scale", args.scale, "--seed", str(args.seed),
                                 "--years", args.years, "--no-dbt")
    if rc:
        raise SystemExit("chaos: the reference generate failed:\n" + "\n".join(lines[-15:]))
    print(f"reference: generate --scale {args.scale} --years {args.years} in {time.monotonic() - t:.0f} s", flush=True)
    return {"url": url, "home": tmp / "reference_home", "generate_s": round(time.monotonic() - t, 1)}


def run(args, admin: str | None = None) -> dict:
    """The whole chaos run; returns the result (also what the CI test asserts on)."""
    from aquamind_assets.definitions import YEARLY_ASSETS
    from aquamind_assets.warehouse.ddl import all_tables

    admin = admin or os.environ.get("AQUAMIND_BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    years, keys = _years(args.years), [a.key.to_user_string() for a in YEARLY_ASSETS]
    res = Resources()
    atexit.register(res.close)
    tmp = Path(tempfile.mkdtemp(prefix="aquamind-chaos-"))
    res.add(lambda: shutil.rmtree(tmp, ignore_errors=True))
    try:
        cluster = Cluster.start()
        res.add(cluster.remove)
        print(f"warehouse cluster on 127.0.0.1:{cluster.port} ({cluster.root})", flush=True)
        ref = _reference(cluster, tmp, args)
        url = cluster.create("aquamind_chaos")
        home = tmp / "chaos_home"
        home.mkdir()
        shutil.copytree(ref["home"] / "plan_cache", home / "plan_cache")  # the same plan, simulated once
        env = compare.env_for(url, home, args.scale, args.seed, _dagster_db(admin, res),
                              AQUAMIND_LOCK_TIMEOUT_S=str(args.lock_timeout))
        stack = Stack(env, tmp / "logs")
        res.add(stack.stop)
        static = stack.gql.wait_run(stack.gql.launch_assets_run(["reference_data", "infrastructure"]), timeout=900)
        if static["status"] != "SUCCESS":
            raise SystemExit(f"chaos: the static assets failed: {stack.gql.step_failures(static['runId'])}")
        stall_tables = sorted(t.qualified for t in all_tables() if t.yearly)
        plan = faults.plan(args.seed, args.faults, stall_tables, args.lock_timeout)
        t0 = time.monotonic()
        chaos = Chaos(stack, cluster, url, keys, years, args.seed, args.time_limit)
        chaos.launch(years, "every year")
        for fault in plan:
            if time.time() > chaos.deadline:
                break
            chaos.inject(fault)
        settled = chaos.settle()
        chaos_s = time.monotonic() - t0
        records = compare.load_records(url)
        view, latest = compare.dagster_view(stack, keys, years, records)
        validate_rc, validate_out = compare.aquamind(env, "validate")
        hashes = compare.stored(compare.stored_hashes(url), compare.stored_hashes(ref["url"]))
        ref_records = compare.load_records(ref["url"])
        same_records = {f"{a}/{y}" for (a, y), r in records.items() if ref_records.get((a, y), {}).get("checksum") == r["checksum"]}
        statuses = stack.partition_statuses(keys)
        run_status = {r["run"]: stack.gql.run(r["run"])["status"] for f in plan if f.log for r in f.log["runs_hit"]}
        fault_logs = [_with_recovery(f, latest, statuses, run_status) for f in plan if f.log]
        return _result(args, cluster, fault_logs, chaos, settled, chaos_s, hashes, view, validate_rc, validate_out,
                       ref, len(same_records), len(ref_records))
    finally:
        res.close()


def _with_recovery(fault: faults.Fault, latest: dict, statuses: dict, run_status: dict) -> dict:
    log = dict(fault.log)
    back = {"daemon": "restart_s", "webserver": "restart_s", "warehouse_restart": "restart_s"}.get(fault.kind)
    service_back = back is None or log.get(back) is not None
    log.update(compare.recovered(log, latest, statuses, run_status, service_back))
    log["at"] = dt.datetime.fromtimestamp(log["at"], dt.timezone.utc).isoformat(timespec="milliseconds")
    return log


def _result(args, cluster, logs, chaos, settled, chaos_s, hashes, view, validate_rc, validate_out, ref,
            same_records, ref_records) -> dict:
    holders = [{"table": h.table, "hold_s": h.hold_s, "acquired": h.acquired_at is not None,
                "released": h.released_at is not None, "error": h.error} for h in chaos.holders]
    by_kind = collections.Counter(f["kind"] for f in logs)
    return {
        "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "commit": _commit(),
        "seed": args.seed, "scale": args.scale, "years": args.years, "faults_planned": args.faults,
        "time_limit_s": args.time_limit, "lock_timeout_s": args.lock_timeout,
        "machine": {"cores": os.cpu_count(), "postgres": cluster.version()},
        "reference_generate_s": ref["generate_s"], "chaos_s": round(chaos_s, 1), "settled": settled,
        "faults": {"injected": len(logs), "by_kind": dict(sorted(by_kind.items())),
                   "during_copy_or_commit": sum(f["phase"] in ("copy", "commit") for f in logs),
                   "recovered": sum(f["recovered"] for f in logs)},
        "stored": hashes, "load_records_equal_to_reference": f"{same_records}/{ref_records}",
        "dagster_vs_load_records": view,
        "validate": {"exit": validate_rc, "tail": validate_out[-5:]},
        "stalled_holders": holders, "backfills": chaos.backfills, "recovery_actions": chaos.actions,
        "fault_log": logs,
    }


def summary(r: dict) -> str:
    f, s = r["faults"], r["stored"]
    kinds = ", ".join(f"{k} {n}" for k, n in f["by_kind"].items())
    return (f"faults injected: {f['injected']} ({kinds}); during a COPY or commit: {f['during_copy_or_commit']}; "
            f"recovered: {f['recovered']}/{f['injected']}\n"
            f"stored rows: {s['rows']:,} (reference {s['reference_rows']:,}) in {s['table_years']} table-years; "
            f"rows lost: {s['rows_lost']}, rows duplicated: {s['rows_duplicated']}; stored-row hashes "
            f"{'equal' if s['hashes_equal'] else 'DIFFER: ' + ', '.join(s['hash_differs'][:5])}\n"
            f"Dagster vs load records: {'agree' if r['dagster_vs_load_records']['agree'] else 'DISAGREE'} "
            f"({r['dagster_vs_load_records']['compared']} asset-years); validate exit {r['validate']['exit']}; "
            f"settled {r['settled']} after {r['chaos_s']} s")


def ok(r: dict) -> bool:
    s, f = r["stored"], r["faults"]
    return (r["settled"] and s["hashes_equal"] and not s["rows_lost"] and not s["rows_duplicated"]
            and f["recovered"] == f["injected"] and r["dagster_vs_load_records"]["agree"] and r["validate"]["exit"] == 0)


def check_args(args) -> str | None:
    """The seed resolved to the scenario's when not given; a one-line refusal for a bad knob, else None."""
    from aquamind_assets.config.scenario import ScenarioError, load_scenario
    try:
        args.seed = load_scenario(os.environ.get("AQUAMIND_SCENARIO"), scale=args.scale, seed=args.seed).seed
        _years(args.years)
    except ScenarioError as e:
        return str(e)
    if args.faults < 1 or args.time_limit <= 0 or args.lock_timeout <= 0:
        return "--faults, --time-limit and --lock-timeout must be positive, e.g. --faults 24 --time-limit 3600"
    return None


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if (refusal := check_args(args)):
        print(f"chaos: error: {refusal}", flush=True)
        return 2
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    result = run(args)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"chaos_{stamp}.json"
    out.write_text(json.dumps(result, indent=1, default=str) + "\n")
    print(summary(result))
    print(f"wrote {out.relative_to(ROOT)}")
    return 0 if ok(result) else 1
