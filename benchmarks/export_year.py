"""`aquamind export` of one stored year of every table, as Parquet and as CSV: seconds, rows, bytes on
disk and the peak summed RSS of the command's process tree (the issue's target: a `full` year under
500 MiB, memory flat whatever the year's size).

    .venv/bin/python benchmarks/export_year.py postgresql://postgres@127.0.0.1:5432/aquamind_bench_full \
        [--year 2020] [--formats parquet,csv] [--keep DIR]

The database must hold a generated warehouse with that year; the files go to a temporary folder
(removed afterwards unless --keep).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from run import RESULTS, TreeRss, machine  # noqa: E402


def export_once(url: str, year: int, fmt: str, out: Path) -> dict:
    env = {**os.environ, "AQUAMIND_DATABASE_URL": url}
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(ROOT / ".venv" / "bin" / "aquamind"), "export", "--format", fmt, "--years", str(year),
                             "--out", str(out)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    rss = TreeRss(proc.pid)
    rss.start()
    lines = [ln.rstrip() for ln in proc.stdout]
    code = proc.wait()
    rss.stop.set()
    rss.join()
    seconds = time.perf_counter() - t0
    if code:
        raise SystemExit(f"export {fmt} failed ({code}): " + "\n".join(lines[-5:]))
    manifest = json.loads((out / "manifest.json").read_text())
    rows = sum(f["rows"] for f in manifest["files"])
    biggest = max(manifest["files"], key=lambda f: f["rows"])
    result = {"format": fmt, "seconds": round(seconds, 1), "files": len(manifest["files"]), "rows": rows,
              "bytes": sum(f["bytes"] for f in manifest["files"]), "rows_per_s": round(rows / seconds),
              "peak_tree_rss_mib": round(rss.peak / 2**20, 1),
              "largest_file": {k: biggest[k] for k in ("table", "rows", "bytes")}}
    print(f"  {fmt:<8} {rows:>12,} rows in {result['files']} files, {result['bytes'] / 2**20:8.1f} MiB, "
          f"{seconds:6.1f} s, peak RSS {result['peak_tree_rss_mib']:.0f} MiB", flush=True)
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url")
    ap.add_argument("--year", type=int, default=2020)
    ap.add_argument("--formats", default="parquet,csv")
    ap.add_argument("--keep", type=Path, help="keep the files under this folder")
    args = ap.parse_args(argv)
    base = args.keep or Path(tempfile.mkdtemp(prefix="aquamind-export-"))
    try:
        results = [export_once(args.url, args.year, fmt, base / fmt) for fmt in args.formats.split(",")]
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    path = RESULTS / f"export_year_{stamp}.json"
    path.write_text(json.dumps({"when": stamp, "machine": machine(), "year": args.year, "results": results},
                               indent=2) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
