"""One readings year outside the pipeline: where the producing thread's time goes (render + pandera,
frame checks, binary encoding, sha256), then the same `YearLoad` the asset runs, timed by phase.
Separates the producer's cost from the server's COPY, which sets the pace inside a ten-year run.

    .venv/bin/python benchmarks/readings_year.py postgresql://postgres@127.0.0.1:5432/aquamind_bench_full \
        [--scale full] [--year 2020]

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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from aquamind_assets.defs.environment import render  # noqa: E402
from aquamind_assets.defs.loading import TABLES, frames  # noqa: E402
from aquamind_assets.plan_cache import code_version  # noqa: E402
from aquamind_assets.rules import environment as rules  # noqa: E402
from aquamind_assets.scenario import load_scenario  # noqa: E402
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


def load(plan, url: str, year: int, scenario_hash: str) -> tuple[int, float, dict]:
    tables = [TABLES[t] for t in ("environmental.environmental_event", "environmental.environmental_reading")]
    with psycopg.connect(url, autocommit=True) as conn:
        t0 = time.perf_counter()
        with YearLoad(conn, asset="environmental_readings", year=year, tables=tables, scenario_hash=scenario_hash,
                      code_version=code_version(), checks=[*rules.RULES, *rules.FRAME_RULES]) as yl:
            yl.write_stream(frames(plan, year, render))
        return yl.result.total_rows, time.perf_counter() - t0, yl.result.phases


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url")
    ap.add_argument("--scale", default="full")
    ap.add_argument("--year", type=int, default=2020)
    args = ap.parse_args(argv)
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
