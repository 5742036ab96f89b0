"""End-to-end fixtures: a fresh warehouse + `<name>_dagster` database, a tmp DAGSTER_HOME with a copy
of dagster_home/dagster.yaml, and dagster-webserver + dagster-daemon started on them, as a user
runs them (their own process groups, logs under the tmp home). Everything is stopped and the
Dagster database dropped afterwards, whatever happened; tests/conftest.py's db_url drops the
warehouse.
"""
from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

# pytest's default (prepend) import mode puts this directory, which has no __init__.py, first on
# sys.path, where graphql.py would shadow graphql-core for the rest of the session. Import the real
# package now, with this directory off the path, so sys.modules holds it; load ours by file path.
_saved_path = list(sys.path)
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
try:
    import graphql as _graphql_core  # noqa: F401
except ImportError:  # dagster-graphql not installed: nothing here would import it either
    pass
finally:
    sys.path[:] = _saved_path


def _load_helper():
    name = "aquamind_e2e_graphql"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HERE / "ui_client.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


gqlh = _load_helper()


@dataclass
class E2EEnv:
    db_url: str          # warehouse, postgresql:// form
    dagster_url: str     # <warehouse>_dagster
    home: Path           # tmp DAGSTER_HOME (dagster.yaml copy, faults/, plan cache, logs, reports/)
    env: dict[str, str]  # environment of every process we start

    def fault(self, asset: str, year: int | str) -> Path:
        """The file defs/loading.check_fault looks for."""
        return self.home / "faults" / f"{asset}-{year}"


@pytest.fixture(scope="module")
def e2e_env(db_url, admin_url, tmp_path_factory):
    from aquamind_assets.runtime import database, settings

    home = tmp_path_factory.mktemp("e2e_dagster_home")
    shutil.copy(REPO / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    resolved = database.resolve(start_embedded=False, env={settings.WAREHOUSE_URL_VAR: db_url})
    database.ensure_databases(resolved)  # creates <name>_dagster (the warehouse exists already)
    base = {k: v for k, v in os.environ.items()
            if k not in ("AQUAMIND_SCENARIO", "AQUAMIND_SEED", "AQUAMIND_REPLACE_ALL", settings.DAGSTER_URL_VAR)}
    env = {**base, **settings.export_env(resolved, env={"DAGSTER_HOME": str(home)}),
           settings.WAREHOUSE_URL_VAR: db_url, "AQUAMIND_SCALE": "tiny",
           settings.REPORT_DIR_VAR: str(home / "reports")}  # not the checkout's reports/
    assert env["DAGSTER_HOME"] == str(home) and env["DAGSTER_PG_DB"] == resolved.dagster_dbname
    try:
        yield E2EEnv(db_url=db_url, dagster_url=resolved.dagster_url, home=home, env=env)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(resolved.dagster_dbname)))


@pytest.fixture(scope="module")
def dagster_instance(e2e_env):
    """The test process's handle on the same instance (Postgres storage from the copied dagster.yaml).

    Opening it first creates Dagster's tables, so the webserver and daemon do not race to do it.
    """
    import dagster as dg

    with pytest.MonkeyPatch.context() as mp:
        for k, v in e2e_env.env.items():
            mp.setenv(k, v)
        with dg.DagsterInstance.from_config(str(e2e_env.home)) as instance:
            yield instance


@pytest.fixture(scope="module")
def dagster_stack(e2e_env, dagster_instance):
    """dagster-webserver + dagster-daemon, started (not yet waited for); always stopped afterwards."""
    stack = gqlh.DagsterStack.start(env=e2e_env.env, log_dir=e2e_env.home / "logs", repo=REPO)
    try:
        yield stack
    finally:
        killed = stack.stop(timeout=20)
        if killed:
            print(f"e2e: needed SIGKILL for {killed}")


@dataclass
class AquamindUI:
    proc: subprocess.Popen  # the `aquamind ui` supervisor, leader of its own session
    port: int
    files_port: int
    log: Path

    @property
    def gql(self):
        return gqlh.DagsterGraphQL(f"http://127.0.0.1:{self.port}")

    def dead(self) -> str | None:
        if self.proc.poll() is None:
            return None
        return f"`aquamind ui` exited with {self.proc.returncode}: {self.log.read_text(errors='replace')[-2000:]}"


@contextlib.contextmanager
def aquamind_ui(e2e_env: E2EEnv, log: Path):
    """`aquamind ui` as a user starts it in the background (`aquamind ui &`), up and answering;
    whatever is left of it is killed afterwards."""
    port, files_port = gqlh.free_port(), gqlh.free_port()
    exe = Path(sys.executable).with_name("aquamind")
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(exe), "ui", "--port", str(port), "--files-port", str(files_port)], cwd=REPO,
                                env={**e2e_env.env, "PYTHONUNBUFFERED": "1"}, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    ui = AquamindUI(proc=proc, port=port, files_port=files_port, log=log)
    try:
        ui.gql.wait_until_up(timeout=180, alive=ui.dead)
        yield ui
    finally:
        if proc.poll() is None:  # as a user stops it (its code servers are not in its group)
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
