"""Where a generated warehouse's load time went on its rules, read from what the loads stored.

Per yearly asset, summed over its stored years from meta.partition_load.phases: the write phase
and the checks phase (SQL rules, and the totals of the frame rules judged after the last frame),
against the target: checks at most 25 % of write, or at most 0.5 s per asset-year. Per rule, the
seconds stored with its evaluations (meta.rule_evaluation; a frame rule's include the lookup and
the per-frame work done in the producing thread, inside the write phase). Then `dbt build` of the
data-quality marts (rule_results, data_quality) alone, timed, against its target of 10 s.
Writes benchmarks/results/rule_checks_<timestamp>.json and prints the table.

    .venv/bin/python benchmarks/rule_checks.py postgresql://postgres@127.0.0.1:5432/aquamind_full
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
PHASES = """SELECT asset, count(*), sum((phases->>'write')::float8), sum((phases->>'checks')::float8),
                   sum((SELECT sum(v::bigint) FROM jsonb_each_text(rows) AS r(k, v)))
            FROM meta.partition_load WHERE year > 0 GROUP BY asset ORDER BY asset"""
RULES = """SELECT e.asset, e.rule, r.forms, count(*), sum(e.seconds), sum(e.examined)
           FROM meta.rule_evaluation e JOIN meta.rule r USING (rule)
           WHERE e.source = 'load' AND e.committed AND e.year > 0 GROUP BY 1, 2, 3 ORDER BY 5 DESC"""


def asset_rows(conn) -> list[dict]:
    out = []
    for asset, years, write, checks, rows in conn.execute(PHASES).fetchall():
        met = checks <= 0.25 * write or checks <= 0.5 * years
        out.append({"asset": asset, "years": years, "rows": int(rows), "write_s": round(write, 2),
                    "checks_s": round(checks, 2), "checks_share_of_write": round(checks / write, 3) if write else None,
                    "checks_per_year_s": round(checks / years, 3), "target_met": met})
    return out


def dbt_data_quality(url: str) -> dict:
    """`dbt build` of the two data-quality marts and their tests, against the warehouse of `url`."""
    from aquamind_assets.runtime import database, settings

    env = {**os.environ, **settings.export_env(database.resolve(start_embedded=False,
                                                                 env={settings.WAREHOUSE_URL_VAR: url}))}
    exe = Path(sys.executable).with_name("dbt")
    t0 = time.perf_counter()
    p = subprocess.run([str(exe), "build", "--select", "rule_results", "data_quality", "--profiles-dir", "dbt_project",
                        "--project-dir", "dbt_project", "--quiet"], cwd=ROOT, env=env, capture_output=True, text=True)
    return {"seconds": round(time.perf_counter() - t0, 2), "ok": p.returncode == 0,
            "output_tail": (p.stdout + p.stderr)[-2000:] if p.returncode else ""}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url", help="the generated warehouse")
    args = ap.parse_args()
    with psycopg.connect(args.url, autocommit=True) as conn:
        assets = asset_rows(conn)
        rules = [{"asset": a, "rule": r, "forms": f, "years": n, "seconds": round(s or 0, 3), "examined": int(x)}
                 for a, r, f, n, s, x in conn.execute(RULES).fetchall()]
        server = conn.execute("SHOW server_version").fetchone()[0]
    dbt = dbt_data_quality(args.url)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    out = {"when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "commit": commit,
           "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "postgres": server},
           "assets": assets, "rules": rules, "dbt_data_quality": dbt,
           "targets_met": all(a["target_met"] for a in assets) and dbt["ok"] and dbt["seconds"] < 10}
    print(f"{'asset':<24}{'years':>6}{'write s':>10}{'checks s':>10}{'share':>8}  target")
    for a in assets:
        print(f"{a['asset']:<24}{a['years']:>6}{a['write_s']:>10.2f}{a['checks_s']:>10.2f}"
              f"{a['checks_share_of_write'] or 0:>8.1%}  {'met' if a['target_met'] else 'MISSED'}")
    print(f"dbt build of rule_results + data_quality: {dbt['seconds']} s ({'ok' if dbt['ok'] else 'FAILED'})")
    print("slowest rules at load:", ", ".join(f"{r['rule']} {r['seconds']} s" for r in rules[:5]))
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"rule_checks_{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")
    return 0 if out["targets_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
