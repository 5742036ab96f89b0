"""Security: SQL is composed with psycopg.sql and rule parameters, never pasted text; credentials
never appear in any output or stored record; the UI binds to this machine only.

The embedded server listening on 127.0.0.1 only (no unix socket) is covered by
tests/test_embedded_db.py::test_up_serves_queries_on_loopback, not repeated here.
"""
from __future__ import annotations

import ast
import os
import re
import secrets
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from aquamind_assets import cli
from aquamind_assets.config.years import YEARS
from aquamind_assets.runtime import processes
from rel_helpers import AQUAMIND, JANITOR, REPO, databases, drop_db_later, seed_home, url_of

PACKAGE = REPO / "aquamind_assets"
PASSWORD = "S3cr3t-pw-xyz"
SECRET_ROLE = f"aquamind_secret_{secrets.token_hex(4)}"  # per session: nothing shared with another run
# rows for the guarantees table that other test modules already prove (scripts/guarantees_table.py)
COVERED_ELSEWHERE = [
    ("tests/test_embedded_db.py::test_up_serves_queries_on_loopback",
     "The embedded PostgreSQL is started with no URL set -> it listens on 127.0.0.1 only, no unix socket"),
]


def _drop_role(admin_url: str, role: str) -> None:
    """Drop the role with every database it still owns (DROP ROLE refuses while one exists)."""
    with psycopg.connect(admin_url, autocommit=True) as c:
        owned = c.execute("SELECT d.datname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba "
                          "WHERE r.rolname = %s", (role,)).fetchall()
        for (db,) in owned:
            c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))
        c.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


# ------------------------------------------------------------------ (a) SQL composition
_QUERY_CALLS = {"execute", "executemany", "copy", "stream"}


def _is_pasted_text(node: ast.AST) -> bool:
    """A str built from values at run time: f-string, "..." % x, "...".format(x), "..." + x."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
        return not (isinstance(node.left, ast.Constant) and isinstance(node.right, ast.Constant))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return isinstance(node.func.value, (ast.Constant, ast.JoinedStr))  # str.format, not sql.SQL(...).format
    return False


def _is_sql_sql(func: ast.AST) -> bool:
    return (isinstance(func, ast.Attribute) and func.attr == "SQL") or (isinstance(func, ast.Name) and func.id == "SQL")


def _constant_text(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return True
    if isinstance(node, ast.IfExp):
        return _constant_text(node.body) and _constant_text(node.orelse)
    return False


# sql.SQL(<variable>) sites allowed, each with the reason its text comes from a closed set
RAW_SQL_SITES = {("warehouse/ddl.py", "method"): "index method, 'brin' or 'btree' from year_index_names",
                 ("warehouse/ddl.py", "c.pgtype"): "column type, a key of schema.PG_TYPES (checked by Column)"}


def scan(source: str, where: str) -> list[str]:
    """Places where SQL text is pasted together: a query call (execute/copy/...) given text built
    at run time, or sql.SQL() given anything but a literal (which would bypass Identifier/Literal)."""
    problems = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Attribute) and f.attr in _QUERY_CALLS and node.args and _is_pasted_text(node.args[0]):
            problems.append(f"{where}:{node.lineno} {f.attr}() of text built at run time")
        if _is_sql_sql(f) and node.args and not _constant_text(node.args[0]):
            arg = node.args[0]
            if (where, ast.unparse(arg)) not in RAW_SQL_SITES:
                problems.append(f"{where}:{node.lineno} sql.SQL() of a non-literal ({ast.unparse(arg)})")
    return problems


@pytest.mark.parametrize("snippet", [
    'cur.execute(f"SELECT * FROM t WHERE name = \'{name}\'")',
    'conn.execute("SELECT * FROM t WHERE y = %s" % year)',
    'conn.execute("DROP TABLE {}".format(table))',
    'conn.execute("SELECT * FROM " + table)',
    'cur.copy(f"COPY {table} FROM STDIN")',
    'conn.execute(sql.SQL(f"TRUNCATE {table}"))',
    'conn.execute(sql.SQL("TRUNCATE " + table))',
])
def test_the_scanner_flags_pasted_sql(snippet):
    """Known-bad snippets (f-string, %, .format, + into execute/copy; sql.SQL of pasted text) -> the scanner flags each"""
    # guard: scan() itself: a scanner that flags nothing would make the next test vacuous.
    assert scan(snippet, "snippet.py"), snippet


def test_no_sql_is_pasted_together_in_the_package():
    """Every execute()/copy() in aquamind_assets/**/*.py -> gets a literal or a psycopg.sql composition; every sql.SQL() gets a literal (identifiers go through sql.Identifier)"""
    # guard: the psycopg.sql composition in warehouse/ (ddl.py, load.py, copy.py) and database._ensure_one.
    files = sorted(PACKAGE.rglob("*.py"))
    problems = [p for f in files for p in scan(f.read_text(), str(f.relative_to(PACKAGE)))]
    assert not problems, "\n".join(problems)
    composed = sum(len(re.findall(r"\bsql\.SQL\(", f.read_text())) for f in (PACKAGE / "warehouse").glob("*.py"))
    assert composed >= 10, "the warehouse no longer composes SQL with psycopg.sql?"
    # the raw sql.SQL(variable) sites take their text from closed sets
    from aquamind_assets.warehouse import ddl
    from aquamind_assets.warehouse.schema import PG_TYPES

    methods = {m for t in ddl.all_tables() if t.yearly for y in YEARS for _, m, _ in ddl.year_index_names(t, y)}
    assert methods <= {"brin", "btree"}, methods
    assert {c.pgtype for t in ddl.all_tables() for c in t.columns} <= set(PG_TYPES)


def _all_checks():
    from aquamind_assets.rules import catalogue, infrastructure
    from aquamind_assets.warehouse.checks import Check

    mods = {*catalogue.BY_ASSET.values(), infrastructure}
    for mod in mods:
        for value in vars(mod).values():
            for c in value if isinstance(value, list | tuple) else [value]:
                if isinstance(c, Check):
                    yield mod.__name__, c


def test_rule_sql_only_takes_the_year_as_a_parameter():
    """Every rule's SQL (count, sample, prepare) -> fixed text whose only inputs are %(year)s / %(asset)s parameters: no positional %s, no leftover {} fields, no stray %"""
    # guard: warehouse/checks.py runs rules with cur.execute(sql, params): values never enter the text.
    checks = list(_all_checks())
    assert len({c.name for _, c in checks}) >= 40, "fewer rules than expected: did the registry change?"
    for mod, c in checks:
        for part in ("count_sql", "sample_sql", "prepare_sql"):
            text = getattr(c, part, "") or ""
            stripped = re.sub(r"%\((year|asset)\)s|%%", "", text)
            assert "%" not in stripped, f"{mod} {c.name}.{part}: a parameter other than %(year)s/%(asset)s"
            assert "{" not in text and "}" not in text, f"{mod} {c.name}.{part}: an unformatted {{field}}"


