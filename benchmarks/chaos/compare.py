"""The chaos warehouse against an undisturbed one: the reference `aquamind generate` of the same
scenario, exact rows and the stored-row hash (benchmarks/storage_paths.py) per table and year,
Dagster's materialized years against the load records, `aquamind validate`, and which faults were
recovered (every year a fault caught running was materialized again after it).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg

BENCHMARKS = Path(__file__).resolve().parents[1]
ROOT = BENCHMARKS.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCHMARKS))
from storage_paths import stored_hashes  # noqa: E402,F401  (the stored-row hash in key order)
from aquamind_assets.runtime import database, settings  # noqa: E402

AQUAMIND = str(Path(sys.executable).with_name("aquamind"))


def env_for(url: str, home: Path, scale: str, seed: int, dagster_url: str | None = None, **extra: str) -> dict:
    """A child environment of this run only: its warehouse, Dagster storage and home."""
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy(ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AQUAMIND_", "DAGSTER_", "PG"))}
    env = dict(base, AQUAMIND_DATABASE_URL=url, DAGSTER_HOME=str(home), AQUAMIND_SCALE=scale,
               AQUAMIND_SEED=str(seed), AQUAMIND_REPORT_DIR=str(home / "report"), **extra)
    env["PYTHONPATH"] = str(ROOT)  # children import this checkout's package, whichever one the venv installed
    if dagster_url:
        env[settings.DAGSTER_URL_VAR] = dagster_url
    env.update(settings.export_env(database.resolve(start_embedded=False, env=env), env=env))
    return env


def aquamind(env: dict, *args: str) -> tuple[int, list[str]]:
    proc = subprocess.run([AQUAMIND, *args], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    return proc.returncode, proc.stdout.splitlines()


def load_records(url: str) -> dict[tuple[str, int], dict]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT asset, year, rows, checksum FROM meta.partition_load").fetchall()
    return {(a, y): {"rows": r, "checksum": c} for a, y, r, c in rows}


def stored(chaos: dict[str, dict], reference: dict[str, dict]) -> dict:
    """Rows lost and duplicated (per table-year, against the reference's exact count) and the
    table-years whose stored rows hash differently."""
    lost = dup = 0
    differ = []
    for key in sorted(chaos.keys() | reference.keys()):
        a, b = chaos.get(key, {"rows": 0}), reference.get(key, {"rows": 0})
        lost += max(0, b["rows"] - a["rows"])
        dup += max(0, a["rows"] - b["rows"])
        if a != b:
            differ.append(key)
    return {"table_years": len(chaos.keys() | reference.keys()), "rows": sum(v["rows"] for v in chaos.values()),
            "reference_rows": sum(v["rows"] for v in reference.values()), "rows_lost": lost,
            "rows_duplicated": dup, "hash_differs": differ, "hashes_equal": not differ}


def dagster_view(stack, keys: list[str], years: list[str], records: dict) -> dict:
    """Every yearly asset's newest materialization of each year against its load record: both
    present, same checksum; anything else listed."""
    mismatches, latest = [], {}
    for key in keys:
        mats = stack.latest_materializations(key, years)
        latest[key] = mats
        for y in years:
            m, rec = mats.get(y), records.get((key, int(y)))
            if m is None or rec is None or str(m["checksum"]) != str(rec["checksum"]):
                mismatches.append({"asset": key, "year": y, "materialized": m is not None, "load_record": rec is not None,
                                   "checksums": [m and m["checksum"], rec and rec["checksum"]]})
    extra = sorted(f"{a}/{y}" for a, y in records if a in keys and str(y) not in years)
    return {"compared": len(keys) * len(years), "mismatches": mismatches, "records_outside": extra,
            "agree": not mismatches and not extra}, latest


def recovered(fault_log: dict, latest: dict, statuses: dict, run_status: dict, service_back: bool) -> dict:
    """A fault is recovered when its service is back, every year it caught running ends whole in
    Dagster's view (each yearly asset materialized, none failed), and each run it caught either
    succeeded or its year was materialized again after the fault (a retry or a re-execution)."""
    at = fault_log["at"]
    hit = fault_log.get("runs_hit", [])
    years = sorted({r["partition"] for r in hit if r["partition"]})
    whole = all(y in st["materialized"] and y not in st["failed"] for st in statuses.values() for y in years)

    def redone(year: str) -> bool:
        return any(year in mats and mats[year]["timestamp"] > at for mats in latest.values())

    runs_ok = all(run_status.get(r["run"]) == "SUCCESS" or (r["partition"] and redone(r["partition"])) for r in hit)
    after = [mats[y]["timestamp"] for y in years for mats in latest.values() if y in mats and mats[y]["timestamp"] > at]
    ok = service_back and whole and runs_ok
    return {"recovered": ok, "years_hit": years,
            "runs_hit": [{**r, "final_status": run_status.get(r["run"])} for r in hit],
            "rematerialized_after_s": round(max(after) - at, 1) if after and ok else None}
