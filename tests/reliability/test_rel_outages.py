"""Outages a load meets on a shared server, through real Dagster on real PostgreSQL at tiny scale: a
client stalled while holding a lock the load needs, a disk that fills during the COPY, Dagster's
storage or the warehouse unavailable while the other is fine.

Each test breaks something real first (an open transaction on a second connection, a tablespace on a
small tmpfs, a storage URL on a closed port), then shows the one-line failure, that the previous
version of the year is intact, and that the next run once the cause is gone succeeds. The "guard"
comment on each test names the code that provides it.
"""
from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from aquamind_assets.defs import production
from rel_helpers import (AQUAMIND, REPO, child_env, databases, drop_db, loads, one_line, seed_home, table_ident, wait_for,
                         year_fingerprint)

MORTALITY = "batch.mortality_event"
MORTALITY_ASSET = "mortality_events"
PART = "mortality_event_y2016"
MORT = production.mortality_events


def _step_errors(result) -> tuple[list[str], list[str]]:
    """(the error of each attempt RetryPolicy retried, the error of the step's final failure)."""
    retried, failed = [], []
    for e in result.all_events:
        if e.event_type_value == "STEP_UP_FOR_RETRY" or e.is_step_failure:
            err = e.event_specific_data.error
            while err.cls_name in ("RetryRequestedFromPolicy", "RetryRequested", "DagsterExecutionStepExecutionError") \
                    and err.cause is not None:
                err = err.cause
            (failed if e.is_step_failure else retried).append(err.message.strip())
    return retried, failed


def _stored(url: str | None = None, conn=None) -> dict:
    """The load records and the fingerprint of mortality 2016, on `conn` or a new connection to `url`."""
    if conn is None:
        with psycopg.connect(url, autocommit=True) as c:
            return _stored(conn=c)
    return {"loads": loads(conn), "mortality_2016": year_fingerprint(conn, MORTALITY, 2016)}


# ------------------------------------------------------------------ a stalled lock holder
def _waiters(conn, relname: str) -> list[int]:
    """The pids of the backends waiting now for a lock on `relname` (of this database)."""
    return [r[0] for r in conn.execute(
        """SELECT l.pid FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
           WHERE NOT l.granted AND c.relname = %s
             AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())""", (relname,))]


def _transaction_over(conn, pid: int) -> bool:
    row = conn.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
    return row is None or row[0] == "idle"


def _release_after_the_first_timeout(url: str, holder, relname: str, seen: dict) -> None:
    """Wait until a load waits for `relname`, gives up and has rolled back (its session idle or gone,
    so it has looked the holder up already); record what a reader sees then (read by the holder:
    holding the relation already, it never queues behind a retry that may be waiting for it by now),
    then commit the holder, so the retry can take the lock."""
    with psycopg.connect(url, autocommit=True) as watch:
        (pid, *_) = wait_for(f"a load to wait for {relname}", lambda: _waiters(watch, relname), timeout=120)
        wait_for("the load's attempt to end", lambda: _transaction_over(watch, pid), timeout=60)
    seen["between_attempts"] = _stored(conn=holder)
    holder.commit()


def _stalled_holder(url: str, application: str, table: str, relation: str, materialize):
    """Run `materialize` while a client sits idle in a transaction that read `table` (ACCESS SHARE),
    released once the load's first attempt has timed out; the run must succeed on its one retry.
    Returns (the retried attempt's one line, the holder's pid and client address, what the watcher
    saw between the attempts)."""
    holder = psycopg.connect(url, application_name=application)
    seen: dict = {}
    try:
        client = holder.execute("SELECT coalesce(host(inet_client_addr()), 'local socket')").fetchone()[0]
        holder.execute(f"SELECT count(*) FROM {table}")  # an analyst's open transaction
        pid = holder.info.backend_pid
        watcher = threading.Thread(target=_release_after_the_first_timeout, args=(url, holder, relation, seen),
                                   daemon=True)
        watcher.start()
        result = materialize()
        watcher.join(timeout=60)
    finally:
        holder.close()
    retried, failed = _step_errors(result)
    assert result.success, failed
    assert len(retried) == 1, retried
    (line,) = retried
    assert one_line(line), line
    return line, pid, client, seen


