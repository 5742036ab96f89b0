"""One year of one yearly asset outside the pipeline, alone on the machine: where its producer's time
goes (render, pandera, frame rules, binary encoding, sha256), raw binary COPY of exactly the bytes it
sends (each table into a fresh unindexed table of its layout, after a CHECKPOINT), and then the
asset's own `YearLoad` of the same year, timed by phase. The write phase against that raw COPY is
the ratio the writer-limit issue holds each asset to, here without a second year on the other core.

    .venv/bin/python benchmarks/asset_year.py postgresql://postgres@127.0.0.1:5432/aquamind_bench_full \
        [--assets feeding,batches] [--scale full] [--year 2020] [--profile DIR] [--out FILE]

The database must hold that scale's generated warehouse for the year (the frame rules read its
stored dimensions); the year's rows are replaced by identical ones (a changed checksum is refused).
`--profile DIR` also records each producer under py-spy (a speedscope file per asset).
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from raw_tables import timed_copy  # noqa: E402
from run import machine  # noqa: E402
import aquamind_assets.definitions  # noqa: E402,F401  (registers every yearly asset's spec)
from aquamind_assets.config.scenario import load_scenario  # noqa: E402
from aquamind_assets.defs.loading import SPECS, TABLES  # noqa: E402
from aquamind_assets.runtime import settings  # noqa: E402
from aquamind_assets.runtime.plan_cache import code_version, get_plan  # noqa: E402
from aquamind_assets.warehouse.ddl import ensure_warehouse  # noqa: E402
from aquamind_assets.warehouse.encode import HEADER, TRAILER, iter_chunks  # noqa: E402
from aquamind_assets.warehouse.frame_checks import FRAME_RULES, FrameTally  # noqa: E402
from aquamind_assets.warehouse.load import YearLoad  # noqa: E402
from aquamind_assets.warehouse.schema import Frame  # noqa: E402
from aquamind_assets.warehouse.validation import validate  # noqa: E402

STEPS = ("render", "pandera", "frame rules", "encode", "sha256")


def producer(plan, conn, asset: str, year: int, scenario_hash: str) -> tuple[dict[str, float], dict[str, bytearray]]:
    """The producing thread's work for one year, step by step, with no COPY beside it; the
    encoded tuples per table (what the load would send)."""
    spec = SPECS[asset]
    t = dict.fromkeys(STEPS, 0.0)
    payload: dict[str, bytearray] = {name: bytearray() for name in spec.tables}
    tally = FrameTally([c for c in spec.rules if isinstance(c, FRAME_RULES)], conn.cursor(),
                       {"year": year, "asset": asset, "source": plan, "scenario_hash": scenario_hash,
                        "code_version": code_version()})
    t0 = time.perf_counter()
    items = spec.render(plan, year)  # a renderer returning a dict does all its work here
    it = iter(items.items() if isinstance(items, dict) else items)
    t["render"] += time.perf_counter() - t0
    while True:
        t0 = time.perf_counter()
        item = next(it, None)
        if item is not None and callable(item[1]):  # a deferred table renders in its turn
            item = (item[0], item[1]())
        t1 = time.perf_counter()
        t["render"] += t1 - t0
        if item is None:
            break
        frame = validate(Frame(*item))
        t2 = time.perf_counter()
        tally.add(frame.table.qualified, frame.columns)
        t3 = time.perf_counter()
        chunks = list(iter_chunks(frame))
        t4 = time.perf_counter()
        sha = hashlib.sha256()
        for c in chunks:
            sha.update(c)
        t["sha256"] += time.perf_counter() - t4
        for c in chunks:
            payload[frame.table.qualified] += c
        t["pandera"] += t2 - t1
        t["frame rules"] += t3 - t2
        t["encode"] += t4 - t3
    return t, payload


def raw_copy(conn, asset: str, year: int, payload: dict[str, bytearray]) -> dict[str, dict]:
    """Seconds to COPY each table's encoded tuples into a fresh unindexed table of its layout."""
    return {name: timed_copy(conn, TABLES[name], year, HEADER + bytes(body) + TRAILER)
            for name, body in payload.items()}


