"""A UI backfill of the yearly assets, timed: what a user gets from "Materialize -> all partitions".

Through the webserver's GraphQL API only (what the UI sends), against the configured database
(`aquamind_assets.database.resolve()`: AQUAMIND_DATABASE_URL, else the embedded server) and
DAGSTER_HOME: materializes the static assets (one run), launches one asset backfill of every
yearly asset over the years, waits for the daemon to finish it and records, per run, the partition,
status, queue/start/end times, duration, rows and per-asset seconds, plus the total wall time.
Writes benchmarks/results/backfill_<scale>_<timestamp>.json and prints a summary.

    .venv/bin/python benchmarks/backfill.py [--scale small] [--years 2015-2024]
        [--url http://127.0.0.1:3000]     # use a running webserver + daemon (their scale applies)
        [--executor default|in_process]   # default: the Definitions' executor (in-process)
        [--no-static] [--seed N] [--timeout 3600]

Without --url it starts dagster-webserver and dagster-daemon itself (own process groups, logs
under $DAGSTER_HOME/benchmark_logs/) with AQUAMIND_SCALE=<scale>, and stops them at the end. It
refuses to start a second daemon on an instance whose daemon is alive; pass that UI's --url.
Every year of the warehouse named is replaced (as the UI backfill would).
"""
from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"

from aquamind_assets.runtime import database, settings  # noqa: E402
from aquamind_assets.config.scenario import ScenarioError, load_scenario, parse_years  # noqa: E402


def _helper():
    """tests/e2e/ui_client.py (client + process control), by path: as `graphql` it would shadow graphql-core."""
    name = "aquamind_e2e_graphql"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / "e2e" / "ui_client.py")
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


gqlh = _helper()


def iso(ts: float | None) -> str | None:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).isoformat(timespec="milliseconds") if ts else None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", default="small", help="scale preset (tiny|small|full|full2x); default small")
    p.add_argument("--years", default="2015-2024", help="year range, e.g. 2015-2024 (default)")
    p.add_argument("--seed", type=int, default=None, help="scenario seed (default: the scenario's)")
    p.add_argument("--url", default=None, help="webserver of a running webserver+daemon to use instead")
    p.add_argument("--port", type=int, default=None, help="port for the self-started webserver (default: free)")
    p.add_argument("--executor", choices=["default", "in_process"], default="default",
                   help="run executor: the Definitions' default (in-process) or forced in_process via run config")
    p.add_argument("--no-static", action="store_true", help="skip the static assets' run (already loaded)")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait for the backfill")
    return p


def _machine(warehouse_url: str) -> dict:
    import dagster
    import psutil
    import psycopg

    try:
        with psycopg.connect(warehouse_url, autocommit=True, connect_timeout=5) as conn:
            pg = conn.execute("SHOW server_version").fetchone()[0]
    except psycopg.Error:
        pg = None
    return {"host": platform.node(), "cores": os.cpu_count(),
            "memory_gib": round(psutil.virtual_memory().total / 2**30, 1), "python": platform.python_version(),
            "postgres": pg, "dagster": dagster.__version__, "platform": platform.platform()}


def _instance_config(home: Path) -> dict:
    import yaml

    try:
        cfg = yaml.safe_load((home / "dagster.yaml").read_text()) or {}
    except OSError:
        return {}
    return {"concurrency": cfg.get("concurrency"), "run_retries": cfg.get("run_retries")}


def _live_daemon(home: Path, max_age: float = 90.0) -> float | None:
    """Seconds since the newest daemon heartbeat on this instance if one is fresh, else None.

    Opening the instance here also creates Dagster's tables before two processes race to do it.
    """
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)) as instance:
        beats = instance.get_daemon_heartbeats()
    if not beats:
        return None
    age = time.time() - max(hb.timestamp for hb in beats.values())
    return age if age < max_age else None


