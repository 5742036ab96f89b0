"""The `aquamind` command as a user runs it (a subprocess): bad input is one line on stderr and a
non-zero exit, never a traceback or a password; and generate -> status -> validate end to end on
a fresh database, where a corrupted row makes validate fail naming the rule."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from aquamind_assets.runtime import database, settings

REPO = Path(__file__).resolve().parent.parent
EXE = Path(sys.executable).with_name("aquamind")
CMD = [str(EXE)] if EXE.exists() else [sys.executable, "-m", "aquamind_assets.cli"]
UNREACHABLE = "postgresql://u:secret@127.0.0.1:1/x"


def _base_env(home: Path, db_url: str = UNREACHABLE) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AQUAMIND_", "DAGSTER_", "PG"))}
    env.update({"AQUAMIND_DATABASE_URL": db_url, "DAGSTER_HOME": str(home)})
    return env


def run(args, env, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run([*CMD, *args], env=env, capture_output=True, text=True, timeout=timeout,
                          cwd=str(REPO))


def _no_traceback(p: subprocess.CompletedProcess) -> None:
    both = p.stdout + p.stderr
    assert "Traceback" not in both and 'File "' not in both, both[-2000:]


@pytest.fixture
def bad_env(tmp_path):
    return _base_env(tmp_path / "dagster_home")


# ------------------------------------------------------------------ help
@pytest.mark.parametrize("args", [["--help"], ["generate", "--help"], ["validate", "--help"]])
def test_help_succeeds(args, bad_env):
    p = run(args, bad_env)
    assert p.returncode == 0, p.stderr
    assert "usage: aquamind" in p.stdout
    if args[0] == "generate":
        for opt in ("--scale", "--years", "--seed", "--scenario", "--resume", "--no-dbt"):
            assert opt in p.stdout


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("args,fragments", [
    (["generate", "--years", "2025"], ["'2025'", "outside 2015-2024"]),
    (["generate", "--years", "2020-2016"], ["reversed", "2016-2020"]),
    (["generate", "--years", "twenty"], ["'twenty'", "not a year"]),
    (["generate", "--scenario", "/nonexistent.json"], ["/nonexistent.json", "not found"]),
])
def test_generate_refuses_bad_values_in_one_line(args, fragments, bad_env):
    p = run(args, bad_env)
    _no_traceback(p)
    assert p.returncode != 0
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("aquamind: error: ")
    for f in fragments:
        assert f in lines[0]


@pytest.mark.parametrize("args,fragments", [
    (["generate", "--scale", "huge"], ["--scale", "'huge'"]),
    (["generate", "--seed", "-5"], ["--seed", "'-5'", "negative"]),
    (["generate", "--seed", "many"], ["--seed", "'many'", "whole number"]),
    (["frobnicate"], ["'frobnicate'"]),
])
def test_argparse_errors_name_the_problem_on_the_last_line(args, fragments, bad_env):
    p = run(args, bad_env)
    _no_traceback(p)
    assert p.returncode == 2
    last = p.stderr.strip().splitlines()[-1]
    assert last.startswith("aquamind")  # "aquamind generate: error: ..." after the usage lines
    for f in fragments:
        assert f in last, last
    assert all(line.startswith(("usage:", " ", "aquamind")) for line in p.stderr.strip().splitlines())


def test_bad_scenario_file_contents_are_one_line(tmp_path, bad_env):
    bad = tmp_path / "s.json"
    bad.write_text('{"seed": 1, "scale": "tiny", "turbo": true}')
    p = run(["generate", "--scenario", str(bad)], bad_env)
    _no_traceback(p)
    assert p.returncode != 0 and len(p.stderr.strip().splitlines()) == 1
    assert "'turbo'" in p.stderr


@pytest.mark.parametrize("args", [["status"], ["validate"], ["generate", "--scale", "tiny", "--years", "2016", "--no-dbt"]])
def test_unreachable_database_is_one_line_without_the_password(args, bad_env):
    p = run(args, bad_env, timeout=60)
    _no_traceback(p)
    assert p.returncode != 0
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert "127.0.0.1:1" in lines[0]
    assert "secret" not in p.stdout + p.stderr


def test_invalid_database_url_is_one_line_without_the_password(bad_env):
    env = dict(bad_env, AQUAMIND_DATABASE_URL="mysql://u:secret@127.0.0.1:1/x")
    p = run(["status"], env)
    _no_traceback(p)
    assert p.returncode != 0 and len(p.stderr.strip().splitlines()) == 1
    assert "postgresql://" in p.stderr and "secret" not in p.stdout + p.stderr


# ------------------------------------------------------------------ end to end
@pytest.fixture(scope="module")
def e2e(db_url, admin_url, tmp_path_factory):
    """A CLI environment on this module's fresh database, Dagster storage in <db>_dagster."""
    info = conninfo_to_dict(db_url)
    home = tmp_path_factory.mktemp("cli_dagster_home")
    shutil.copy(REPO / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    env = _base_env(home, db_url)
    s = database.resolve(start_embedded=False, env=env)
    env.update(settings.export_env(s, env))
    assert env["DAGSTER_PG_DB"] == f"{info['dbname']}_dagster" and env["DAGSTER_HOME"] == str(home)
    try:
        yield {"env": env, "url": db_url, "home": home}
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(s.dagster_dbname)))