def load(plan, conn, asset: str, year: int, scenario_hash: str) -> dict:
    """The asset's own load of the year (replacing the stored rows); refuses to change them."""
    spec = SPECS[asset]
    from aquamind_assets.defs.loading import frames
    stored = conn.execute("SELECT checksum FROM meta.partition_load WHERE asset = %s AND year = %s",
                          (asset, year)).fetchone()
    conn.execute("CHECKPOINT")
    t0 = time.perf_counter()
    with YearLoad(conn, asset=asset, year=year, tables=[TABLES[t] for t in spec.tables],
                  scenario_hash=scenario_hash, code_version=code_version(), checks=spec.rules,
                  source=plan) as yl:
        yl.write_stream(frames(plan, year, spec.render))
    seconds = time.perf_counter() - t0
    if stored and stored[0] != yl.result.checksum:
        raise SystemExit(f"{asset} {year} reloaded with checksum {yl.result.checksum[:12]}, stored {stored[0][:12]}")
    return {"rows": yl.result.total_rows, "seconds": round(seconds, 3),
            "phases_s": {k: round(v, 3) for k, v in yl.result.phases.items()}}


def profile(args, asset: str, out_dir: Path) -> str | None:
    """The producer of one asset under py-spy, as a speedscope file (None without py-spy)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        return None
    out_dir.mkdir(parents=True, exist_ok=True)
    dest = out_dir / f"{asset}_{args.year}.speedscope.json"
    subprocess.run([spy, "record", "-f", "speedscope", "-o", str(dest), "--", sys.executable, __file__,
                    args.url, "--assets", asset, "--scale", args.scale, "--year", str(args.year),
                    "--producer-only"], check=True)
    return str(dest)


def one_asset(plan, url: str, asset: str, year: int, scenario_hash: str, producer_only: bool) -> dict:
    with psycopg.connect(url, autocommit=True) as conn:
        ensure_warehouse(conn, storage=settings.storage())
        steps, payload = producer(plan, conn, asset, year, scenario_hash)
        print(f"{asset} {year}: producer {sum(steps.values()):.2f} s: "
              + ", ".join(f"{k} {v:.2f} s" for k, v in steps.items()), flush=True)
        if producer_only:
            return {"producer_s": steps}
        raw = raw_copy(conn, asset, year, payload)
        del payload
        done = load(plan, conn, asset, year, scenario_hash)
    raw_s = sum(r["seconds"] for r in raw.values())
    write_s = done["phases_s"].get("write", 0.0)
    print(f"  raw COPY of its {sum(r['rows'] for r in raw.values()):,} rows {raw_s:.2f} s; load {done['seconds']:.2f} s, "
          f"write phase {write_s:.2f} s = {raw_s / write_s:.2f} of raw; phases "
          + ", ".join(f"{k} {v:.2f}" for k, v in done["phases_s"].items()), flush=True)
    return {"producer_s": {k: round(v, 3) for k, v in steps.items()}, "raw_copy": raw, "load": done,
            "raw_over_write": round(raw_s / write_s, 3) if write_s else None}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url")
    ap.add_argument("--assets", default="batches,feeding,mortality_events,health,growth_samples,harvest")
    ap.add_argument("--scale", default="full")
    ap.add_argument("--year", type=int, default=2020)
    ap.add_argument("--profile", type=Path, help="also record each producer under py-spy into this folder")
    ap.add_argument("--producer-only", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help="write the results as JSON here")
    args = ap.parse_args(argv)
    scenario = load_scenario(scale=args.scale)
    plan = get_plan(scenario)
    results = {}
    for asset in args.assets.split(","):
        results[asset] = one_asset(plan, args.url, asset, args.year, scenario.data_hash(), args.producer_only)
        if args.profile and not args.producer_only:
            results[asset]["profile"] = profile(args, asset, args.profile)
    if args.out:
        args.out.write_text(json.dumps({"when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                                        "machine": machine(), "scale": args.scale, "year": args.year,
                                        "assets": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