def test_a_stalled_lock_holder_fails_the_load_in_one_line_naming_it(fresh_db, plan_cache, tmp_path, materialize_here,
                                                                     monkeypatch):
    """A client idle in an open transaction holding ACCESS SHARE on mortality_event_y2016 while the load waits for it (AQUAMIND_LOCK_TIMEOUT_S=2) -> the attempt fails after about 2 s with one line naming the table, the lock timeout and the holder (pid, application, client, its statement); rows and load record unchanged; the retry succeeds once the holder commits"""
    # guard: YearLoad's SET LOCAL lock_timeout (warehouse/load.py, from settings.lock_timeout_s),
    # locks.acquire's savepoint per LOCK and blockers() lookup, lock_failure (defs/loading.py).
    _, url = fresh_db("stalled")
    before = _stored(url)
    monkeypatch.setenv("AQUAMIND_LOCK_TIMEOUT_S", "2")
    line, holder_pid, client, seen = _stalled_holder(
        url, "rel-stalled-holder", f"batch.{PART}", PART,
        lambda: materialize_here([MORT], "2016", url, seed_home(tmp_path / "home", plan_cache)))
    waited = float(re.search(r"\(after (\d+\.\d) s;", line)[1])  # measured by the load around its LOCK
    assert 1.9 <= waited <= 4, f"the load waited {waited} s for a 2 s lock timeout: {line}"
    for fragment in (f"{MORTALITY_ASSET} 2016: lock timeout while taking ACCESS EXCLUSIVE on batch.{PART}",
                     f"pid {holder_pid}", "'rel-stalled-holder'", f"client {client},", "idle in transaction",
                     f"SELECT count(*) FROM batch.{PART}", "will retry"):
        assert fragment in line, f"{fragment!r} not in: {line}"
    assert seen["between_attempts"] == before, "the failed attempt changed the stored year or its load record"
    after = _stored(url)
    assert after["mortality_2016"] == before["mortality_2016"]  # the same plan: the same rows
    rec, old = after["loads"][(MORTALITY_ASSET, 2016)], before["loads"][(MORTALITY_ASSET, 2016)]
    assert rec["checksum"] == old["checksum"] and rec["loaded_at"] > old["loaded_at"], "the retry did not load"


def test_a_stalled_holder_of_a_static_table_fails_the_static_load_in_one_line(fresh_db, plan_cache, tmp_path,
                                                                             materialize_here, monkeypatch):
    """A client idle in an open transaction holding ACCESS SHARE on infrastructure.sensor while the static load waits for it (AQUAMIND_LOCK_TIMEOUT_S=1) -> the attempt fails with one line naming the table and the holder, and commits nothing (load records unchanged); the retry succeeds once the holder commits"""
    # guard: StaticLoad with the same lock timeout (defs/static.py) and lock_failure.
    from aquamind_assets.defs import static

    _, url = fresh_db("stalled_static")
    before = _stored(url)
    monkeypatch.setenv("AQUAMIND_LOCK_TIMEOUT_S", "1")
    line, pid, _, seen = _stalled_holder(
        url, "rel-stalled-static", "infrastructure.sensor", "sensor",
        lambda: materialize_here([static.static_assets], None, url, seed_home(tmp_path / "home", plan_cache)))
    for fragment in ("static tables: lock timeout while taking ACCESS EXCLUSIVE on infrastructure.sensor",
                     f"pid {pid}", "'rel-stalled-static'", "SELECT count(*) FROM infrastructure.sensor"):
        assert fragment in line, f"{fragment!r} not in: {line}"
    assert seen["between_attempts"] == before, "the failed attempt changed what is stored"
    rec, old = _stored(url)["loads"][("static", 0)], before["loads"][("static", 0)]
    assert rec["checksum"] == old["checksum"] and rec["loaded_at"] > old["loaded_at"], "the retry did not load"


def test_a_running_load_is_waited_for_past_the_lock_timeout(fresh_db, tmp_path):
    """A load holding a partition another load needs for longer than AQUAMIND_LOCK_TIMEOUT_S, while it is still working -> the second load keeps waiting (no failure between loads) and completes once the first commits"""
    # guard: locks.blockers' running_load (a holder of a load's (asset, year) advisory lock that is
    # not idle in its transaction) and acquire's wait again for it.
    from aquamind_assets.warehouse import locks

    _, url = fresh_db("patient")
    with psycopg.connect(url) as first, psycopg.connect(url, autocommit=True) as second:
        first.execute("SELECT pg_advisory_xact_lock(hashtext('rel_other_load'), 2016)")
        first.execute(f"LOCK TABLE batch.{PART} IN ACCESS EXCLUSIVE MODE")
        done = threading.Event()

        def busy_then_commit():  # 'active' for 3 s (a statement running), then commits
            first.execute("SELECT pg_sleep(3)")
            first.commit()
            done.set()

        plan = locks.LockPlan()
        plan.need("batch", PART, locks.ACCESS_SHARE)
        worker = threading.Thread(target=busy_then_commit, daemon=True)
        worker.start()
        t0 = time.monotonic()
        with second.transaction():
            second.execute("SET LOCAL lock_timeout = '500ms'")
            with second.cursor() as cur:
                locks.acquire(cur, plan)
        waited = time.monotonic() - t0
        worker.join(timeout=10)
    assert done.is_set() and waited >= 2.5, f"acquired after {waited:.1f} s, before the first load committed"


