"""Faults during writes, through real Dagster on real PostgreSQL at tiny scale: a writer killed
mid-COPY, the database restarting mid-backfill, two writers of the same year at once.

Each test breaks something real first (SIGKILL, `pg_ctl restart`, a concurrent writer), then shows
what the platform guarantees. The "guard" comment on each test names the code that provides it.
"""
from __future__ import annotations

import signal
import threading
import time

import psycopg
import pytest

from aquamind_assets.defs import environment
from rel_helpers import (ENV_ASSET, READING, child_result, copy_progress, create_db, drop_db, loads, paced,
                         seed_home, start_child, url_of, wait_for, year_fingerprint)

PART_2016 = "environmental_reading_y2016"
ENV = environment.environmental_readings
PACE = ("--pace", "0.15", "--slice", "2000")  # ~40 slices of the 2016 readings: a COPY of ~6 s


def _backend_gone(url: str, appname: str) -> bool:
    with psycopg.connect(url, autocommit=True) as c:
        return c.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                         (appname,)).fetchone()[0] == 0


def test_writer_killed_mid_copy_keeps_previous_version(fresh_db, template, plan_cache, tmp_path, materialize_here):
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
        assert _advisory_locks(conn, ENV_ASSET, 2016) == {}, "the dead writer's lock is still held"
        assert sum(before["rows"].values()) == sum(
            conn.execute(f"SELECT count(*) FROM {t} WHERE year = 2016").fetchone()[0] for t in before["rows"])

    # a rerun (undisturbed) replaces the year with exactly what the undisturbed first run wrote
    result = materialize_here([ENV], "2016", url, seed_home(tmp_path / "home_rerun", plan_cache))
    assert result.success
    (mat,) = result.get_asset_materialization_events()
    assert mat.materialization.metadata["checksum"].value == before["checksum"]
    with psycopg.connect(url, autocommit=True) as conn:
        rec = loads(conn)[(ENV_ASSET, 2016)]
        assert rec["checksum"] == before["checksum"] and rec["rows"] == before["rows"]
        assert rec["loaded_at"] > before["loaded_at"], "the rerun did not replace the year"
        assert year_fingerprint(conn, READING, 2016) == template["reading_2016"]


# ------------------------------------------------------------------ concurrent writers
def _advisory_locks(conn, asset: str, year: int) -> dict[str, bool]:
    """{application_name: granted} of the backends holding or awaiting the (asset, year) load lock."""
    rows = conn.execute(
        """SELECT a.application_name, l.granted FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
           WHERE l.locktype = 'advisory' AND l.objsubid = 2 AND l.objid = %s
             AND l.classid = ((hashtext(%s)::bigint + 4294967296) %% 4294967296)::oid
             AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())""",
        (year, asset)).fetchall()
    return dict(rows)


def _waits(conn, waiter: str, holder: str) -> str | None:
    """The lock `waiter` awaits from `holder` ('advisory (asset, year)' or 'relation <name>'), else None."""
    row = conn.execute(
        """SELECT l.locktype, l.relation::regclass::text, l.objid FROM pg_stat_activity w
           JOIN pg_stat_activity h ON h.application_name = %s AND h.pid = ANY(pg_blocking_pids(w.pid))
           JOIN pg_locks l ON l.pid = w.pid AND NOT l.granted
           WHERE w.application_name = %s AND w.datname = current_database()""", (holder, waiter)).fetchone()
    if row is None:
        return None
    kind, relation, objid = row
    return f"relation {relation}" if kind == "relation" else f"{kind} {objid}"


