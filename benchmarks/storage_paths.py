"""The two storage paths against each other in one run (issue: TimescaleDB for real): the same
scenario generated on a native warehouse and on a TimescaleDB one, then

* the stored rows read back in key order (every column, `ORDER BY` all of them), hashed per table
  and year, and exact counts: equal on both paths;
* the readings loads' rate (rows over their write phase) on each path, and its ratio;
* on the hypertable path: each year's compression ratio, and a year rematerialized again: zero
  dead rows and its content hash unchanged;
* `aquamind validate` on both.

    .venv/bin/python benchmarks/storage_paths.py [--scale small] [--years 2015-2024] [--rematerialize 2020]
        [--timescale-admin postgresql://postgres@127.0.0.1:5433/postgres] [--native-admin URL]

The TimescaleDB server is the developer's own (DEVELOPERS.md); the script only creates and drops
its `aquamind_bench_storage_*` databases there.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from run import _drop, _recreate, _url, machine, materializations  # noqa: E402
from aquamind_assets.runtime import database, settings  # noqa: E402
from aquamind_assets.warehouse.ddl import all_tables  # noqa: E402

AQUAMIND = str(ROOT / ".venv" / "bin" / "aquamind")


def _env(url: str, home: Path, storage: str) -> dict:
    """Each path's own warehouse, Dagster storage (beside it) and home: nothing of the other path's."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AQUAMIND_", "DAGSTER_"))}
    env = dict(base, AQUAMIND_DATABASE_URL=url, DAGSTER_HOME=str(home), AQUAMIND_STORAGE=storage,
               AQUAMIND_REPORT_DIR=str(home / "report"))
    env.update(settings.export_env(database.resolve(start_embedded=False, env=env), env=env))
    return env


