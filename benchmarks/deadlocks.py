"""Concurrent year loads against the server's deadlock counter: `aquamind generate` on fresh databases.

Each run gets a new warehouse database (and its `<name>_dagster` database) on the server of
AQUAMIND_TEST_ADMIN_URL (default postgresql://postgres@127.0.0.1:5432/postgres) and a new
DAGSTER_HOME whose plan cache is seeded once per scale, then runs `aquamind generate` with the
given workers. Deadlocks are counted twice: PostgreSQL's own per-database counter
(pg_stat_database.deadlocks of both databases) and the "deadlock detected" lines the server log
gained during the run, where the log is readable (pg_current_logfile(), else
/var/log/postgresql/*.log). Log lines are attributed to a run by the database in their prefix (the server may be shared);
lines of other databases are counted apart. Writes benchmarks/results/deadlocks_<timestamp>.json
and prints a line per run.

    .venv/bin/python benchmarks/deadlocks.py [--scale small] [--runs 5:2,2:4] [--keep]

--runs is COUNT:WORKERS[,COUNT:WORKERS...]: the default is five runs at 2 workers, then two at 4.
"""
from __future__ import annotations

import argparse
import datetime as dt
import glob
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
AQUAMIND = ROOT / ".venv" / "bin" / "aquamind"


def _url(admin: str, dbname: str) -> str:
    return urlunsplit(urlsplit(admin)._replace(path=f"/{dbname}"))


def _log_files(admin: str) -> list[str]:
    with psycopg.connect(admin, autocommit=True) as conn:
        try:
            current = conn.execute("SELECT pg_current_logfile()").fetchone()[0]
            directory = conn.execute("SHOW data_directory").fetchone()[0]
        except psycopg.Error:
            current = None
    if current:
        path = current if os.path.isabs(current) else os.path.join(directory, current)
        if os.access(path, os.R_OK):
            return [path]
    return [p for p in glob.glob("/var/log/postgresql/*.log") if os.access(p, os.R_OK)]


def _log_sizes(files: list[str]) -> dict[str, int]:
    return {f: os.path.getsize(f) for f in files}


def _log_deadlocks(before: dict[str, int]) -> list[str]:
    """The 'deadlock detected' lines (with the DETAIL line after each) appended since `before`, in
    any database: the server is shared, so `_in_databases` keeps the run's own."""
    found = []
    for path, offset in before.items():
        with open(path, "rb") as f:
            f.seek(offset)
            lines = f.read().decode(errors="replace").splitlines()
        for i, line in enumerate(lines):
            if "deadlock detected" in line:
                found.append(" | ".join(lines[i:i + 2]))
    return found


def _in_databases(lines: list[str], names: list[str]) -> list[str]:
    """Lines whose prefix names one of the databases (Debian's log_line_prefix '%m [%p] %q%u@%d ')."""
    return [ln for ln in lines if any(f"@{n} " in ln for n in names)]


def _counter(admin: str, names: list[str]) -> int:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute("SELECT coalesce(sum(deadlocks), 0) FROM pg_stat_database WHERE datname = ANY(%s)",
                           (names,)).fetchone()
    return int(row[0])


