"""The README's quick start on a fresh clone, timed: `./scripts/quickstart` (install, then
`aquamind generate` at `small` for 2015-2024 on the embedded PostgreSQL) with a minimal
environment, as a newcomer's shell would run it. The target (issue: the whole main job within 3x
raw) is the generate part under 120 s after the install.

    .venv/bin/python benchmarks/quickstart.py [--keep] [-- extra quickstart args]

Clones the committed HEAD (uncommitted changes are not measured), stops the embedded server at
the end and removes the clone unless --keep.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from run import machine  # noqa: E402

MINIMAL_ENV = {"HOME": str(Path.home()), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
PROGRESS = re.compile(r"^\s+(static|\d{4} \w+|dbt \w+|report)\s+.*?([\d.]+) s\b")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", action="store_true", help="keep the clone (and its embedded database)")
    ap.add_argument("extra", nargs="*", help="arguments passed on to ./scripts/quickstart")
    args = ap.parse_args(argv)
    clone = Path(tempfile.mkdtemp(prefix="aquamind-quickstart-"))
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    t0 = time.perf_counter()
    proc = subprocess.run(["./scripts/quickstart", *args.extra], cwd=clone, env=MINIMAL_ENV,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wall = time.perf_counter() - t0
    lines = [ln for ln in proc.stdout.splitlines() if not ln.startswith("WARNING: Location")]
    done = next((float(m.group(1)) for ln in lines if (m := re.match(r"done in ([\d.]+) s", ln))), None)
    steps = {m.group(1): float(m.group(2)) for ln in lines if (m := PROGRESS.match(ln))}
    subprocess.run([str(clone / ".venv/bin/aquamind"), "db", "down"], cwd=clone, env=MINIMAL_ENV,
                   stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    result = {"when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "machine": machine(),
              "args": args.extra, "exit_code": proc.returncode, "wall_s": round(wall, 1),
              "generate_s": done, "install_s": round(wall - done, 1) if done else None,
              "steps_s": steps, "output_lines": len(lines), "log_tail": lines[-30:]}
    print("\n".join(lines[-30:]))
    print(f"quick start: exit {proc.returncode}, {wall:.1f} s in all, generate {done} s "
          f"(target < 120 s after install), install {result['install_s']} s, {len(lines)} lines of output")
    out = ROOT / "benchmarks" / "results" / f"quickstart_{dt.datetime.now().strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"results: {out}")
    if not args.keep:
        shutil.rmtree(clone, ignore_errors=True)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