@pytest.fixture(scope="module")
def concurrent_writers(admin_url, template, plan_cache, tmp_path_factory):
    """Writer A materializes environmental_readings 2016 (here, paced: its COPY lasts ~6 s); once
    its COPY has sent rows, child B starts the same asset and year and child C the same asset for
    2015. A watcher records, while A streams, whom B and C wait for and on which lock."""
    import dagster as dg

    from aquamind_assets.defs import loading
    from aquamind_assets.definitions import defs

    name = create_db(admin_url, "concurrent", template=template["name"])
    url = url_of(admin_url, name)
    tmp = tmp_path_factory.mktemp("concurrent")
    go = tmp / "go"
    b = start_child(url, seed_home(tmp / "home_b", plan_cache), "rel-writer-b", ENV_ASSET, 2016, "--wait-for", str(go))
    c = start_child(url, seed_home(tmp / "home_c", plan_cache), "rel-writer-c", ENV_ASSET, 2015, "--wait-for", str(go))
    seen: dict[str, set] = {"b": set(), "c": set(), "b_advisory": set(), "a_copy_while_b_waits": set()}
    stop = threading.Event()

    def watch():
        with psycopg.connect(url, autocommit=True) as w:
            wait_for("writer A's COPY", lambda: copy_progress(w, PART_2016, "rel-writer-a") > 0 or stop.is_set())
            go.touch()  # B and C start while A is mid-COPY
            while not stop.is_set():
                for who in ("b", "c"):
                    lock = _waits(w, f"rel-writer-{who}", "rel-writer-a")
                    if lock:
                        seen[who].add(lock)
                        if who == "b":
                            seen["a_copy_while_b_waits"].add(copy_progress(w, PART_2016, "rel-writer-a") > 0)
                locks = _advisory_locks(w, ENV_ASSET, 2016)
                if locks.get("rel-writer-b") is False:
                    seen["b_advisory"].add(locks.get("rel-writer-a"))
                time.sleep(0.02)

    try:
        assert b.stdout.readline().strip() == "READY" and c.stdout.readline().strip() == "READY"
        watcher = threading.Thread(target=watch, daemon=True)
        with pytest.MonkeyPatch.context() as mp:
            for var in ("AQUAMIND_SCENARIO", "AQUAMIND_SEED", "AQUAMIND_REPLACE_ALL"):
                mp.delenv(var, raising=False)
            home = seed_home(tmp / "home_a", plan_cache)
            mp.setenv("AQUAMIND_DATABASE_URL", url)
            mp.setenv("AQUAMIND_SCALE", "tiny")
            mp.setenv("DAGSTER_HOME", str(home))
            mp.setenv("PGAPPNAME", "rel-writer-a")
            mp.setattr(loading, "frames", paced(loading.frames, 0.15))
            watcher.start()
            with dg.instance_for_test(temp_dir=str(home)) as inst:
                a = dg.materialize([ENV], instance=inst, partition_key="2016",
                                   resources={"warehouse": defs.resources["warehouse"]}, raise_on_error=False)
        a_done = time.monotonic()
        results = {"b": child_result(b), "c": child_result(c)}
        stop.set()
        watcher.join(timeout=10)
        with psycopg.connect(url, autocommit=True) as conn:
            final = {"loads": loads(conn), "reading_2016": year_fingerprint(conn, READING, 2016),
                     "reading_2015": year_fingerprint(conn, READING, 2015)}
        yield {"a": a, "a_done": a_done, **results, "seen": seen, "final": final}
    finally:
        stop.set()
        for p in (b, c):
            if p.poll() is None:
                p.kill()
        drop_db(admin_url, name)


def test_two_writers_of_the_same_year_serialize(concurrent_writers, template):
    """Two processes materialize environmental_readings 2016 at the same time -> the second waits for the first to commit, and exactly one copy of the year results, identical to an undisturbed run"""
    # guard: YearLoad (warehouse/load.py) holds its locks to COMMIT: TRUNCATE's ACCESS EXCLUSIVE lock
    # on the year's partitions and pg_advisory_xact_lock(hashtext(asset), year) before it. (What B
    # actually waits on is recorded in seen["b"]: see test_writers_of_other_years_do_not_wait.)
    r, before = concurrent_writers, template["loads"][(ENV_ASSET, 2016)]
    assert r["a"].success and r["b"]["success"], r["b"]
    assert r["seen"]["b"], "the second writer was never seen waiting for the first"
    assert r["seen"]["a_copy_while_b_waits"] == {True}, "B waited, but not while A was writing"
    (mat,) = r["a"].get_asset_materialization_events()
    assert mat.materialization.metadata["checksum"].value == r["b"]["checksum"] == before["checksum"]
    final = r["final"]
    assert sorted(final["loads"]) == sorted(template["loads"]), "one load record per (asset, year)"
    assert final["loads"][(ENV_ASSET, 2016)]["rows"] == before["rows"]
    assert final["loads"][(ENV_ASSET, 2016)]["checksum"] == before["checksum"]
    n, distinct, _ = final["reading_2016"]
    assert final["reading_2016"] == template["reading_2016"], "not exactly one copy of the year"
    assert n == distinct == before["rows"][READING]


@pytest.mark.xfail(strict=True, reason="BUG create_warehouse: every load_year first runs ddl.create_warehouse, whose "
                   "CREATE INDEX IF NOT EXISTS on every year partition queues behind any running load's TRUNCATE lock "
                   "(while holding the global aquamind:ddl lock), so a load of one year blocks the loads of all others")
def test_writers_of_other_years_do_not_wait(concurrent_writers):
    """A load of environmental_readings 2015 starts while 2016 is being written -> it does not wait for 2016 (the lock is per asset and year)"""
    # guard (intended): the lock key (hashtext(asset), year) of YearLoad._lock; years load in parallel.
    r = concurrent_writers
    assert r["c"]["success"], r["c"]
    assert not r["seen"]["c"], f"the 2015 writer waited for the 2016 writer on: {sorted(r['seen']['c'])}"
    assert r["seen"]["b"] <= {f"advisory {2016}"}, f"the 2016 writer waited on {sorted(r['seen']['b'])}"