def test_database_name_with_sql_in_it_is_an_identifier(admin_url, restore_environ, capsys, tmp_path):
    """A database name carrying SQL (`x"; CREATE ROLE ...; --`) in AQUAMIND_DATABASE_URL -> the CLI creates a database of exactly that name and runs nothing else"""
    # guard: database._ensure_one: CREATE DATABASE {} with sql.Identifier(dbname).
    h = secrets.token_hex(4)
    pwned = f"aqrp{h}"
    name = f'aquamind_rel_{h}"; CREATE ROLE {pwned}; --'
    assert len(name) + len("_dagster") <= 63
    os.environ.update({"AQUAMIND_DATABASE_URL": url_of(admin_url, name),
                       "DAGSTER_HOME": str(tmp_path / "home")})
    for k in ("AQUAMIND_DAGSTER_DATABASE_URL", "PGHOST", "PGDATABASE", "PGUSER", "PGPASSWORD"):
        os.environ.pop(k, None)
    try:
        assert cli.main(["validate"]) == 0, capsys.readouterr()
        assert {name, f"{name}_dagster"} <= databases(admin_url)
        with psycopg.connect(admin_url, autocommit=True) as c:
            assert c.execute("SELECT count(*) FROM pg_roles WHERE rolname = %s", (pwned,)).fetchone()[0] == 0
    finally:
        drop_db_later(admin_url, name, f"{name}_dagster")
        _drop_role(admin_url, pwned)


# ------------------------------------------------------------------ (b) credentials never shown
@pytest.fixture(scope="module")
def secret_runs(admin_url, plan_cache, tmp_path_factory):
    """As role SECRET_ROLE (password in the URL; the server's trust auth does not check it):
    generate 2015, validate, status, `db url`, then a run that fails (fault file batches-2015).
    Yields the outputs and every place the password could have ended up."""
    name = f"aquamind_rel_secret_{secrets.token_hex(4)}"
    home = seed_home(tmp_path_factory.mktemp("secret") / "home", plan_cache)
    shutil.copy(REPO / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    with psycopg.connect(admin_url, autocommit=True) as c:
        c.execute(sql.SQL("""DO $$ BEGIN CREATE ROLE {r} LOGIN PASSWORD {p};
                             EXCEPTION WHEN duplicate_object THEN ALTER ROLE {r} LOGIN PASSWORD {p}; END $$""")
                  .format(r=sql.Identifier(SECRET_ROLE), p=sql.Literal(PASSWORD)))
        for db in (name, f"{name}_dagster"):
            c.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(db), sql.Identifier(SECRET_ROLE)))
    url = url_of(admin_url, name, user=SECRET_ROLE, password=PASSWORD)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AQUAMIND_", "DAGSTER_", "PG"))}
    env.update({"AQUAMIND_DATABASE_URL": url, "DAGSTER_HOME": str(home)})

    def run(*args):
        p = subprocess.run([*AQUAMIND, *args], env=env, capture_output=True, text=True, timeout=300, cwd=str(REPO))
        return {"rc": p.returncode, "out": p.stdout, "err": p.stderr}

    try:
        out = {"generate": run("generate", "--scale", "tiny", "--years", "2015", "--no-dbt"),
               "validate": run("validate"), "status": run("status"), "db url": run("db", "url")}
        (home / "faults").mkdir()
        (home / "faults" / "batches-2015").touch()
        out["failing generate"] = run("generate", "--scale", "tiny", "--years", "2015", "--no-dbt")
        dumps = {}
        for db in (name, f"{name}_dagster"):  # everything stored: event log, runs, metadata, warehouse
            d = subprocess.run(["/usr/lib/postgresql/15/bin/pg_dump", "--no-owner", "-d", url_of(admin_url, db)],
                               capture_output=True, text=True, timeout=120)
            assert d.returncode == 0, d.stderr
            dumps[db] = d.stdout
        files = [p for root in (home, REPO / "dbt_project" / "logs", REPO / "dbt_project" / "target")
                 if root.exists() for p in root.rglob("*") if p.is_file()]
        yield {"out": out, "dumps": dumps, "files": files, "home": home, "url": url}
    finally:
        drop_db_later(admin_url, name, f"{name}_dagster")
        JANITOR.later(lambda: _drop_role(admin_url, SECRET_ROLE))  # after its databases


