"""Year replacement is atomic, idempotent and serialized; scenarios never mix; static loads."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psycopg
import pytest
from wh_specs import CHILD, EVENT, PARENT, READING, STORAGE, TEST_TABLES, TEST_YEARS, event_frame, reading_frame

from aquamind_assets.warehouse import ddl, storage
from aquamind_assets.warehouse.checks import Check, CheckFailed
from aquamind_assets.warehouse.frame_checks import FrameCheck
from aquamind_assets.warehouse.load import YearLoad
from aquamind_assets.warehouse.load_record import ScenarioMismatch
from aquamind_assets.warehouse.static_load import StaticLoad
from aquamind_assets.warehouse.schema import Frame
from aquamind_assets.warehouse.status import partition_status, scenario_status

HERE = Path(__file__).parent
NONNEG = Check("value_present", "every reading of the year has a value (test rule)",
               "SELECT count(*), count(*) FILTER (WHERE value IS NULL OR sensor_id < 0) "
               "FROM wh_test.reading WHERE year = %(year)s",
               "SELECT * FROM wh_test.reading WHERE year = %(year)s AND sensor_id < 0")


@pytest.fixture(scope="module", autouse=True)
def warehouse(db_url):
    with psycopg.connect(db_url, autocommit=True) as c:
        ddl.create_warehouse(c, years=TEST_YEARS, tables=TEST_TABLES, storage=STORAGE)


def load(conn, frames, year=2016, scenario="s1", tables=(READING,), checks=(NONNEG,), stream=False,
         **kw):
    with YearLoad(conn, asset="readings", year=year, tables=list(tables), scenario_hash=scenario,
                  code_version="test", checks=checks, **kw) as ld:
        if stream:
            ld.write_stream(frames)
        else:
            for f in frames:
                ld.write(f)
    return ld.result


def status_of(conn, year=2016):
    (row,) = [s for s in partition_status(conn, "readings") if s["year"] == year]
    return row


def fingerprint(conn, year=2016):
    return conn.execute("SELECT count(*), sum(sensor_id), sum(value::float8), min(reading_time) "
                        "FROM wh_test.reading WHERE year = %s", (year,)).fetchone()


def test_idempotent_replacement(conn):
    f = reading_frame(2016, 30_000, seed=1)
    r1 = load(conn, [f])
    r2 = load(conn, [f])
    halves = [Frame(READING, {k: v[sl] for k, v in f.columns.items()})
              for sl in (slice(0, 10_000), slice(10_000, None))]
    r3 = load(conn, halves, stream=True)  # other frames, same rows: same checksum
    assert fingerprint(conn)[0] == 30_000  # one copy, not three
    assert r1.checksum == r2.checksum == r3.checksum
    assert r1.rows == {"wh_test.reading": 30_000} and r1.checks[0].passed
    assert r1.rows_per_s > 0 and r1.nbytes == 30_000 * 36  # 2 + 4 lengths + 2+8+4+4
    r4 = load(conn, [reading_frame(2016, 30_000, seed=2)])
    assert r4.checksum != r1.checksum
    # btree indexes of the year exist after the load; other years untouched
    assert conn.execute("SELECT count(*) FROM pg_index WHERE indrelid = 'wh_test.reading_y2016'::regclass "
                        "AND NOT indisvalid").fetchone() == (0,)
    names = [n for n, _, _ in ddl.year_index_names(READING, 2016)]  # BRIN + btree, rebuilt
    assert conn.execute("SELECT count(*) FROM pg_index WHERE indrelid = 'wh_test.reading_y2016'::regclass "
                        "AND indexrelid::regclass::text = ANY(%s)",
                        ([f"wh_test.{n}" for n in names],)).fetchone() == (2,)
    status = status_of(conn)
    assert status["checksum"] == r4.checksum and status["total_rows"] == 30_000


def test_failed_check_keeps_previous_year(conn):
    good = load(conn, [reading_frame(2016, 5_000, seed=3)])
    before = fingerprint(conn)
    bad = reading_frame(2016, 8_000, seed=4)
    bad.columns["sensor_id"][[5, 7]] = -3
    with pytest.raises(CheckFailed) as info:
        load(conn, [bad])
    msg = str(info.value)
    assert msg.startswith("check value_present failed: 2 of 8000 rows violate every reading")
    assert "e.g. " in msg and "year=2016" in msg and "sensor_id=-3" in msg and "\n" not in msg
    assert fingerprint(conn) == before
    assert status_of(conn)["checksum"] == good.checksum


def evaluations(conn, rule="value_present", year=2016):
    return conn.execute("SELECT examined, violations, passed, committed FROM meta.rule_evaluation "
                        "WHERE rule = %s AND asset = 'readings' AND year = %s AND source = 'load' "
                        "ORDER BY committed DESC", (rule, year)).fetchall()


def test_rule_results_and_phases_are_stored_with_the_load_and_a_failure_survives_its_rollback(conn):
    load(conn, [reading_frame(2016, 4_000, seed=5)])
    assert evaluations(conn)[0] == (4_000, 0, True, True)
    (phases,) = conn.execute("SELECT phases FROM meta.partition_load WHERE asset = 'readings' AND year = 2016").fetchone()
    assert {"prepare", "write", "index", "analyze", "checks"} <= set(phases) and all(v >= 0 for v in phases.values())
    bad = reading_frame(2016, 6_000, seed=6)
    bad.columns["sensor_id"][:3] = -1
    with pytest.raises(CheckFailed):
        load(conn, [bad])
    # recorded although the year rolled back, beside the result of the year still stored
    assert evaluations(conn) == [(4_000, 0, True, True), (6_000, 3, False, False)]
    assert fingerprint(conn)[0] == 4_000


def test_exception_in_block_and_in_stream_keep_previous_year(conn):
    load(conn, [reading_frame(2016, 5_000, seed=5)])
    before = fingerprint(conn)
    with pytest.raises(ZeroDivisionError):
        with YearLoad(conn, asset="readings", year=2016, tables=[READING], scenario_hash="s1",
                      code_version="test") as ld:
            ld.write(reading_frame(2016, 1_000))
            1 / 0

    def broken():
        yield reading_frame(2016, 1_000, seed=6)
        raise KeyError("generator failed")
    with pytest.raises(KeyError):
        load(conn, broken(), stream=True)
    assert fingerprint(conn) == before
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_check_that_examines_nothing_fails_the_load(conn):
    load(conn, [reading_frame(2016, 100, seed=7)])
    before = fingerprint(conn)
    with pytest.raises(CheckFailed, match="examined 0 rows"):
        load(conn, [])
    assert fingerprint(conn) == before


def test_stream_of_two_tables_and_missing_partition(conn):
    frames = [reading_frame(2017, 1000, seed=8), event_frame(2017, range(0, 10)),
              event_frame(2017, range(10, 25)), reading_frame(2017, 500, seed=9)]
    r = load(conn, iter(frames), year=2017, tables=(READING, EVENT), checks=(), stream=True)
    assert r.rows == {"wh_test.reading": 1500, "wh_test.event": 25}
    assert conn.execute("SELECT count(*), count(note) FROM wh_test.event WHERE year = 2017").fetchone() == (25, 16)
    if storage.recorded(conn) == storage.TIMESCALE:  # a hypertable makes the year's chunk with its load
        load(conn, [], year=2030, checks=())
        assert ddl.relation_kind(conn, "wh_test", "reading_y2030") == "r"
    else:
        with pytest.raises(LookupError, match="reading_y2030 does not exist"):
            load(conn, [], year=2030, checks=())


def test_concurrent_writers_serialize(db_url):
    entered, release = threading.Event(), threading.Event()
    results, order = {}, []

    def writer(name, frame, first):
        with psycopg.connect(db_url, autocommit=True) as c:
            if not first:
                entered.wait(10)
            with YearLoad(c, asset="readings", year=2015, tables=[READING], scenario_hash="s1",
                          code_version="test", checks=()) as ld:
                order.append(f"{name} locked")
                ld.write(frame)
                if first:
                    entered.set()
                    release.wait(10)
                order.append(f"{name} committing")
            results[name] = ld.result

    fa, fb = reading_frame(2015, 20_000, seed=10), reading_frame(2015, 15_000, seed=11)
    a = threading.Thread(target=writer, args=("a", fa, True))
    b = threading.Thread(target=writer, args=("b", fb, False))
    a.start(), b.start()
    entered.wait(10)
    with psycopg.connect(db_url, autocommit=True) as c:
        deadline = time.monotonic() + 10
        while not c.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                            "AND NOT granted").fetchone()[0]:
            assert time.monotonic() < deadline, "the second writer never waited for the lock"
            time.sleep(0.02)
        assert order == ["a locked"]
        release.set()
        a.join(10), b.join(10)
        assert order == ["a locked", "a committing", "b locked", "b committing"]
        assert results["b"].lock_wait_s > 0
        assert fingerprint(c, 2015)[0] == 15_000  # exactly one copy: the last writer's
        assert status_of(c, 2015)["checksum"] == results["b"].checksum


def test_sigkill_mid_copy_keeps_previous_year(conn, db_url):
    load(conn, [reading_frame(2016, 7_000, seed=12)])
    before = fingerprint(conn)
    meta_before = partition_status(conn, "readings")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, str(HERE / "slow_writer.py"), db_url, "2016"],
                            stdout=subprocess.PIPE, env=env, text=True)
    try:
        assert proc.stdout.readline().strip() == "COPYING"
        deadline = time.monotonic() + 10
        while not conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                               "AND query LIKE 'COPY%%' AND state = 'active'").fetchone()[0]:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(0.3)  # let several chunks reach the server
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    conn.execute("SET lock_timeout = '10s'")
    assert fingerprint(conn) == before
    assert partition_status(conn, "readings") == meta_before
    r = load(conn, [reading_frame(2016, 100, seed=13)])  # the lock was released
    assert r.total_rows == 100


def test_scenario_mismatch_is_refused(conn):
    parents = Frame(PARENT, {"id": np.array([1, 2], np.int32), "name": np.array(["p1", "p2"], object)})
    with StaticLoad(conn, asset="infra", tables=[PARENT, CHILD], scenario_hash="s1",
                    code_version="test", scenario={"seed": 1}, write_scenario=True) as st:
        st.write(parents)
    assert scenario_status(conn)["scenario_hash"] == "s1"
    before = fingerprint(conn)
    with pytest.raises(ScenarioMismatch, match="--replace-all"):
        load(conn, [reading_frame(2016, 10)], scenario="s2")
    assert fingerprint(conn) == before
    r = load(conn, [reading_frame(2016, 10)], scenario="s2", replace_all=True, checks=())
    assert r.total_rows == 10
    assert status_of(conn)["scenario_hash"] == "s2"


def test_static_load_defers_foreign_keys_and_rolls_back(conn):
    def frames(child_parent):
        return [Frame(CHILD, {"id": np.array([10, 11, 12], np.int32),
                              "parent_id": np.ma.masked_array(np.array(child_parent, np.int32),
                                                              mask=[0, 0, 1])}),
                Frame(PARENT, {"id": np.array([1, 2], np.int32),
                               "name": np.array(["p1", "p2"], object)})]
    checks = [Check("parents", "two parents", "SELECT count(*), abs(count(*) - 2) FROM wh_test.parent")]
    with StaticLoad(conn, asset="infra", tables=[PARENT, CHILD], scenario_hash="s1",
                    code_version="test", checks=checks, replace_all=True) as st:
        for f in frames([1, 2, 0]):  # the child before its parents
            st.write(f)
    assert st.result.rows == {"wh_test.parent": 2, "wh_test.child": 3}
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        with StaticLoad(conn, asset="infra", tables=[PARENT, CHILD], scenario_hash="s1",
                        code_version="test", replace_all=True) as st:
            st.write_stream(iter(frames([1, 99, 0])))
    assert conn.execute("SELECT count(*) FROM wh_test.child").fetchone() == (3,)
    assert [s["year"] for s in partition_status(conn, "infra")] == [0]


# ------------------------------------------------------------------ frame checks (every row, as streamed)
def _negative_sensors(cols, ctx):
    # the lookup ran once, inside the load, with the load's identity (and no plan: none was given)
    assert ctx == {"year": 2016, "asset": "readings", "scenario_hash": "s1", "code_version": "test", "source": None}
    return cols["sensor_id"] < 0


FRAME_NONNEG = FrameCheck("sensor_present", "every streamed reading names a sensor (test rule)",
                          "wh_test.reading", _negative_sensors, lookup=lambda cur, params: dict(params))


@pytest.mark.parametrize("stream", [False, True])
def test_frame_check_counts_every_streamed_row_and_a_violation_rolls_back(conn, stream):
    frames = [reading_frame(2016, 3_000, seed=s) for s in (11, 12)]
    good = load(conn, frames, checks=(NONNEG, FRAME_NONNEG), stream=stream)
    by_name = {r.name: r for r in good.checks}
    assert by_name["sensor_present"].passed and by_name["sensor_present"].examined == 6_000
    before = fingerprint(conn)
    bad = [reading_frame(2016, 3_000, seed=13), reading_frame(2016, 2_000, seed=14)]
    bad[1].columns["sensor_id"][[0, 9]] = -1
    with pytest.raises(CheckFailed) as info:
        load(conn, bad, checks=(FRAME_NONNEG,), stream=stream)
    assert str(info.value).startswith("check sensor_present failed: 2 of 5000 rows violate")
    assert "sensor_id=-1" in str(info.value)
    assert fingerprint(conn) == before


def test_frame_check_that_examines_nothing_fails(conn):
    with pytest.raises(CheckFailed, match="sensor_present failed: it examined 0 rows"):
        load(conn, [], checks=(FRAME_NONNEG,))
