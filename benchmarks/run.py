"""The platform against the machine's own limit, in one run.

1. the raw binary-COPY rate into a scratch table of the readings layout (the limit): burst (one COPY
   after a checkpoint, its table dropped) and sustained (year-sized COPYs back to back, each table
   kept, as the readings years are: once the kernel's dirty-page limit is reached, writers wait for
   the disk);
2. `aquamind generate` (the same code path, in a subprocess) for each scale asked, into a fresh
   database per scale, sampling the summed RSS of the whole aquamind process tree;
3. per asset and year: rows, seconds, rows/s (from the Dagster materialization metadata); totals; the
   readings rate as a ratio to the raw rate; peak RSS; warehouse size; phase shares; dbt time;
4. the readings path against raw COPY in turns, in the last scale's warehouse (--ab-rounds, year
   --ab-year): the ratio the readings target is held to, free of the server's drift over the run;
5. raw binary COPY of the last scale's own stored rows, each yearly table in its own layout
   (raw_tables.py), each yearly asset's write phase against it and the whole job's ratio;
6. the last scale again for one year alone (--one-year, default 2020): memory must not grow with years;
7. every writer-limit target judged on these figures (writer_targets.py).
Prints it and writes JSON under benchmarks/results/.

    .venv/bin/python benchmarks/run.py [--scales tiny,small,full] [--years 2015-2024] [--raw-rows 10000000]
                                       [--one-year 2020] | --recompute benchmarks/results/run_X.json
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from copy_rate import RAW3, RAW7, make_data, raw_copy  # noqa: E402
from readings_year import interleaved  # noqa: E402
import writer_targets  # noqa: E402

from aquamind_assets.runtime import database, settings  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


class TreeRss(threading.Thread):
    """Peak of the summed RSS of a process and all its descendants (PostgreSQL is not among them)."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0, threading.Event()
        self.samples: list[tuple[float, int]] = []  # (perf_counter, summed RSS bytes)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                root = psutil.Process(self.pid)
                total = sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
                self.peak = max(self.peak, total)
                self.samples.append((time.perf_counter(), total))
            except psutil.Error:
                pass
            time.sleep(0.2)

    def peak_between(self, t0: float, t1: float) -> int:
        return max((r for t, r in self.samples if t0 <= t <= t1), default=0)


PHASES = ("static", "operations", "readings", "dbt", "report")


def _phase_of(name: str, line: str) -> bool:
    """A progress line of the CLI: '  static ...', '  2016 readings ...', '  dbt marts ...', '  report ...'."""
    text = line.lstrip()
    if name in ("operations", "readings"):
        return text[:4].isdigit() and text[5:].startswith(name)
    return text.startswith(f"{name} ")


def phases(lines: list[tuple[float, str]], t0: float, t_end: float, rss: TreeRss) -> dict:
    """Each phase runs from the end of the previous one to its own last progress line: seconds,
    share of the wall time, peak summed RSS."""
    out, start = {}, t0
    for name in PHASES:
        ends = [t for t, line in lines if _phase_of(name, line)]
        if not ends:
            continue
        end = max(ends)
        out[name] = {"seconds": round(end - start, 1), "share": round((end - start) / (t_end - t0), 3),
                     "peak_rss_mib": round(rss.peak_between(start, end) / 2**20, 1)}
        start = end
    return out


def _admin_url() -> str:
    return os.environ.get("AQUAMIND_BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _drop(name: str, admin: str | None = None) -> None:
    """The scale's warehouse and its Dagster storage."""
    with psycopg.connect(admin or _admin_url(), autocommit=True) as c:
        for n in (name, f"{name}_dagster"):
            c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(n)))


def _recreate(name: str, admin: str | None = None) -> None:
    _drop(name, admin)
    with psycopg.connect(admin or _admin_url(), autocommit=True) as c:
        for n in (name, f"{name}_dagster"):
            c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(n)))


