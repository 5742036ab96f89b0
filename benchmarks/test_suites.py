"""The test suite's counts on each kind of server, from the logs of `./scripts/test` runs, as one
committed record (issue: TimescaleDB for real, "the whole suite passes on both servers"):

    ./scripts/test -p no:warnings 2>&1 | tee /tmp/native.log
    AQUAMIND_STORAGE=timescale AQUAMIND_TEST_ADMIN_URL=postgresql://postgres@127.0.0.1:5433/postgres \\
        ./scripts/test -p no:warnings 2>&1 | tee /tmp/timescale.log
    .venv/bin/python benchmarks/test_suites.py native=/tmp/native.log timescale=/tmp/timescale.log

Each log's final pytest summary gives passed / failed / skipped / errors and seconds; its
"SKIPPED [n] file:line: reason" lines give why each skip happened.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from run import machine  # noqa: E402

SUMMARY = re.compile(r"^=*\s*(?P<body>(\d+ \w+(, )?)+) in (?P<seconds>[\d.]+)s")


def parse(log: str) -> dict:
    lines = Path(log).read_text(errors="replace").splitlines()
    summary = next((m for ln in reversed(lines) if (m := SUMMARY.match(ln.strip()))), None)
    if summary is None:
        raise SystemExit(f"{log}: no pytest summary line (did the run finish?)")
    counts = {word: int(n) for n, word in re.findall(r"(\d+) (\w+)", summary["body"])}
    skips = [ln.strip() for ln in lines if ln.startswith("SKIPPED [")]
    return {"counts": counts, "seconds": float(summary["seconds"]), "skipped": skips}


def main(argv=None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if not args:
        raise SystemExit(__doc__)
    suites = {}
    for arg in args:
        storage, _, log = arg.partition("=")
        suites[storage] = parse(log)
        c = suites[storage]["counts"]
        print(f"{storage:<10} {c} in {suites[storage]['seconds']:.0f} s")
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    result = {"when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "machine": machine(),
              "commit": commit, "suites": suites}
    out = ROOT / "benchmarks" / "results" / f"test_suites_{dt.datetime.now().strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"results: {out}")
    failed = any(s["counts"].get("failed", 0) or s["counts"].get("errors", 0) for s in suites.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
