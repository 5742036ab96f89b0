"""One readings year outside the pipeline: where the producing thread's time goes (render + pandera,
frame checks, binary encoding, sha256), then the same `YearLoad` the asset runs, timed by phase.
Separates the producer's cost from the server's COPY, which sets the pace inside a ten-year run.

`interleaved()` (also --ab N): the readings path against raw COPY of as many rows, alternately, in the
same warehouse minutes apart. The server's COPY rate drifts over a long run (measured: raw COPY of a
readings year 1.24 M rows/s on a fresh server, 0.93 M after four generated years), so a ratio of two
rates measured at different times is mostly the drift; alternating both cancels it.

    .venv/bin/python benchmarks/readings_year.py postgresql://postgres@127.0.0.1:5432/aquamind_bench_full \
        [--scale full] [--year 2020] [--ab 3]

The database must hold that scale's generated warehouse (the frame checks read its assignments);
the year's readings are replaced by the identical rows.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from copy_rate import RAW7, _checkpoint, make_data, raw_copy  # noqa: E402
from aquamind_assets.defs.environment import render  # noqa: E402
from aquamind_assets.defs.loading import SPECS, TABLES, frames  # noqa: E402
from aquamind_assets.warehouse.ddl import ensure_warehouse  # noqa: E402
from aquamind_assets.runtime import settings  # noqa: E402
from aquamind_assets.runtime.plan_cache import code_version  # noqa: E402
from aquamind_assets.rules import environment as rules  # noqa: E402

ASSET = "environmental_readings"
from aquamind_assets.config.scenario import load_scenario  # noqa: E402
from aquamind_assets.sim.plan import build_plan  # noqa: E402
from aquamind_assets.warehouse.encode import iter_chunks  # noqa: E402
from aquamind_assets.warehouse.frame_checks import FrameTally  # noqa: E402
from aquamind_assets.warehouse.load import YearLoad  # noqa: E402


def producer(plan, url: str, year: int) -> dict[str, float]:
    """The producing thread's work for one year, step by step, with no COPY beside it."""
    t = {"render+pandera": 0.0, "frame checks": 0.0, "encode": 0.0, "sha256": 0.0}
    sha = hashlib.sha256()
    with psycopg.connect(url) as conn:
        tally = FrameTally(rules.FRAME_RULES, conn.cursor(), {"year": year})
        it = frames(plan, year, render)
        while True:
            t0 = time.perf_counter()
            frame = next(it, None)
            t["render+pandera"] += time.perf_counter() - t0
            if frame is None:
                break
            t0 = time.perf_counter()
            tally.add(frame.table.qualified, frame.columns)
            t1 = time.perf_counter()
            chunks = list(iter_chunks(frame))
            t2 = time.perf_counter()
            for c in chunks:
                sha.update(c)
            t["frame checks"] += t1 - t0
            t["encode"] += t2 - t1
            t["sha256"] += time.perf_counter() - t2
    return t


def load(plan, url: str, year: int, scenario_hash: str, empty_first: bool = False) -> tuple[int, float, dict]:
    """The asset's load of one readings year (replacing the stored one); refuses to change its rows.
    `empty_first` empties the year's partitions beforehand, untimed, as raw_copy drops its previous
    table untimed: the timed load then meets an empty partition, as in a first generate."""
    tables = [TABLES[t] for t in SPECS[ASSET].tables]
    with psycopg.connect(url, autocommit=True) as conn:
        ensure_warehouse(conn, storage=settings.storage())
        stored = conn.execute("SELECT checksum, rows FROM meta.partition_load WHERE asset = %s AND year = %s",
                              (ASSET, year)).fetchone()
        if empty_first:
            conn.execute(sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(
                sql.Identifier(t.schema, t.partition_name(year)) for t in tables)))
        _checkpoint(conn)  # as raw_copy does before its COPY: both start with the WAL settled
        t0 = time.perf_counter()
        with YearLoad(conn, asset=ASSET, year=year, tables=tables, scenario_hash=scenario_hash,
                      code_version=code_version(), checks=SPECS[ASSET].rules, source=plan) as yl:
            yl.write_stream(frames(plan, year, render))
        seconds = time.perf_counter() - t0
    if stored and set(stored[1]) == set(yl.result.rows) and stored[0] != yl.result.checksum:
        raise SystemExit(f"readings {year} reloaded with checksum {yl.result.checksum[:12]}, stored {stored[0][:12]}")
    return yl.result.total_rows, seconds, yl.result.phases


def interleaved(url: str, scale: str = "full", year: int = 2020, repeat: int = 3) -> dict:
    """Raw COPY of the year's row count (the readings layout, synthetic values) and the readings
    YearLoad of that year (render, pandera, frame checks, COPY, BRIN, ANALYZE, SQL checks, commit),
    in turns, order swapped each round; medians and their ratio."""
    scenario = load_scenario(scale=scale)
    plan = build_plan(scenario)
    with psycopg.connect(url) as conn:
        (rows,) = conn.execute("SELECT count(*) FROM environmental.environmental_reading WHERE year = %s",
                               (year,)).fetchone()
    data = make_data(rows)
    raw, path = [], []
    for i in range(repeat):
        for step in (("raw", "path") if i % 2 == 0 else ("path", "raw")):
            if step == "raw":
                raw.append(raw_copy(url, data, RAW7, table="interleaved_raw")["rows_per_s"])
            else:
                n, secs, phases = load(plan, url, year, scenario.data_hash(), empty_first=True)
                path.append(n / secs)
            print(f"  {step:<4} {(raw if step == 'raw' else path)[-1] / 1e6:.3f} M rows/s"
                  + ("" if step == "raw" else "; " + ", ".join(f"{k} {v:.2f} s" for k, v in phases.items())),
                  flush=True)
    med = {k: sorted(v)[len(v) // 2] for k, v in (("raw", raw), ("path", path))}
    return {"year": year, "rows": rows, "repeat": repeat, "raw_rows_per_s": [round(x) for x in raw],
            "readings_rows_per_s": [round(x) for x in path], "raw_median": round(med["raw"]),
            "readings_median": round(med["path"]), "ratio": round(med["path"] / med["raw"], 3),
            "last_phases_s": {k: round(v, 2) for k, v in phases.items()}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url")
    ap.add_argument("--scale", default="full")
    ap.add_argument("--year", type=int, default=2020)
    ap.add_argument("--ab", type=int, default=0, help="rounds of the interleaved comparison with raw COPY (0: skip)")
    args = ap.parse_args(argv)
    if args.ab:
        r = interleaved(args.url, args.scale, args.year, args.ab)
        print(f"interleaved: readings {r['readings_median']:,} rows/s = {r['ratio']} of raw {r['raw_median']:,}")
        return 0
    scenario = load_scenario(scale=args.scale)
    plan = build_plan(scenario)
    steps = producer(plan, args.url, args.year)
    print(f"producer {sum(steps.values()):.1f} s: " + ", ".join(f"{k} {v:.2f} s" for k, v in steps.items()))
    rows, secs, phases = load(plan, args.url, args.year, scenario.data_hash())
    print(f"YearLoad {rows:,} rows in {secs:.1f} s ({rows / secs:,.0f} rows/s); phases: "
          + ", ".join(f"{k} {v:.2f} s" for k, v in phases.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