def _url(name: str, admin: str | None = None) -> str:
    base = (admin or _admin_url()).rsplit("/", 1)[0]
    return f"{base}/{name}"


def materializations(dagster_home: Path) -> list[dict]:
    """Per asset and partition: the metadata of its latest materialization in that instance."""
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    import dagster as dg

    inst = dg.DagsterInstance.get()
    out = []
    for key in inst.get_asset_keys():
        for rec in inst.fetch_materializations(key, limit=1000).records:
            m = rec.asset_materialization
            md = {k: v.value for k, v in m.metadata.items() if isinstance(v.value, (int, float, str))}
            if "phases_s" in m.metadata:  # prepare / write / index / analyze / checks / commit seconds
                md["phases_s"] = m.metadata["phases_s"].value
            out.append({"asset": key.to_user_string(), "partition": m.partition, **md})
    return out


def run_scale(scale: str, years: str, db_suffix: str = "") -> dict:
    name = f"aquamind_bench_{scale}{db_suffix}"
    _recreate(name)
    home = Path(tempfile.mkdtemp(prefix=f"aquamind-bench-{scale}-"))
    shutil.copy(ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    env = dict(os.environ, AQUAMIND_DATABASE_URL=_url(name), DAGSTER_HOME=str(home),
               AQUAMIND_REPORT_DIR=str(home / "report"))
    env.update(settings.export_env(database.resolve(start_embedded=False, env=env), env=env))
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(ROOT / ".venv" / "bin" / "aquamind"), "generate", "--scale", scale, "--years", years],
                            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    rss = TreeRss(proc.pid)
    rss.start()
    log, timed = [], []
    for line in proc.stdout:
        print(f"  [{scale}] {line.rstrip()}", flush=True)
        log.append(line.rstrip())
        timed.append((time.perf_counter(), line.rstrip()))
    proc.wait()
    t_end = time.perf_counter()
    wall = t_end - t0
    rss.stop.set()
    with psycopg.connect(_url(name), autocommit=True) as c:
        size = c.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        readings = c.execute("SELECT count(*) FROM environmental.environmental_reading").fetchone()[0]
    os.environ.update(env)  # the instance's dagster.yaml reads DAGSTER_PG_*
    # the instance may list other scales' runs too: keep this scale's loads (and the dbt assets)
    mats = [m for m in materializations(home) if m.get("scale", scale) == scale]
    return {"scale": scale, "years": years, "exit_code": proc.returncode, "wall_s": round(wall, 1),
            "peak_tree_rss_mib": round(rss.peak / 2**20, 1), "warehouse_bytes": size, "readings_rows": readings,
            "phases": phases(timed, t0, t_end, rss),
            "materializations": mats, "log_tail": log[-40:]}


def print_assets(r: dict) -> None:
    """Per asset and year: rows, seconds, rows/s; then totals per asset."""
    print(f"  {'asset':<24} {'year':>5} {'rows':>12} {'seconds':>8} {'rows/s':>11}")
    loads = [m for m in r["materializations"] if "duration_s" in m]
    for m in sorted(loads, key=lambda m: (m["asset"], str(m["partition"]))):
        rows, secs = int(m.get("dagster/row_count", 0)), float(m.get("duration_s", 0) or 0)
        print(f"  {m['asset']:<24} {str(m['partition'] or '-'):>5} {rows:>12,} {secs:>8.1f} "
              f"{rows / secs if secs else 0:>11,.0f}")
    for name, p in r["phases"].items():
        print(f"  phase {name:<12} {p['seconds']:>7.1f} s  {p['share']:>6.1%} of the wall time, "
              f"peak RSS {p['peak_rss_mib']:,.0f} MiB")