def _status_line(out: str, asset: str, year: int) -> list[str]:
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[0] == asset and parts[1] == str(year):
            return parts
    raise AssertionError(f"no status line for {asset} {year} in:\n{out}")


YEARLY_ASSETS = {"batches", "mortality_events", "harvest", "environmental_readings", "feeding", "growth_samples",
                 "health", "infrastructure_changes"}


def test_generate_a_single_later_year_on_a_fresh_database(e2e):
    """2016 alone with no earlier year stored: every yearly asset records a load of 2016 and of nothing
    else (the static tables record theirs as year 0), and each table a record names holds exactly the
    recorded rows, a yearly table all of them in 2016."""
    p = run(["generate", "--scale", "tiny", "--years", "2016", "--no-dbt"], e2e["env"])
    _no_traceback(p)
    assert p.returncode == 0, p.stderr.strip().splitlines()[-1]
    with psycopg.connect(e2e["url"], autocommit=True) as c:
        records = {(a, y): rows for a, y, rows in c.execute("SELECT asset, year, rows FROM meta.partition_load")}
        assert set(records) == {(a, 2016) for a in YEARLY_ASSETS} | {("static", 0)} | {("static", 0)}
        for (asset, year), rows in records.items():
            assert sum(rows.values()) > 0, asset
            for table, n in rows.items():
                ident = sql.Identifier(*table.split("."))
                if year == 0:
                    stored = c.execute(sql.SQL("SELECT count(*) FROM {}").format(ident)).fetchone()[0]
                    assert stored == n, (table, stored, n)
                else:
                    by_year = dict(c.execute(sql.SQL("SELECT year, count(*) FROM {} GROUP BY year").format(ident)))
                    assert by_year == ({year: n} if n else {}), (asset, table, by_year, n)
        assert records[("batches", 2016)]["batch.assignment_daily_state"] > 1000


def test_generate_status_validate_end_to_end(e2e):
    env = e2e["env"]
    p = run(["generate", "--scale", "tiny", "--years", "2015-2016", "--no-dbt"], env)
    _no_traceback(p)
    assert p.returncode == 0, p.stderr[-3000:]
    assert "scale tiny" in p.stdout and "years 2015-2016" in p.stdout
    # Dagster's storage database was created next to the warehouse
    with psycopg.connect(e2e["url"], autocommit=True) as c:
        names = {r[0] for r in c.execute("SELECT datname FROM pg_database")}
        assert env["DAGSTER_PG_DB"] in names
        n_state = c.execute("SELECT count(*) FROM batch.assignment_daily_state WHERE year = 2016").fetchone()[0]
        assert n_state > 1000

    st = run(["status"], env)
    _no_traceback(st)
    assert st.returncode == 0, st.stdout[-3000:] + st.stderr
    parts = _status_line(st.stdout, "batches", 2016)
    assert parts[2].replace(",", "").isdigit() and int(parts[2].replace(",", "")) > n_state
    assert parts[3:5] == ["loaded", "yes"], parts
    assert _status_line(st.stdout, "batches", 2017)[2:5] == ["0", "-", "-"]
    for asset in ("batches", "mortality_events", "harvest", "environmental_readings"):
        for year in (2015, 2016):
            assert _status_line(st.stdout, asset, year)[3:5] == ["loaded", "yes"], (asset, year)
    assert "disagree" not in st.stdout

    v = run(["validate"], env)
    _no_traceback(v)
    assert v.returncode == 0, v.stdout[-3000:]
    assert "every rule passed" in v.stdout and "FAIL" not in v.stdout

    with psycopg.connect(e2e["url"], autocommit=True) as c:
        cur = c.execute("""UPDATE batch.assignment_daily_state SET population = -1 WHERE year = 2016
                           AND (assignment_id, state_date) = (SELECT assignment_id, state_date
                           FROM batch.assignment_daily_state WHERE year = 2016 ORDER BY 1, 2 LIMIT 1)""")
        assert cur.rowcount == 1
    bad = run(["validate"], env)
    _no_traceback(bad)
    assert bad.returncode != 0
    fails = [line for line in bad.stdout.splitlines() if line.startswith("FAIL")]
    assert any("batches 2016" in line and "fish_non_negative" in line for line in fails), bad.stdout
    assert "failed rule evaluation" in bad.stdout