def test_a_bad_lock_timeout_is_refused_in_one_line(new_db, admin_url, tmp_path):
    """AQUAMIND_LOCK_TIMEOUT_S set to a non-number, zero, a negative number, nan, inf or more than a day -> one line naming the variable; `aquamind generate` exits 2 with it before anything is written"""
    # guard: settings.lock_timeout_s (the only reader of the environment), checked by cli/connection.connect
    # before the databases are resolved; cli.main's one-line handler.
    from aquamind_assets.runtime import settings

    name, url = new_db("bad_timeout")
    home = tmp_path / "home"
    home.mkdir()
    _refused(*_generate(url, home, AQUAMIND_LOCK_TIMEOUT_S="soon"), "AQUAMIND_LOCK_TIMEOUT_S='soon'", "seconds")
    assert _relations(url) == 0 and f"{name}_dagster" not in databases(admin_url)

    assert settings.lock_timeout_s({}) == 60.0 and settings.lock_timeout_s({"AQUAMIND_LOCK_TIMEOUT_S": "2.5"}) == 2.5
    for bad in ("abc", "0", "-1", "nan", "inf", "86401", "1e9"):
        with pytest.raises(settings.InvalidSetting) as err:
            settings.lock_timeout_s({"AQUAMIND_LOCK_TIMEOUT_S": bad})
        assert one_line(str(err.value)) and "AQUAMIND_LOCK_TIMEOUT_S" in str(err.value), str(err.value)


# ------------------------------------------------------------------ disk full
def _run(*cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=60)