def _run_record(gql, run: dict) -> dict:
    """One run: queue wait (created -> launched), process boot (launched -> RUN_START), duration
    (RUN_START -> end), and per asset its rows, own seconds (metadata) and step wall seconds."""
    events = gql.run_events(run["runId"])
    mats = gql.materializations(events)
    steps: dict[str, dict] = {}
    launched = None
    for e in events:
        ts = float(e["timestamp"]) / 1000.0
        if e["__typename"] == "RunStartingEvent" and launched is None:
            launched = ts
        key = e.get("stepKey")
        if not key:
            continue
        s = steps.setdefault(key, {})
        if e["__typename"] in ("StepWorkerStartingEvent", "ExecutionStepStartEvent"):
            s.setdefault("begin", ts)
        if e["__typename"] in ("ExecutionStepSuccessEvent", "ExecutionStepFailureEvent", "ExecutionStepSkippedEvent"):
            s["end"] = ts
    assets, own_by_step = {}, {}
    for m in mats:
        md = m["metadata"]
        step = steps.get(m["step"] or m["asset"], {})
        assets[m["asset"]] = {
            "rows": md.get("dagster/row_count"), "asset_s": md.get("duration_s"),
            "step_s": round(step["end"] - step["begin"], 3) if "begin" in step and "end" in step else None,
            "rows_per_s": md.get("rows_per_s"), "peak_rss_mib": md.get("peak_rss_mib")}
        # a multi-asset (the static one) reports its one wall time on each of its assets
        own_by_step[m["step"]] = max(own_by_step.get(m["step"], 0.0), md.get("duration_s") or 0.0)
    start, end, created = run.get("startTime"), run.get("endTime"), run.get("creationTime")
    return {
        "partition": gqlh.tag(run, "dagster/partition"), "run_id": run["runId"], "status": run["status"],
        "created": iso(created), "launched": iso(launched), "start": iso(start), "end": iso(end),
        "queued_s": round(launched - created, 3) if launched and created else None,
        "boot_s": round(start - launched, 3) if start and launched else None,
        "duration_s": round(end - start, 3) if start and end else None,
        "rows": sum(a["rows"] or 0 for a in assets.values()),
        "asset_seconds_sum": round(sum(own_by_step.values()), 3),
        "assets": assets,
        "failures": gql.step_failures(run["runId"], events) if run["status"] != "SUCCESS" else [],
        "scale": next((m["metadata"].get("scale") for m in mats if m["metadata"].get("scale")), None),
        "_start": start, "_end": end, "_created": created,
    }


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        scenario = load_scenario(os.environ.get("AQUAMIND_SCENARIO"), scale=args.scale, seed=args.seed)
        first, last = parse_years(args.years)
        s = database.resolve()
        database.check_reachable(s)
        database.ensure_databases(s)
    except (ScenarioError, database.DatabaseUnreachable, settings.InvalidDatabaseURL) as e:
        print(f"backfill.py: error: {e}", file=sys.stderr)
        return 2
    years = [str(y) for y in range(first, last + 1)]

    env = {**os.environ, **settings.export_env(s)}
    if not args.url:
        env.update({"AQUAMIND_SCALE": scenario.scale, "AQUAMIND_SEED": str(scenario.seed)})
    os.environ.update(env)  # this process opens the same instance (heartbeat check)
    home = settings.dagster_home()

    from aquamind_assets.definitions import YEARLY_ASSETS

    keys = [a.key.to_user_string() for a in YEARLY_ASSETS]
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    print(f"backfill benchmark: scale {scenario.scale}, years {first}-{last}, executor {args.executor}, "
          f"warehouse {settings.redact(s.warehouse_url)}, DAGSTER_HOME {home}", flush=True)

    stack = None
    t0 = time.monotonic()
    bid = None
    gql = None
    try:
        if args.url:
            gql = gqlh.DagsterGraphQL(args.url)
            gql.wait_until_up(timeout=30)
            print(f"using the running webserver at {args.url} (its own AQUAMIND_SCALE applies)", flush=True)
        else:
            age = _live_daemon(home)
            if age is not None:
                print(f"backfill.py: error: a dagster-daemon is already running on this instance (heartbeat "
                      f"{age:.0f} s ago); pass --url of its webserver instead", file=sys.stderr)
                return 2
            log_dir = home / "benchmark_logs" / stamp
            stack = gqlh.DagsterStack.start(env=env, log_dir=log_dir, port=args.port, repo=ROOT)
            gql = stack.wait_until_up(timeout=300)
            print(f"started dagster-webserver on {stack.url} and dagster-daemon (logs in {log_dir}) "
                  f"in {time.monotonic() - t0:.1f} s", flush=True)
        alive = stack.dead if stack else None
        # "default" is the Definitions' executor (in-process since the 3x measurement); "in_process"
        # forces it through run config, as the first measurement did against a multiprocess default
        run_config = gqlh.IN_PROCESS if args.executor == "in_process" else None

        static = None
        if not args.no_static:
            ts = time.monotonic()
            rid = gql.launch_assets_run(["reference_data", "infrastructure"], tags={"aquamind/source": "benchmark"},
                                        run_config=run_config)
            run = gql.wait_run(rid, timeout=1800, alive=alive)
            static = {**{k: v for k, v in _run_record(gql, run).items() if not k.startswith("_")},
                      "wall_s": round(time.monotonic() - ts, 3)}
            print(f"static assets: {run['status']} in {static['wall_s']:.1f} s (run {static['duration_s']} s)", flush=True)
            if run["status"] != "SUCCESS":
                raise SystemExit(f"static assets failed: {static['failures']}")

        t_launch = time.monotonic()
        launched_at = time.time()
        bid = gql.launch_backfill(keys, years, title=f"benchmark: yearly assets {scenario.scale} {first}-{last}",
                                  tags={"aquamind/source": "benchmark"}, run_config=run_config)
        print(f"backfill {bid} launched: {len(keys)} assets x {len(years)} years", flush=True)

        def progress(bf: dict) -> None:
            counts: dict[str, int] = {}
            for r in bf["runs"]:
                counts[r["status"]] = counts.get(r["status"], 0) + 1
            print(f"  {time.monotonic() - t_launch:7.1f} s  {bf['status']}  "
                  + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())), flush=True)

        bf = gql.wait_backfill(bid, timeout=args.timeout, poll=2.0, alive=alive, progress=progress)
        wall = time.monotonic() - t_launch
        observed_end = time.time()
        runs = sorted((_run_record(gql, r) for r in bf["runs"]), key=lambda r: (r["partition"] or "", r["_created"] or 0))
    except KeyboardInterrupt:
        if bid and gql:
            try:
                gql.cancel_backfill(bid)
                print(f"\ninterrupted: backfill {bid} canceled", file=sys.stderr)
            except Exception as e:  # noqa: BLE001 - best effort on the way out
                print(f"\ninterrupted: could not cancel backfill {bid}: {e}", file=sys.stderr)
        return 130
    finally:
        if stack is not None:
            killed = stack.stop(timeout=30)
            if killed:
                print(f"stopped the stack (needed SIGKILL for {killed})")

    starts = [r["_start"] for r in runs if r["_start"]]
    ends = [r["_end"] for r in runs if r["_end"]]
    ok = [r for r in runs if r["status"] == "SUCCESS"]
    rows = sum(r["rows"] for r in ok)
    durations = [r["duration_s"] for r in runs if r["duration_s"] is not None]
    result = {
        "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": _machine(s.warehouse_url),
        "warehouse": settings.redact(s.warehouse_url), "dagster_home": str(home),
        "scale": scenario.scale if not args.url else (next((r["scale"] for r in ok if r["scale"]), None) or "unknown"),
        "seed": scenario.seed if not args.url else None,
        "years": f"{first}-{last}", "assets": keys,
        "executor": "in_process" if args.executor == "in_process" else "default (the Definitions' executor)",
        "stack": args.url or "self-started dagster-webserver + dagster-daemon",
        "instance": _instance_config(home),
        "static": static,
        "backfill": {
            "id": bid, "status": bf["status"], "runs": len(runs),
            "launched": iso(launched_at), "observed_done": iso(observed_end),
            "wall_s": round(wall, 3),
            "first_run_created_after_s": round(min(r["_created"] for r in runs) - launched_at, 3) if runs else None,
            "runs_span_s": round(max(ends) - min(starts), 3) if starts and ends else None,
            "done_after_last_run_s": round(observed_end - max(ends), 3) if ends else None,
        },
        "totals": {
            "runs": len(runs), "succeeded": len(ok), "failed": len(runs) - len(ok), "rows": rows,
            "run_seconds_sum": round(sum(durations), 3),
            "run_seconds_median": round(sorted(durations)[len(durations) // 2], 3) if durations else None,
            "asset_seconds_sum": round(sum(r["asset_seconds_sum"] for r in ok), 3),
            "rows_per_s_wall": round(rows / wall) if wall else None,
        },
        "runs": [{k: v for k, v in r.items() if not k.startswith("_") and k != "scale"} for r in runs],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"backfill_{result['scale']}_{stamp}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")

    print(f"\n{'year':<6}{'status':<9}{'queued s':>10}{'boot s':>8}{'run s':>9}{'assets s':>10}{'rows':>13}")
    for r in result["runs"]:
        print(f"{r['partition'] or '?':<6}{r['status']:<9}{r['queued_s'] or 0:>10.1f}{r['boot_s'] or 0:>8.1f}"
              f"{r['duration_s'] or 0:>9.1f}{r['asset_seconds_sum']:>10.1f}{r['rows']:>13,}")
        for f in r["failures"][:3]:
            print(f"      {f.splitlines()[0][:110]}")
    b, t = result["backfill"], result["totals"]
    print(f"backfill {b['id']} {b['status']}: {t['succeeded']}/{t['runs']} runs, {t['rows']:,} rows, wall "
          f"{b['wall_s']:.1f} s (first run created after {b['first_run_created_after_s']} s, runs span "
          f"{b['runs_span_s']} s, done {b['done_after_last_run_s']} s after the last run); "
          f"run time {t['run_seconds_sum']:.0f} s in total, {t['asset_seconds_sum']:.0f} s of it in the assets")
    print(f"wrote {out.relative_to(ROOT)}")
    return 0 if bf["status"] == "COMPLETED_SUCCESS" else 1


if __name__ == "__main__":
    sys.exit(main())