def _aquamind(env: dict, *args: str) -> tuple[int, float, list[str]]:
    t0 = time.perf_counter()
    proc = subprocess.run([AQUAMIND, *args], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    lines = proc.stdout.splitlines()
    for line in lines[-12:]:
        print(f"    {line}", flush=True)
    return proc.returncode, round(time.perf_counter() - t0, 1), lines


def stored_hashes(url: str) -> dict[str, dict]:
    """Per table (and year for yearly tables): rows and sha256 of the rows read back in key order."""
    out = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for t in all_tables():
            cols = sql.SQL(", ").join(sql.Identifier(c.name) for c in t.columns)  # `year` is among them
            years = [r[0] for r in conn.execute(sql.SQL("SELECT DISTINCT year FROM {}.{} ORDER BY 1").format(
                sql.Identifier(t.schema), sql.Identifier(t.name)))] if t.yearly else [None]
            for year in years:
                where = sql.SQL("WHERE year = {}").format(sql.Literal(year)) if year is not None else sql.SQL("")
                query = sql.SQL("COPY (SELECT {c} FROM {s}.{n} {w} ORDER BY {c}) TO STDOUT").format(
                    c=cols, s=sql.Identifier(t.schema), n=sql.Identifier(t.name), w=where)
                h, rows = hashlib.sha256(), 0
                with conn.cursor().copy(query) as cp:
                    for block in cp:
                        h.update(block)
                        rows += bytes(block).count(b"\n")
                out[t.qualified if year is None else f"{t.qualified}/{year}"] = {"rows": rows, "sha256": h.hexdigest()}
    return out


def readings_rate(mats: list[dict]) -> dict:
    loads = [m for m in mats if m["asset"] == "environmental_readings" and "phases_s" in m]
    rows = sum(int(m["dagster/row_count"]) for m in loads)
    write = sum(m["phases_s"].get("write", 0.0) for m in loads)
    return {"rows": rows, "write_s": round(write, 1), "rows_per_s": round(rows / write) if write else None,
            "compress_s": round(sum(m.get("compress_s", 0.0) for m in loads), 1)}


def compression(url: str) -> dict:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("""SELECT chunk_name, before_compression_total_bytes, after_compression_total_bytes
                               FROM chunk_compression_stats('environmental.environmental_reading')
                               ORDER BY chunk_name""").fetchall()
    return {name: round(before / max(after, 1), 2) for name, before, after in rows if before}


def dead_rows(url: str, year: int) -> int:
    time.sleep(1.5)  # backends report their table statistics within a second of a transaction's end
    with psycopg.connect(url, autocommit=True) as conn:
        return int(conn.execute("""SELECT coalesce(sum(n_dead_tup), 0) FROM pg_stat_user_tables
                                   WHERE relname LIKE %s""", (f"%\\_y{year}",)).fetchone()[0])


def run_path(storage: str, admin: str, scale: str, years: str, again: int) -> dict:
    name = f"aquamind_bench_storage_{storage}"
    _recreate(name, admin)
    url = _url(name, admin)
    home = Path(tempfile.mkdtemp(prefix=f"aquamind-storage-{storage}-"))
    shutil.copy(ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    env = _env(url, home, storage)
    print(f"[{storage}] generate --scale {scale} --years {years}", flush=True)
    rc, wall, _ = _aquamind(env, "generate", "--scale", scale, "--years", years)
    os.environ.update(env)
    out = {"storage": storage, "server": settings.redact(admin), "generate_exit": rc, "generate_s": wall,
           "readings": readings_rate(materializations(home))}
    out["validate_exit"] = _aquamind(env, "validate")[0]
    out["hashes"] = stored_hashes(url)
    if storage == "timescale":
        out["compression"] = compression(url)
    before = {k: v for k, v in out["hashes"].items() if k.endswith(f"/{again}")}
    rc2, wall2, _ = _aquamind(env, "generate", "--scale", scale, "--years", f"{again}-{again}", "--no-dbt")
    after = {k: v for k, v in stored_hashes(url).items() if k.endswith(f"/{again}")}
    out["rematerialized"] = {"year": again, "exit": rc2, "seconds": wall2, "dead_rows": dead_rows(url, again),
                             "identical": before == after}
    print(f"[{storage}] readings {out['readings']}, validate exit {out['validate_exit']}, "
          f"rematerialized {again}: {out['rematerialized']}", flush=True)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", default="small")
    ap.add_argument("--years", default="2015-2024")
    ap.add_argument("--rematerialize", type=int, default=2020)
    ap.add_argument("--timescale-admin", default="postgresql://postgres@127.0.0.1:5433/postgres")
    ap.add_argument("--native-admin", help="default: the TimescaleDB server too, so both paths run on one "
                                          "server with one configuration and only the path differs")
    ap.add_argument("--keep", action="store_true", help="keep the two warehouses")
    args = ap.parse_args(argv)
    args.native_admin = args.native_admin or args.timescale_admin
    paths = {s: run_path(s, a, args.scale, args.years, args.rematerialize)
             for s, a in (("native", args.native_admin), ("timescale", args.timescale_admin))}
    native, ts = paths["native"]["hashes"], paths["timescale"]["hashes"]
    differ = sorted(k for k in native.keys() | ts.keys() if native.get(k) != ts.get(k))
    ratio = paths["timescale"]["readings"]["rows_per_s"] / paths["native"]["readings"]["rows_per_s"]
    comp = paths["timescale"].get("compression", {})
    result = {"when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "machine": machine(),
              "scale": args.scale, "years": args.years, "paths": paths,
              "table_years_compared": len(native.keys() | ts.keys()), "table_years_differing": differ,
              "stored_rows": sum(v["rows"] for v in native.values()),
              "readings_rate_ratio": round(ratio, 3), "compression_min": min(comp.values(), default=None)}
    print(f"stored rows: {result['stored_rows']:,} in {result['table_years_compared']} table-years, "
          f"{len(differ)} differing {differ[:5]}; readings rate timescale/native {ratio:.3f}; "
          f"compression per year min {result['compression_min']}x")
    out = ROOT / "benchmarks" / "results" / f"storage_paths_{args.scale}_{dt.datetime.now().strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"results: {out}")
    if not args.keep:
        for s, a in (("native", args.native_admin), ("timescale", args.timescale_admin)):
            _drop(f"aquamind_bench_storage_{s}", a)
    return 0 if not differ and all(p["generate_exit"] == 0 and p["validate_exit"] == 0 for p in paths.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