def sustained_copy(url: str, rows: int, copies: int) -> dict:
    """Year-sized raw COPYs back to back, every table kept until the end: the median rate of the
    copies after the first two (by then the earlier ones' pages are being written back)."""
    data = make_data(rows)
    runs = []
    try:
        for i in range(copies):
            runs.append(raw_copy(url, data, RAW7, table=f"sustained_{i}", keep=True, checkpoint=i == 0))
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            for i in range(copies):
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(f"sustained_{i}")))
    later = sorted(r["rows_per_s"] for r in runs[2:]) or [runs[-1]["rows_per_s"]]
    return {"rows": rows, "copies": copies, "rows_per_s_each": [round(r["rows_per_s"]) for r in runs],
            "rows_per_s": later[len(later) // 2]}


def summarize(r: dict, raw_rows_per_s: float, sustained_rows_per_s: float | None = None) -> None:
    """Readings rate and ratio to raw, seconds per asset: from this scale's load materializations."""
    loads = [m for m in r["materializations"] if "duration_s" in m and m.get("scale", r["scale"]) == r["scale"]]
    r["materializations"] = [m for m in r["materializations"] if m.get("scale", r["scale"]) == r["scale"]]
    rd = [m for m in loads if m["asset"] == "environmental_readings"]
    rows = sum(int(m.get("dagster/row_count", 0)) for m in rd)
    secs = sum(float(m.get("duration_s", 0)) for m in rd)
    r["readings_rows_per_s"] = round(rows / secs) if secs else None
    r["readings_ratio_to_raw"] = round(rows / secs / raw_rows_per_s, 3) if secs else None
    if sustained_rows_per_s:
        r["readings_ratio_to_sustained_raw"] = round(rows / secs / sustained_rows_per_s, 3) if secs else None
    asset_s: dict[str, float] = {}
    for m in loads:
        asset_s[m["asset"]] = asset_s.get(m["asset"], 0.0) + float(m["duration_s"] or 0.0)
    r["asset_seconds"] = {k: round(v, 1) for k, v in sorted(asset_s.items())}


def recompute(path: Path) -> int:
    result = json.loads(path.read_text())
    for r in result["scales"]:
        summarize(r, result["raw_copy"]["rows_per_s"], result.get("raw_copy_sustained", {}).get("rows_per_s"))
        print(f"{r['scale']}: readings {r['readings_rows_per_s']:,} rows/s = {r['readings_ratio_to_raw']} of raw "
              f"({r.get('readings_ratio_to_sustained_raw')} of sustained raw); "
              f"asset seconds {r['asset_seconds']}")
    result["recomputed_by"] = "benchmarks/run.py --recompute (materializations filtered to their own scale)"
    path.write_text(json.dumps(result, indent=1, default=str))
    return 0


def machine() -> dict:
    with psycopg.connect(_admin_url()) as c:
        version = c.execute("SHOW server_version").fetchone()[0]
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    return {"cores": os.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "postgres": version, "git_commit": commit,
            "platform": platform.platform()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="tiny,small,full")
    ap.add_argument("--years", default="2015-2024")
    ap.add_argument("--raw-rows", type=int, default=10_000_000)
    ap.add_argument("--sustained-rows", type=int, default=13_600_000,
                    help="rows per COPY of the sustained raw rate (default: a full readings year)")
    ap.add_argument("--sustained-copies", type=int, default=4)
    ap.add_argument("--recompute", metavar="RESULTS_JSON",
                    help="recompute the summary figures of a results file from its materializations and exit")
    ap.add_argument("--ab-year", type=int, default=2020, help="year of the interleaved readings/raw comparison")
    ap.add_argument("--ab-rounds", type=int, default=3, help="rounds of it (0: skip)")
    ap.add_argument("--one-year", type=int, default=2020,
                    help="also run the last scale for this year alone: memory must not grow with years (0: skip)")
    args = ap.parse_args(argv)
    if args.recompute:
        return recompute(Path(args.recompute))
    raw_db = "aquamind_bench_raw"
    _recreate(raw_db)
    data = make_data(args.raw_rows)
    raw = raw_copy(_url(raw_db), data, RAW7)  # the readings layout: the limit the readings rate is held to
    raw3 = raw_copy(_url(raw_db), data, RAW3)  # the narrow 3-column row of the figures, for reference
    del data
    sustained = sustained_copy(_url(raw_db), args.sustained_rows, args.sustained_copies)
    print(f"raw binary COPY into the readings layout: {raw['rows_per_s'] / 1e6:.2f} M rows/s burst, "
          f"{sustained['rows_per_s'] / 1e6:.2f} M rows/s sustained ({args.sustained_copies} x "
          f"{args.sustained_rows:,} rows kept: {sustained['rows_per_s_each']}); narrow 3-column rows: "
          f"{raw3['rows_per_s'] / 1e6:.2f} M rows/s", flush=True)
    result = {"when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "machine": machine(),
              "raw_copy": raw, "raw_copy_sustained": sustained, "raw_copy_3col": raw3, "scales": []}
    scales = args.scales.split(",")
    for i, scale in enumerate(scales):
        if i:  # only the last scale's warehouse is read again (interleaved, raw_tables.py): free the disk
            _drop(f"aquamind_bench_{scales[i - 1]}")
        r = run_scale(scale, args.years)
        summarize(r, raw["rows_per_s"], sustained["rows_per_s"])
        result["scales"].append(r)
        print_assets(r)
        print(f"{scale}: wall {r['wall_s']} s, readings {r['readings_rows']:,} at {r['readings_rows_per_s']} rows/s "
              f"({r['readings_ratio_to_raw']} of raw, {r['readings_ratio_to_sustained_raw']} of sustained raw), peak RSS {r['peak_tree_rss_mib']} MiB, "
              f"warehouse {r['warehouse_bytes'] / 2**30:.2f} GiB", flush=True)
    if args.ab_rounds:
        ab = interleaved(_url(f"aquamind_bench_{result['scales'][-1]['scale']}"), result["scales"][-1]["scale"],
                         args.ab_year, args.ab_rounds)
        result["readings_interleaved"] = ab
        print(f"interleaved ({ab['repeat']} rounds, {ab['year']}): readings {ab['readings_median']:,} rows/s = "
              f"{ab['ratio']} of raw COPY {ab['raw_median']:,} rows/s", flush=True)
    import raw_tables  # here, not at the top: it imports this module's machine()

    last = result["scales"][-1]
    print("raw binary COPY of the last scale's stored rows, table by table:", flush=True)
    result["raw_tables"] = raw_tables.measure(_url(f"aquamind_bench_{last['scale']}"), args.ab_year, last)
    if args.one_year:
        one = run_scale(last["scale"], f"{args.one_year}-{args.one_year}", db_suffix="_1y")
        ratio = last["peak_tree_rss_mib"] / max(one["peak_tree_rss_mib"], 1e-9)
        result["one_year"] = {k: one[k] for k in ("scale", "years", "exit_code", "wall_s", "peak_tree_rss_mib",
                                                  "readings_rows", "phases")}
        result["memory_years_ratio"] = round(ratio, 3)
        print(f"memory: {last['years']} peak {last['peak_tree_rss_mib']:,.0f} MiB vs {one['years']} alone "
              f"{one['peak_tree_rss_mib']:,.0f} MiB: {ratio:.2f}x", flush=True)
    result["targets"] = writer_targets.verdicts(result)
    print("writer-limit targets:")
    writer_targets.report(result["targets"])
    print("scale curve:")
    for r in result["scales"]:
        rows = writer_targets.stored_rows(r)
        print(f"  {r['scale']:<7} {rows:>13,} rows {r['wall_s']:>8.1f} s {rows / r['wall_s']:>11,.0f} rows/s "
              f"peak RSS {r['peak_tree_rss_mib']:>7,.0f} MiB  warehouse {r['warehouse_bytes'] / 2**30:6.2f} GiB")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"run_{dt.datetime.now().strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=1, default=str))
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