@pytest.fixture
def small_tablespace(admin_url):
    """A tablespace on an 8 MiB tmpfs mounted here and owned by the server's account; yields
    {'name', 'mount'}. Skips when this process cannot mount (not root) or the server cannot use the
    directory (another machine). The tablespace is dropped and the tmpfs unmounted whatever happens
    (the test moves its relations back to pg_default first)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs for the tablespace needs root")
    try:
        owner = pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("no postgres account here to own the tablespace directory")
    root = Path(tempfile.mkdtemp(prefix="aquamind-rel-tbs-", dir="/tmp"))
    shutil.chown(root, owner.pw_uid, owner.pw_gid)  # the server's account must reach the mount point
    mount = root / "mnt"
    mount.mkdir()
    res = _run("mount", "-t", "tmpfs", "-o", f"size=8m,mode=0700,uid={owner.pw_uid},gid={owner.pw_gid}",
               "tmpfs", str(mount))
    if res.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"cannot mount a tmpfs here: {res.stderr.strip()}")
    name = f"aquamind_rel_small_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            try:
                admin.execute(sql.SQL("CREATE TABLESPACE {} LOCATION {}").format(sql.Identifier(name),
                                                                               sql.Literal(str(mount))))
            except psycopg.Error as e:
                pytest.skip(f"the server cannot use {mount} for a tablespace (not on this machine?): "
                            f"{str(e).splitlines()[0]}")
        yield {"name": name, "mount": mount}
    finally:
        try:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(sql.SQL("DROP TABLESPACE IF EXISTS {}").format(sql.Identifier(name)))
        finally:
            if _run("umount", str(mount)).returncode != 0:
                _run("umount", "-l", str(mount))  # a backend may still have a file of it open
            shutil.rmtree(root, ignore_errors=True)


def test_disk_full_during_copy_fails_in_one_line_and_keeps_the_year(admin_url, fresh_db, small_tablespace, plan_cache,
                                                                   tmp_path, materialize_here):
    """The 2016 partition of batch.mortality_event on a tablespace of an 8 MiB tmpfs filled up to 64 KiB, so the load's COPY hits ENOSPC -> the run fails (not retried) with one line naming disk space, the table and its tablespace; the previous 2016 (rows, load record) is intact; after room is made the rerun succeeds"""
    # guard: YearLoad's one transaction (the failed COPY's files go with the rollback),
    # disk_full_failure (defs/loading.py) beside the other one-line failures of load_year.
    name, url = fresh_db("diskfull")
    tbs, mount = small_tablespace["name"], small_tablespace["mount"]
    part = sql.SQL("{}.{}").format(sql.Identifier("batch"), sql.Identifier(PART))
    filler = mount / "filler"
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("ALTER TABLE {} SET TABLESPACE {}").format(part, sql.Identifier(tbs)))
            stored = conn.execute(sql.SQL("SELECT pg_total_relation_size({})").format(sql.Literal(f"batch.{PART}")))
            assert stored.fetchone()[0] > 64 * 1024, "the year is too small to overflow 64 KiB"
        before = _stored(url)
        free = shutil.disk_usage(mount).free
        with open(filler, "wb") as fh:  # leave 64 KiB: less than the year the load writes again
            fh.write(b"\0" * (free - 64 * 1024))
        shutil.chown(filler, "postgres", "postgres")
        home = seed_home(tmp_path / "home", plan_cache)
        result = materialize_here([MORT], "2016", url, home)
        retried, failed = _step_errors(result)
        assert not result.success and not retried, retried
        (line,) = failed
        assert one_line(line), line
        for fragment in (f"{MORTALITY_ASSET} 2016: out of disk space writing batch.{PART}", f"tablespace {tbs}",
                         str(mount), "No space left on device", "previous version of the year is kept"):
            assert fragment in line, f"{fragment!r} not in: {line}"
        assert _stored(url) == before, "the failed load changed the stored year or its load record"

        filler.unlink()  # room is made
        rerun = materialize_here([MORT], "2016", url, home)
        assert rerun.success, _step_errors(rerun)
        after = _stored(url)
        assert after["mortality_2016"] == before["mortality_2016"]
        rec, old = after["loads"][(MORTALITY_ASSET, 2016)], before["loads"][(MORTALITY_ASSET, 2016)]
        assert rec["checksum"] == old["checksum"] and rec["loaded_at"] > old["loaded_at"]
    finally:
        filler.unlink(missing_ok=True)
        try:  # the tablespace can only be dropped empty
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(sql.SQL("ALTER TABLE {} SET TABLESPACE pg_default").format(part))
        except psycopg.Error:
            drop_db(admin_url, name)


