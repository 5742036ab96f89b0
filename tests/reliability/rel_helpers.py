"""Helpers shared by the reliability tests (no fixtures here: see conftest.py).

Databases are created on the test server (AQUAMIND_TEST_ADMIN_URL) as `aquamind_rel_<purpose>_<hex>`
and dropped afterwards; their URLs come from fixture_helpers.url_of (the tests' one URL builder).
"""
from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from psycopg import sql
from fixture_helpers import url_of  # noqa: F401  (the reliability modules import it from here)

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CHILD = HERE / "materialize_child.py"
EXE = Path(sys.executable).with_name("aquamind")
AQUAMIND = [str(EXE)] if EXE.exists() else [sys.executable, "-m", "aquamind_assets.cli"]
READING = "environmental.environmental_reading"
ENV_ASSET = "environmental_readings"


def create_db(admin_url: str, purpose: str, template: str | None = None, owner: str | None = None) -> str:
    name = f"aquamind_rel_{purpose}_{secrets.token_hex(4)}"
    q = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        q += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    if owner:
        q += sql.SQL(" OWNER {}").format(sql.Identifier(owner))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        for attempt in range(50):  # a template is briefly busy while another copy is being made
            try:
                admin.execute(q)
                break
            except psycopg.errors.ObjectInUse:
                if attempt == 49:
                    raise
                time.sleep(0.1)
    return name


def drop_db(admin_url: str, *names: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as admin:
        for name in names:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


class _Janitor:
    """Drops databases in a background thread: DROP DATABASE forces a checkpoint (seconds on a busy
    server), so tests hand their databases over instead of waiting; drain() waits for the rest."""

    def __init__(self):
        import queue
        import threading

        self.queue: queue.Queue = queue.Queue()
        self.errors: list[str] = []
        self.thread = threading.Thread(target=self._run, name="rel-janitor", daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            item = self.queue.get()
            try:
                item()
            except Exception as e:  # reported by drain()
                self.errors.append(f"{item}: {e}")
            finally:
                self.queue.task_done()

    def later(self, fn: Callable[[], object]) -> None:
        """Run fn in the janitor's thread, after everything queued before it."""
        self.queue.put(fn)

    def drain(self) -> list[str]:
        self.queue.join()
        return self.errors


JANITOR = _Janitor()


def drop_db_later(admin_url: str, *names: str) -> None:
    JANITOR.later(lambda: drop_db(admin_url, *names))


def databases(admin_url: str) -> set[str]:
    with psycopg.connect(admin_url, autocommit=True) as admin:
        return {r[0] for r in admin.execute("SELECT datname FROM pg_database")}


def loads(conn) -> dict[tuple[str, int], dict]:
    """meta.partition_load as {(asset, year): {rows, checksum, loaded_at}}."""
    rows = conn.execute("SELECT asset, year, rows, checksum, loaded_at FROM meta.partition_load").fetchall()
    return {(a, y): {"rows": r, "checksum": c, "loaded_at": t} for a, y, r, c, t in rows}


def table_ident(qualified: str) -> sql.Composable:
    schema, name = qualified.split(".")
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name))


def year_fingerprint(conn, table: str, year: int) -> tuple[int, int, str]:
    """(rows, distinct (sensor_id, reading_time) keys or rows, md5 of every row in order) of one year."""
    key = sql.SQL("(sensor_id, reading_time)") if table == READING else sql.SQL("t")
    q = sql.SQL("SELECT count(*), count(DISTINCT {}), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t), '')) "
                "FROM {} t WHERE year = {}").format(key, table_ident(table), sql.Literal(year))
    n, distinct, digest = conn.execute(q).fetchone()
    return n, distinct, digest


def copy_progress(conn, relname: str, appname: str | None = None) -> int:
    """tuples_processed of a COPY into `relname` now running (pg_stat_progress_copy), else -1.
    Matched on the statement, not on pg_class: on the hypertable path the year's relation is a
    table the load created, which no other session sees before the commit."""
    row = conn.execute(
        """SELECT max(p.tuples_processed) FROM pg_stat_progress_copy p
           JOIN pg_stat_activity a ON a.pid = p.pid
           WHERE a.query ILIKE 'COPY%%' AND a.query LIKE '%%' || quote_ident(%s) || '%%' AND a.state = 'active'
             AND (%s::text IS NULL OR a.application_name = %s)""",
        (relname, appname, appname)).fetchone()
    return -1 if row[0] is None else int(row[0])


def wait_for(what: str, predicate: Callable[[], object], timeout: float = 60.0, every: float = 0.02,
             proc: subprocess.Popen | None = None):
    """Poll until predicate() is truthy (returned); fail naming `what` on timeout or if proc died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{what}: the child exited ({proc.returncode}) first")
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def child_env(db_url: str, home: Path, appname: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AQUAMIND_", "DAGSTER_", "PG"))}
    if os.environ.get("AQUAMIND_STORAGE"):  # the suite's storage path (DEVELOPERS.md)
        env["AQUAMIND_STORAGE"] = os.environ["AQUAMIND_STORAGE"]
    env.update({"AQUAMIND_DATABASE_URL": db_url, "AQUAMIND_SCALE": "tiny", "DAGSTER_HOME": str(home),
                "PGAPPNAME": appname, "PYTHONUNBUFFERED": "1"}, **extra)
    return env


def start_child(db_url: str, home: Path, appname: str, asset: str = ENV_ASSET, year: int = 2016,
                *args: str) -> subprocess.Popen:
    """Start materialize_child.py; stdout is a pipe (one JSON line at the end), stderr a file."""
    home.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([sys.executable, str(CHILD), asset, str(year), *args],
                            env=child_env(db_url, home, appname), cwd=str(REPO), text=True,
                            stdout=subprocess.PIPE, stderr=open(home / "child.stderr", "w"))


def child_result(proc: subprocess.Popen, timeout: float = 120) -> dict:
    out, _ = proc.communicate(timeout=timeout)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    assert lines, f"child printed no result (exit {proc.returncode}): {out[-2000:]}"
    return json.loads(lines[-1])


def seed_home(home: Path, plan_cache: Path) -> Path:
    """A throwaway DAGSTER_HOME holding a copy of the session's plan cache (saves the simulation)."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copytree(plan_cache, home / "plan_cache", dirs_exist_ok=True)
    return home


def load_test_module(relpath: str, name: str):
    """Import another test module by path (tests/ has no __init__.py), e.g. to reuse its INJECTIONS."""
    spec = importlib.util.spec_from_file_location(name, REPO / "tests" / relpath)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def paced(frames_fn, pace: float, rows: int = 2000, years=None):
    """Wrap aquamind_assets.defs.loading.frames so each frame reaches the real writer in slices of
    `rows` with `pace` seconds between them: consecutive slices of a table share the one COPY
    statement of the real YearLoad, so the rows and the checksum are those of an undisturbed run
    (the checksum does not depend on how rows are split); only the window a test can hit widens.
    With `years`, only those years are slowed."""
    from aquamind_assets.warehouse.schema import Frame

    def slow(plan, year, render):
        for frame in frames_fn(plan, year, render):
            if years is not None and year not in years:
                yield frame
                continue
            for i in range(0, len(frame), rows):
                yield Frame(frame.table, {k: v[i:i + rows] for k, v in frame.columns.items()})
                time.sleep(pace)

    return slow


def one_line(text: str) -> bool:
    return len(text.strip().splitlines()) == 1
