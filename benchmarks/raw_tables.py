"""Raw binary COPY of a generated warehouse's own rows, every yearly table in its own layout: the
writer's limit the whole job is held to (issue: the whole main job within 3x raw).

For one year (default 2020), each yearly table's stored partition is read back with binary COPY TO
(untimed, into memory), then COPYed into a fresh unindexed table of the same columns after a
CHECKPOINT, timed; the seconds are scaled to the ten years by the table's stored rows over all years
(meta.partition_load). Static tables are left out (54 K rows).

    .venv/bin/python benchmarks/raw_tables.py postgresql://postgres@127.0.0.1:5432/aquamind_bench_full \
        [--year 2020] [--run benchmarks/results/run_X.json] [--out benchmarks/results/raw_tables_X.json]

With --run (the benchmark run that generated the warehouse), it also prints the whole job's ratio
to raw and, per yearly asset, its write phase (render, check and COPY, from the loads' `phases_s`
metadata, summed over the years) against the raw COPY of the same tables' rows.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from run import machine  # noqa: E402
from aquamind_assets.warehouse.ddl import all_tables  # noqa: E402


def _dump(conn, table, year: int) -> bytes:
    out = bytearray()
    with conn.cursor().copy(sql.SQL("COPY {} TO STDOUT (FORMAT BINARY)").format(
            sql.Identifier(table.schema, table.partition_name(year)))) as cp:
        for block in cp:
            out += block
    return bytes(out)


def timed_copy(conn, table, year: int, payload: bytes) -> dict:
    """Seconds to COPY a binary payload of `table`'s rows into a fresh unindexed table of its layout."""
    scratch = sql.Identifier("public", f"raw_{table.name}")
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(scratch))
    conn.execute(sql.SQL("CREATE TABLE {} (LIKE {})").format(  # columns only: no index, no key
        scratch, sql.Identifier(table.schema, table.partition_name(year))))
    conn.execute("CHECKPOINT")
    t0 = time.perf_counter()
    with conn.cursor() as cur:
        with cur.copy(sql.SQL("COPY {} FROM STDIN (FORMAT BINARY)").format(scratch)) as cp:
            for i in range(0, len(payload), 1 << 20):
                cp.write(payload[i:i + (1 << 20)])
        rows = cur.rowcount
    seconds = time.perf_counter() - t0
    conn.execute(sql.SQL("DROP TABLE {}").format(scratch))
    return {"rows": rows, "bytes": len(payload), "seconds": round(seconds, 3),
            "rows_per_s": round(rows / seconds) if seconds else None}


def raw_table(conn, table, year: int) -> dict:
    """Seconds to COPY one stored year of `table` into a fresh unindexed table of its layout."""
    return timed_copy(conn, table, year, _dump(conn, table, year))


def asset_write_ratios(conn, tables: dict, run_scale: dict) -> dict:
    """Per yearly asset: seconds of its loads' write phase, raw seconds of its tables, raw / write."""
    owned: dict[str, set[str]] = {}
    for asset, rows in conn.execute("SELECT asset, rows FROM meta.partition_load WHERE year > 0").fetchall():
        owned.setdefault(asset, set()).update(t for t, n in rows.items() if int(n))
    out = {}
    for asset, names in sorted(owned.items()):
        write_s = sum(m["phases_s"].get("write", 0.0) for m in run_scale["materializations"]
                      if m["asset"] == asset and "phases_s" in m)
        raw_s = sum(tables[t]["raw_seconds_all_years"] for t in names if t in tables)
        out[asset] = {"tables": sorted(names), "write_s": round(write_s, 1), "raw_s": round(raw_s, 1),
                      "raw_over_write": round(raw_s / write_s, 2) if write_s else None}
        print(f"  {asset:<24} write {write_s:7.1f} s, raw COPY of its tables {raw_s:7.1f} s: "
              f"{out[asset]['raw_over_write']} of the raw rate", flush=True)
    return out


def measure(url: str, year: int, run_scale: dict | None = None, job_seconds: float | None = None) -> dict:
    """Every yearly table's raw COPY (one stored year, scaled to all years) and, given the run that
    generated the warehouse, each yearly asset's write phase against it and the whole job's ratio."""
    with psycopg.connect(url, autocommit=True) as conn:
        by_year: dict[str, dict[int, int]] = {}  # table -> year -> stored rows, from the load records
        for y, rows in conn.execute("SELECT year, rows FROM meta.partition_load WHERE year > 0").fetchall():
            for name, n in rows.items():
                by_year.setdefault(name, {})[y] = int(n)
        stored = {name: sum(years.values()) for name, years in by_year.items()}
        tables = {}
        for table in (t for t in all_tables() if t.yearly and stored.get(t.qualified)):
            years = by_year[table.qualified]  # a table empty in `year` (the opening state) is timed in its fullest year
            r = raw_table(conn, table, year if years.get(year) else max(years, key=years.get))
            r["stored_rows_all_years"] = stored[table.qualified]
            r["raw_seconds_all_years"] = round(r["seconds"] * stored[table.qualified] / max(r["rows"], 1), 2)
            tables[table.qualified] = r
            print(f"  {table.qualified:<42} {r['rows']:>11,} rows {r['seconds']:7.2f} s "
                  f"{(r['rows_per_s'] or 0):>12,} rows/s -> {r['raw_seconds_all_years']:7.1f} s for all years", flush=True)
        assets = asset_write_ratios(conn, tables, run_scale) if run_scale else None
    total = round(sum(r["raw_seconds_all_years"] for r in tables.values()), 1)
    job_seconds = job_seconds or (run_scale or {}).get("wall_s")
    result = {"machine": machine(), "year": year, "tables": tables, "raw_seconds_all_years": total,
              "stored_rows": sum(stored.values()), "job_seconds": job_seconds, "assets": assets,
              "job_ratio_to_raw": round(job_seconds / total, 2) if job_seconds else None}
    print(f"raw binary COPY of the stored rows, every yearly table in its own layout: {total} s"
          + (f"; the whole job {job_seconds} s = {result['job_ratio_to_raw']}x raw" if job_seconds else ""))
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url")
    ap.add_argument("--year", type=int, default=2020)
    ap.add_argument("--job-seconds", type=float, help="the whole job's seconds, to print its ratio to raw")
    ap.add_argument("--run", type=Path, help="the benchmark run (run_X.json) that generated this warehouse")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    run_scale = None
    if args.run:
        db = args.url.rsplit("/", 1)[-1]  # run.py names its databases aquamind_bench_<scale>
        run_scale = next(s for s in json.loads(args.run.read_text())["scales"] if db.endswith(f"_{s['scale']}"))
    result = measure(args.url, args.year, run_scale, args.job_seconds)
    result["run"] = args.run and args.run.name
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