# ------------------------------------------------------------------ one storage down, the other fine
def _closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _generate(url: str, home: Path, **extra: str) -> tuple[int, str, str]:
    """The installed `aquamind generate --scale tiny --years 2016 --no-dbt` against `url`, with the
    persistent instance's dagster.yaml (runs in PostgreSQL) in `home`."""
    shutil.copy(REPO / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    env = child_env(url, home, "rel-outage", **extra)
    p = subprocess.run([*AQUAMIND, "generate", "--scale", "tiny", "--years", "2016", "--no-dbt"], env=env,
                       capture_output=True, text=True, timeout=600, cwd=str(REPO))
    return p.returncode, p.stdout, p.stderr


def _relations(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as c:
        return c.execute("""SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                            WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')""").fetchone()[0]


def _refused(code: int, out: str, err: str, *fragments: str) -> str:
    assert code == 2, f"exit {code}: {out[-2000:]} {err[-2000:]}"
    assert "Traceback" not in out + err and one_line(err), err
    line = err.strip()
    for fragment in ("aquamind: error: ", *fragments):
        assert fragment in line, f"{fragment!r} not in: {line}"
    return line


def _recovered(url: str, before: dict, dagster_url: str, unfinished: set[str] = frozenset()) -> None:
    """Every yearly asset's 2016 is loaded (anew), mortality 2016 as before, and Dagster recorded the
    runs as succeeded (or, for runs cut off from it, in one of the `unfinished` states)."""
    from aquamind_assets.definitions import YEARLY_ASSETS

    after = _stored(url)
    assert after["mortality_2016"] == before["mortality_2016"]
    for asset in (a.key.to_user_string() for a in YEARLY_ASSETS):
        assert (asset, 2016) in after["loads"], f"{asset} 2016 was not loaded"
    rec, old = after["loads"][(MORTALITY_ASSET, 2016)], before["loads"][(MORTALITY_ASSET, 2016)]
    assert rec["checksum"] == old["checksum"] and rec["loaded_at"] > old["loaded_at"]
    with psycopg.connect(dagster_url, autocommit=True) as c:
        statuses = dict(c.execute("SELECT status, count(*) FROM runs GROUP BY status").fetchall())
    assert statuses.get("SUCCESS", 0) >= 3 and set(statuses) - {"SUCCESS"} <= set(unfinished), statuses


def _two_storages(fresh_db, new_db, plan_cache, tmp_path, warehouse: str, dagster: str):
    """A warehouse copied from the template, an empty Dagster storage and a DAGSTER_HOME seeded with
    the plan: (warehouse name, url, Dagster storage name, url, home)."""
    name, url = fresh_db(warehouse)
    dagster_name, dagster_url = new_db(dagster)
    return name, url, dagster_name, dagster_url, seed_home(tmp_path / "home", plan_cache)


def _rerun_recovers(url: str, home, dagster_url: str, before: dict, unfinished: set[str] = frozenset()) -> None:
    """With both storages up again, `aquamind generate` completes, every year is whole and recovered."""
    code, out, err = _generate(url, home, AQUAMIND_DAGSTER_DATABASE_URL=dagster_url)
    assert code == 0, out[-3000:] + err[-3000:]
    _whole(url)
    _recovered(url, before, dagster_url, unfinished=unfinished)


def test_dagster_storage_down_fails_in_one_line_and_writes_nothing(fresh_db, new_db, plan_cache, tmp_path):
    """Dagster's storage unreachable (AQUAMIND_DAGSTER_DATABASE_URL on a closed port) while the warehouse is fine -> `aquamind generate` exits 2 with one line naming Dagster's storage and the host tried, the warehouse is untouched (rows, load records, relations); the next run with the storage back loads the year"""
    # guard: database.ensure_databases / _ensure_one naming which storage (runtime/database.py),
    # cli.main's one-line handler; generate resolves and checks both storages before writing anything.
    name, url, _, dagster_url, home = _two_storages(fresh_db, new_db, plan_cache, tmp_path, "dagster_down", "dagster_store")
    before, relations = _stored(url), _relations(url)
    port = _closed_port()
    down = f"postgresql://postgres@127.0.0.1:{port}/{name}_dagster"
    _refused(*_generate(url, home, AQUAMIND_DAGSTER_DATABASE_URL=down),
             "Dagster's storage (AQUAMIND_DAGSTER_DATABASE_URL) is unavailable", f"127.0.0.1:{port}", "refused",
             "nothing was written to the warehouse")
    assert _stored(url) == before and _relations(url) == relations, "the warehouse changed"
    assert _relations(dagster_url) == 0

    _rerun_recovers(url, home, dagster_url, before)  # the storage is back


def test_warehouse_down_fails_in_one_line_and_writes_nothing(fresh_db, new_db, plan_cache, tmp_path):
    """The warehouse unreachable (AQUAMIND_DATABASE_URL on a closed port) while Dagster's storage is fine -> `aquamind generate` exits 2 with one line naming the warehouse and the host tried, nothing is written to either storage; the next run with the warehouse back loads the year"""
    # guard: database.check_reachable naming the warehouse (runtime/database.py), run before
    # anything touches Dagster's storage; cli.main's one-line handler.
    name, url, _, dagster_url, home = _two_storages(fresh_db, new_db, plan_cache, tmp_path, "warehouse_down", "dagster_fine")
    before, relations = _stored(url), _relations(url)
    port = _closed_port()
    _refused(*_generate(f"postgresql://postgres@127.0.0.1:{port}/{name}", home, AQUAMIND_DAGSTER_DATABASE_URL=dagster_url),
             "the warehouse (AQUAMIND_DATABASE_URL) is unavailable", f"127.0.0.1:{port}", "refused")
    assert _relations(dagster_url) == 0, "Dagster's storage was written"
    assert _stored(url) == before and _relations(url) == relations

    _rerun_recovers(url, home, dagster_url, before)  # the warehouse is back


def _whole(url: str) -> dict:
    """The load records, after checking that every yearly one's rows per table are exactly what the
    warehouse holds for that year (no year half-written)."""
    with psycopg.connect(url, autocommit=True) as conn:
        records = loads(conn)
        for (asset, year), rec in records.items():
            for table, n in (rec["rows"].items() if year else ()):
                q = sql.SQL("SELECT count(*) FROM {} WHERE year = {}").format(table_ident(table), sql.Literal(year))
                assert conn.execute(q).fetchone()[0] == n, f"{table} {year} does not hold what {asset}'s record says"
    return records


def _whole_as_before(url: str, before: dict) -> None:
    """Every year whole (_whole), and each load recorded before the outage still the undisturbed one."""
    for key, rec in _whole(url).items():
        if key in before["loads"]:
            assert rec["checksum"] == before["loads"][key]["checksum"], key


def _advisory_year_lock(url: str, year: int) -> bool:
    """Whether a load of `year` holds its (asset, year) lock now, i.e. its transaction is open."""
    with psycopg.connect(url, autocommit=True) as c:
        return c.execute("""SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 AND objid = %s
                              AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())""",
                         (year,)).fetchone()[0] > 0


def _generate_losing(admin_url: str, url: str, home: Path, dagster_url: str, victim: str) -> tuple[int, str, str]:
    """`aquamind generate` (as _generate) while the database `victim` is closed to connections and its
    sessions terminated as soon as a 2016 load's transaction is open in the warehouse; reopened after."""
    shutil.copy(REPO / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    proc = subprocess.Popen([*AQUAMIND, "generate", "--scale", "tiny", "--years", "2016", "--no-dbt"],
                            env=child_env(url, home, "rel-outage", AQUAMIND_DAGSTER_DATABASE_URL=dagster_url),
                            cwd=str(REPO), text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    db = sql.Identifier(victim)
    try:
        wait_for("a 2016 load's transaction", lambda: _advisory_year_lock(url, 2016), timeout=240, every=0.01, proc=proc)
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(db))
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (victim,))
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS true").format(db))
    return proc.returncode, out, err


def test_dagster_storage_lost_mid_run_fails_in_one_line_and_years_stay_whole(admin_url, fresh_db, new_db, plan_cache,
                                                                             tmp_path):
    """Dagster's storage database closed to connections and its sessions terminated while `aquamind generate` has a year's load open in the warehouse -> exit 2 with one line naming Dagster's storage, no traceback; every year in the warehouse is whole (rows = its load record) with the data of an undisturbed run; the rerun once the storage is back completes"""
    # guard: cli/runs.run turning Dagster's storage errors (SQLAlchemy, dagster-postgres) into one line
    # (storage_down) and holding back its reconnection chatter; YearLoad needs nothing from Dagster
    # inside a year's transaction, so each year commits whole or rolls back.
    _, url, dagster_name, dagster_url, home = _two_storages(fresh_db, new_db, plan_cache, tmp_path, "dagster_lost", "dagster_lost_store")
    before = _stored(url)
    _refused(*_generate_losing(admin_url, url, home, dagster_url, victim=dagster_name),
             "Dagster's storage (AQUAMIND_DAGSTER_DATABASE_URL) became unavailable during the 2016 operations run",
             "every year in the warehouse is whole")
    _whole_as_before(url, before)  # what was loaded before the loss is an undisturbed run's data
    assert _stored(url)["mortality_2016"] == before["mortality_2016"]

    _rerun_recovers(url, home, dagster_url, before, unfinished={"STARTED"})  # the lost run could not record its end


def test_warehouse_lost_mid_run_fails_in_one_line_and_years_stay_whole(admin_url, fresh_db, new_db, plan_cache,
                                                                       tmp_path):
    """The warehouse database closed to connections and its sessions terminated while a year's load is open, Dagster's storage fine -> the attempt and its retries fail, `aquamind generate` exits 2 with one line naming the lost warehouse connection; the year rolled back whole, Dagster recorded the failed run; the rerun once the warehouse is back completes"""
    # guard: load_year's OperationalError line (defs/loading.py) and RetryPolicy, YearLoad's one
    # transaction, cli/runs.failure_line and generate's one-line summary of failed years.
    name, url, _, dagster_url, home = _two_storages(fresh_db, new_db, plan_cache, tmp_path, "warehouse_lost", "warehouse_lost_store")
    before = _stored(url)
    line = _refused(*_generate_losing(admin_url, url, home, dagster_url, victim=name),
                    "2016 operations failed", "lost the warehouse connection while loading")
    assert "not currently accepting connections" in line or "terminat" in line, line
    _whole_as_before(url, before)
    with psycopg.connect(dagster_url, autocommit=True) as c:
        statuses = dict(c.execute("SELECT status, count(*) FROM runs GROUP BY status").fetchall())
    assert statuses.get("FAILURE") == 1, statuses  # Dagster, which stayed up, knows the run failed

    _rerun_recovers(url, home, dagster_url, before, unfinished={"FAILURE"})  # the warehouse is back
