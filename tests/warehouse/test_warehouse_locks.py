"""The lock plan of a load (warehouse/locks.py) and how lock failures are said: in one line, naming
the table, as a deadlock or a lock timeout rather than a lost connection."""
from __future__ import annotations

import threading

import psycopg
import pytest
from wh_specs import EVENT, READING, STORAGE, TEST_TABLES, TEST_YEARS, reading_frame

from aquamind_assets.warehouse import ddl, locks
from aquamind_assets.warehouse.checks import Check
from aquamind_assets.warehouse.load import YearLoad

EVENTS_OF_ALL_YEARS = Check("events_seen", "reads every year of the events (test rule)",
                            "SELECT count(*) + 1, 0 FROM wh_test.event e")


@pytest.fixture(scope="module", autouse=True)
def warehouse(db_url):
    with psycopg.connect(db_url, autocommit=True) as c:
        ddl.create_warehouse(c, years=TEST_YEARS, tables=TEST_TABLES, storage=STORAGE)


def test_a_reference_restricted_to_the_year_locks_one_partition(conn):
    for year in (2015, 2016):  # on the hypertable path a year's relation (its chunk) comes with its load
        with YearLoad(conn, asset="readings", year=year, tables=[READING], scenario_hash="s", code_version="t"):
            pass  # no rows: the next tests expect the readings empty
    pruned = "SELECT count(*) FROM wh_test.reading r WHERE r.year = %(year)s"
    unpruned = "SELECT count(*) FROM wh_test.reading r JOIN wh_test.event e ON e.id = r.sensor_id WHERE r.year = %(year)s"
    with conn.cursor() as cur:
        plan = locks.plan_locks(cur, writes=[], statements=[pruned, unpruned], extra_reads=(), year=2016)
    relations = {name for _, name in plan.modes}
    if STORAGE == "timescale":  # planning a query on a hypertable locks all its chunks: all planned
        assert {"reading", "reading_y2015", "reading_y2016"} <= relations
    else:
        assert {"reading", "reading_y2016"} <= relations and "reading_y2015" not in relations
    assert {"event", "event_y2015", "event_y2016", "event_y2017"} <= relations


def test_the_plan_is_one_sorted_order_with_the_strongest_mode():
    plan = locks.LockPlan()
    plan.need("b", "t", locks.ACCESS_SHARE)
    plan.need("a", "t", locks.ACCESS_SHARE)
    plan.need("b", "t", locks.ACCESS_EXCLUSIVE)
    plan.need("b", "t", locks.ACCESS_SHARE)
    assert plan.ordered() == [("a", "t", locks.ACCESS_SHARE), ("b", "t", locks.ACCESS_EXCLUSIVE)]


def test_a_lock_timeout_names_the_table_it_waited_for(db_url, conn):
    """Another client holds a year partition the load reads: the load gives up after lock_timeout
    with one line naming the partition and the holder, and nothing is written."""
    with psycopg.connect(db_url) as holder:
        client = holder.execute("SELECT coalesce(host(inet_client_addr()), 'local socket')").fetchone()[0]
        holder.execute("LOCK TABLE wh_test.event_y2015 IN ACCESS EXCLUSIVE MODE")
        holder_pid = holder.info.backend_pid
        conn.execute("SET lock_timeout = '300ms'")
        try:
            with pytest.raises(locks.LockConflict) as err:
                with YearLoad(conn, asset="readings", year=2016, tables=[READING], scenario_hash="s1",
                              code_version="test", checks=[EVENTS_OF_ALL_YEARS]) as ld:
                    ld.write(reading_frame(2016, 100))
        finally:
            conn.execute("RESET lock_timeout")
        holder.rollback()
    line = str(err.value)
    assert line.startswith("lock timeout while taking ACCESS SHARE on wh_test.event_y2015 (after 0."), line
    assert f"held by pid {holder_pid}, " in line and f", client {client}, idle in transaction" in line, line
    assert "last statement 'LOCK TABLE wh_test.event_y2015 IN ACCESS EXCLUSIVE MODE'" in line and "\n" not in line
    assert conn.execute("SELECT count(*) FROM wh_test.reading WHERE year = 2016").fetchone()[0] == 0


def test_a_deadlock_with_an_outside_client_names_both_tables(db_url):
    """Two clients outside the protocol lock two tables in opposite orders: the server's deadlock
    detail carries relation ids, which conflict_line turns into names."""
    barrier, errors = threading.Barrier(2), []

    def client(first: str, second: str):
        with psycopg.connect(db_url) as c:
            try:
                c.execute(f"LOCK TABLE {first} IN ACCESS EXCLUSIVE MODE")
                barrier.wait(10)
                c.execute(f"LOCK TABLE {second} IN ACCESS EXCLUSIVE MODE")
            except psycopg.errors.DeadlockDetected as e:
                errors.append(e)

    threads = [threading.Thread(target=client, args=pair) for pair in
               (("wh_test.event_y2015", "wh_test.event_y2016"), ("wh_test.event_y2016", "wh_test.event_y2015"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    (error,) = errors
    line = locks.conflict_line(error, lambda: psycopg.connect(db_url, autocommit=True))
    assert line.startswith("deadlock on wh_test.event_y2015, wh_test.event_y2016: deadlock detected")
    assert "\n" not in line and EVENT.qualified not in line.split(":")[0].split(", ")
