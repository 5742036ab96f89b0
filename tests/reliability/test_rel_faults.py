"""Faults during writes, through real Dagster on real PostgreSQL at tiny scale: a writer killed
mid-COPY, the database restarting mid-backfill, two writers of the same year at once.

Each test breaks something real first (SIGKILL, `pg_ctl restart`, a concurrent writer), then shows
what the platform guarantees. The "guard" comment on each test names the code that provides it.
"""
from __future__ import annotations

import signal
import time

import psycopg

from rel_helpers import (ENV_ASSET, READING, child_result, copy_progress, loads, seed_home, start_child,
                         wait_for, year_fingerprint)

PART_2016 = "environmental_reading_y2016"
PACE = ("--pace", "0.15", "--slice", "2000")  # ~40 slices of the 2016 readings: a COPY of ~6 s


def _backend_gone(url: str, appname: str) -> bool:
    with psycopg.connect(url, autocommit=True) as c:
        return c.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                         (appname,)).fetchone()[0] == 0


def test_writer_killed_mid_copy_keeps_previous_version(fresh_db, template, plan_cache, tmp_path):
    """SIGKILL of a Dagster run while its COPY of environmental_readings 2016 is streaming -> the previous complete year stays (rows, load record, checksum) and a rerun is byte-identical to an undisturbed run"""
    # guard: YearLoad (warehouse/load.py) does TRUNCATE + COPY FREEZE + checks + meta.partition_load
    # in ONE transaction, so a writer that dies before COMMIT leaves nothing behind.
    _, url = fresh_db("killed")
    before = template["loads"][(ENV_ASSET, 2016)]
    proc = start_child(url, seed_home(tmp_path / "home_killed", plan_cache), "rel-killed", ENV_ASSET, 2016, *PACE)
    try:
        with psycopg.connect(url, autocommit=True) as watch:
            sent = wait_for("the child's COPY into the 2016 partition to have sent rows",
                            lambda: max(copy_progress(watch, PART_2016, "rel-killed"), 0), proc=proc)
            # the kill lands mid-COPY: the partition was truncated and new rows are in it, uncommitted
            assert copy_progress(watch, PART_2016, "rel-killed") >= sent > 0
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    wait_for("the killed writer's backend to end", lambda: _backend_gone(url, "rel-killed"), timeout=30)

    with psycopg.connect(url, autocommit=True) as conn:
        after = loads(conn)
        assert after == template["loads"], "the load records changed although no load committed"
        assert year_fingerprint(conn, READING, 2016) == template["reading_2016"], "the previous 2016 is not intact"
        assert conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").fetchone()[0] == 0
        assert sum(before["rows"].values()) == sum(
            conn.execute(f"SELECT count(*) FROM {t} WHERE year = 2016").fetchone()[0] for t in before["rows"])

    # a rerun (undisturbed) replaces the year with exactly what the undisturbed first run wrote
    rerun = start_child(url, seed_home(tmp_path / "home_rerun", plan_cache), "rel-rerun", ENV_ASSET, 2016)
    result = child_result(rerun)
    assert result["success"], result
    assert result["checksum"] == before["checksum"]
    with psycopg.connect(url, autocommit=True) as conn:
        rec = loads(conn)[(ENV_ASSET, 2016)]
        assert rec["checksum"] == before["checksum"] and rec["rows"] == before["rows"]
        assert rec["loaded_at"] > before["loaded_at"], "the rerun did not replace the year"
        assert year_fingerprint(conn, READING, 2016) == template["reading_2016"]