def _create(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _drop(admin: str, *names: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in names:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def one_run(admin: str, scale: str, workers: int, plan_home: Path, keep: bool) -> dict:
    name = f"aquamind_deadlocks_{secrets.token_hex(4)}"
    _create(admin, name)
    home = Path(tempfile.mkdtemp(prefix="aquamind_deadlocks_"))
    if (plan_home / "plan_cache").exists():
        shutil.copytree(plan_home / "plan_cache", home / "plan_cache")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AQUAMIND_", "DAGSTER_"))}
    env.update(AQUAMIND_DATABASE_URL=_url(admin, name), DAGSTER_HOME=str(home))
    logs = _log_sizes(_log_files(admin))
    t0 = time.perf_counter()
    proc = subprocess.run([str(AQUAMIND), "generate", "--scale", scale, "--workers", str(workers)],
                          env=env, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    time.sleep(1.5)  # backends flush their statistics at most once a second
    dbs = [name, f"{name}_dagster"]
    logged = _log_deadlocks(logs)
    run = {"database": name, "workers": workers, "success": proc.returncode == 0, "wall_s": round(wall, 1),
           "deadlocks_counted": _counter(admin, dbs), "deadlocks_logged": _in_databases(logged, dbs),
           "deadlocks_logged_elsewhere": len(logged) - len(_in_databases(logged, dbs)),
           "log_read": bool(logs), "last_lines": proc.stdout.strip().splitlines()[-3:] + proc.stderr.strip().splitlines()[-3:]}
    if not (plan_home / "plan_cache").exists() and (home / "plan_cache").exists():
        shutil.copytree(home / "plan_cache", plan_home / "plan_cache")
    if not keep:
        _drop(admin, *dbs)
        shutil.rmtree(home, ignore_errors=True)
    return run


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", default="small")
    p.add_argument("--runs", default="5:2,2:4", help="COUNT:WORKERS[,COUNT:WORKERS...] (default 5:2,2:4)")
    p.add_argument("--keep", action="store_true", help="keep each run's databases and DAGSTER_HOME")
    p.add_argument("--recount", metavar="RESULTS_JSON", help="re-derive a results file's per-database log "
                   "counts and summary from the lines it stored (files written before the database filter)")
    args = p.parse_args()
    if args.recount:
        return recount(Path(args.recount))
    admin = os.environ.get("AQUAMIND_TEST_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    plan_home = Path(tempfile.mkdtemp(prefix="aquamind_deadlocks_plan_"))
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    with psycopg.connect(admin, autocommit=True) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]
    out = {"when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "commit": commit,
           "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "postgres": server},
           "scale": args.scale, "runs": []}
    for spec in args.runs.split(","):
        count, workers = (int(x) for x in spec.split(":"))
        for _ in range(count):
            run = one_run(admin, args.scale, workers, plan_home, args.keep)
            out["runs"].append(run)
            print(f"workers {workers}: {'ok    ' if run['success'] else 'FAILED'} {run['wall_s']:7.1f} s, "
                  f"deadlocks: {run['deadlocks_counted']} counted, {len(run['deadlocks_logged'])} logged"
                  + ("" if run["success"] else f"  {run['last_lines'][-1:]}"), flush=True)
    shutil.rmtree(plan_home, ignore_errors=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    return _write(out, RESULTS / f"deadlocks_{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S}.json")


def _write(out: dict, path: Path) -> int:
    runs = out["runs"]
    out["summary"] = {"runs": len(runs), "succeeded": sum(r["success"] for r in runs),
                      "deadlocks_counted": sum(r["deadlocks_counted"] for r in runs),
                      "deadlocks_logged": sum(len(r["deadlocks_logged"]) for r in runs),
                      "deadlocks_logged_elsewhere": sum(r.get("deadlocks_logged_elsewhere", 0) for r in runs)}
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"{out['summary']} -> {path.resolve().relative_to(ROOT)}")
    bad = out["summary"]["deadlocks_counted"] + out["summary"]["deadlocks_logged"]
    return 0 if out["summary"]["succeeded"] == len(runs) and not bad else 1


def recount(path: Path) -> int:
    out = json.loads(path.read_text())
    for run in out["runs"]:
        dbs = [run["database"], f"{run['database']}_dagster"]
        every = run["deadlocks_logged"] + ["?"] * run.get("deadlocks_logged_elsewhere", 0)
        run["deadlocks_logged"] = _in_databases(run["deadlocks_logged"], dbs)
        run["deadlocks_logged_elsewhere"] = len(every) - len(run["deadlocks_logged"])
    out["recounted"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    return _write(out, path)


if __name__ == "__main__":
    sys.exit(main())