def test_password_never_appears_in_output_logs_or_storage(secret_runs):
    """A password in AQUAMIND_DATABASE_URL through generate, validate, status, db url and a failing run -> absent from stdout/stderr, the Dagster event log and runs (pg_dump), asset metadata, the warehouse, DAGSTER_HOME files and dbt logs/target"""
    # guard: settings.redact (db url, URL errors), DatabaseSettings.__repr__, database._one_line
    # (driver errors), and the Warehouse resource reading the URL from the environment at run time
    # (defs/resources.py: database_url stays unset, so it is never part of run config or metadata).
    r = secret_runs
    out = r["out"]
    assert out["generate"]["rc"] == 0, out["generate"]["err"][-3000:]
    assert out["validate"]["rc"] == 0 and "every rule passed" in out["validate"]["out"], out["validate"]
    assert out["status"]["rc"] == 0, out["status"]
    assert out["db url"]["out"].strip() == r["url"].replace(PASSWORD, "***"), out["db url"]
    failing = out["failing generate"]
    assert failing["rc"] == 2 and "injected fault for batches 2015" in failing["err"], failing
    assert len(failing["err"].strip().splitlines()) == 1, failing["err"]
    for cmd, o in out.items():
        assert PASSWORD not in o["out"] + o["err"], f"the password is in the output of `{cmd}`"
    for db, dump in r["dumps"].items():
        assert len(dump) > 10_000 and PASSWORD not in dump, f"the password is stored in {db}"
    assert "injected fault for batches 2015" in r["dumps"][next(d for d in r["dumps"] if d.endswith("_dagster"))]
    # The CLI's runs keep their event log in PostgreSQL and capture no compute logs, so DAGSTER_HOME
    # holds the instance's config and the plan cache: both must have been searched.
    searched = {f.relative_to(r["home"]).parts[0] for f in r["files"] if r["home"] in f.parents}
    assert "dagster.yaml" in searched and len(searched) > 1, ("too little of DAGSTER_HOME was searched", searched)
    leaked = [str(f) for f in r["files"] if PASSWORD.encode() in f.read_bytes()]
    assert not leaked, f"the password is in {leaked}"


# ------------------------------------------------------------------ (d) the UI binds 127.0.0.1
def test_ui_binds_loopback_by_default(new_db, restore_environ, monkeypatch, capsys, tmp_path):
    """`aquamind ui` with no --host -> the argparse default is 127.0.0.1, the command it starts is `dagster dev -h 127.0.0.1` and its file server listens on 127.0.0.1 (`true` is started in dagster's place)"""
    # guard: cli.parser() (--host default), cmd_ui passing it to `dagster dev -h` and to FileServer.
    assert cli.parser().parse_args(["ui"]).host == "127.0.0.1"
    _, url = new_db("ui")
    os.environ.update({"AQUAMIND_DATABASE_URL": url, "DAGSTER_HOME": str(tmp_path / "home")})
    started, real_popen = [], subprocess.Popen

    def popen_true(argv, **kw):  # record what would run, run something that ends at once
        started.append(argv)
        return real_popen(["true"], **kw)

    monkeypatch.setattr(processes.subprocess, "Popen", popen_true)
    assert cli.main(["ui"]) == 1  # dagster's stand-in ended on its own
    (argv,) = started
    assert Path(argv[0]).name == "dagster" and argv[1] == "dev"
    assert argv[argv.index("-h") + 1] == "127.0.0.1" and "0.0.0.0" not in argv
    out = capsys.readouterr().out
    assert "http://127.0.0.1:3000" in out and "http://127.0.0.1:3001/" in out, out
    monkeypatch.setattr(processes.subprocess, "Popen", real_popen)  # the same module: run the real --help
    dev_help = subprocess.run([argv[0], "dev", "--help"], capture_output=True, text=True, timeout=60).stdout
    assert re.search(r"-h, --host\b", dev_help), "`dagster dev -h` is no longer the host option"
