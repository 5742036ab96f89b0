"""Bad input to `aquamind generate`: random scenario files and argument lists (hypothesis), and an
unreachable or misconfigured database. Refused with one line naming the problem, no traceback,
nothing written (no table in the warehouse, no `<db>_dagster` database, nothing in DAGSTER_HOME).

Most cases run the CLI in-process (aquamind_assets.cli.main) for speed; a few run it as a user
does, in a subprocess. tests/test_cli.py already covers: --years 2025 / 2020-2016 / twenty, a
missing --scenario file, --scale huge, --seed -5 / many, an unknown command, an unknown top-level
key ('turbo'), 127.0.0.1:1 and a mysql:// URL; these tests do not repeat them one by one.
"""
from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import threading

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from aquamind_assets import cli
from aquamind_assets.config.scenario import Biology, Scale, Scenario
from rel_helpers import AQUAMIND, REPO, databases, one_line, url_of

FIELDS = set(Scenario.model_fields)
HS = hsettings(max_examples=40, deadline=None, derandomize=True, database=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


# ------------------------------------------------------------------ harness
@pytest.fixture(scope="module")
def target(admin_url, tmp_path_factory):
    """An empty warehouse database on the real server, and an empty DAGSTER_HOME."""
    from rel_helpers import create_db, drop_db_later

    name = create_db(admin_url, "badinput")
    home = tmp_path_factory.mktemp("badinput_home")
    yield {"name": name, "url": url_of(admin_url, name), "home": home, "admin": admin_url}
    drop_db_later(admin_url, name, f"{name}_dagster")


def _written(target) -> list[str]:
    """Everything a refused command must not have produced."""
    out = []
    with psycopg.connect(target["url"], autocommit=True) as c:
        n = c.execute("""SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')""").fetchone()[0]
        if n:
            out.append(f"{n} relations in the warehouse")
    if f"{target['name']}_dagster" in databases(target["admin"]):
        out.append("the Dagster database was created")
    out += [str(p) for p in target["home"].rglob("*")]
    return out


def run_in_process(argv: list[str], url: str, home, capsys) -> tuple[int, str, str]:
    """cli.main(argv) with AQUAMIND_DATABASE_URL=url, DAGSTER_HOME=home; (exit code, stdout, stderr).
    os.environ and the cwd are restored (cli/connection.connect exports settings into os.environ)."""
    saved, cwd = dict(os.environ), os.getcwd()
    capsys.readouterr()
    try:
        for k in [k for k in os.environ if k.startswith(("AQUAMIND_", "DAGSTER_", "PG"))]:
            del os.environ[k]
        os.environ.update({"AQUAMIND_DATABASE_URL": url, "DAGSTER_HOME": str(home)})
        try:
            code = cli.main(argv)
        except SystemExit as e:  # argparse
            code = e.code
    finally:
        os.environ.clear()
        os.environ.update(saved)
        os.chdir(cwd)
    out, err = capsys.readouterr()
    return code, out, err


def run_subprocess(argv: list[str], url: str, home) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AQUAMIND_", "DAGSTER_", "PG"))}
    env.update({"AQUAMIND_DATABASE_URL": url, "DAGSTER_HOME": str(home)})
    p = subprocess.run([*AQUAMIND, *argv], env=env, capture_output=True, text=True, timeout=60, cwd=str(REPO))
    return p.returncode, p.stdout, p.stderr


def assert_refused_in_one_line(code, out, err, *fragments: str) -> str:
    both = out + err
    assert code not in (0, None), f"accepted: {both[-1500:]}"
    assert "Traceback" not in both and 'File "' not in both, both[-3000:]
    assert one_line(err), f"not one line:\n{err}"
    line = err.strip()
    assert line.startswith("aquamind: error: "), line
    for f in fragments:
        assert f in line, f"{f!r} not in: {line}"
    return line


# ------------------------------------------------------------------ scenario files (hypothesis)
def _not_int_like(x) -> bool:
    """Values pydantic's lax mode cannot turn into an int (it accepts '12', 12.0 and true)."""
    if isinstance(x, bool) or (isinstance(x, float) and x.is_integer()):
        return False
    if isinstance(x, str):
        with contextlib.suppress(ValueError):
            float(x.strip())
            return False
    return True


JSONISH = st.one_of(st.none(), st.booleans(), st.floats(allow_nan=False, allow_infinity=False),
                    st.text(max_size=8), st.lists(st.integers(), max_size=2),
                    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2))
WRONG_INT = JSONISH.filter(_not_int_like).filter(lambda x: x is not None)
KEY = st.text(min_size=1, max_size=12)

# (mutation of a valid tiny scenario, fragment the one-line refusal must contain)
BAD_SCENARIOS = st.one_of(
    KEY.filter(lambda k: k not in FIELDS).map(lambda k: ({k: 1}, repr(k))),
    KEY.filter(lambda k: k not in Biology.model_fields).map(lambda k: ({"biology": {k: 1}}, repr(f"biology.{k}"))),
    KEY.filter(lambda k: k not in Scale.model_fields).map(lambda k: ({"scale_overrides": {k: 1}}, repr(k))),
    WRONG_INT.map(lambda v: ({"seed": v}, "'seed'")),
    WRONG_INT.map(lambda v: ({"start_year": v}, "'start_year'")),
    st.integers(max_value=-1).map(lambda v: ({"seed": v}, "'seed'")),
    st.integers(min_value=2**63, max_value=2**70).map(lambda v: ({"seed": v}, "'seed'")),
    st.integers(-10**6, 2014).map(lambda y: ({"start_year": y}, "years")),
    st.integers(2025, 10**6).map(lambda y: ({"end_year": y}, "years")),
    st.tuples(st.integers(2016, 2024), st.integers(2015, 2023)).filter(lambda t: t[0] > t[1])
      .map(lambda t: ({"start_year": t[0], "end_year": t[1]}, "years")),
    st.text(max_size=10).filter(lambda s: s not in ("tiny", "small", "full", "full2x"))
      .map(lambda s: ({"scale": s}, "'scale'")),
    st.floats(max_value=0, allow_nan=False).map(lambda v: ({"scale_overrides": {"fish_scale": v}}, "fish_scale")),
    st.floats(min_value=1.0, exclude_min=True).map(lambda v: ({"scale_overrides": {"fish_scale": v}}, "fish_scale")),
    st.one_of(st.integers(max_value=0), st.integers(min_value=5))
      .map(lambda v: ({"scale_overrides": {"cadence_multiplier": v}}, "cadence_multiplier")),
    st.one_of(st.lists(st.integers(), max_size=2), st.text(max_size=5), st.integers())
      .map(lambda v: ({"biology": v}, "'biology'")),
    st.one_of(st.lists(st.integers(), max_size=2), st.text(max_size=5))
      .map(lambda v: ({"scale_overrides": v}, "'scale_overrides'")),
)
NOT_AN_OBJECT = st.one_of(st.lists(st.integers(), max_size=3).map(json.dumps), st.integers().map(json.dumps),
                          st.just("{"), st.just('{"seed": 1,}'), st.just(""))


@HS
@given(case=BAD_SCENARIOS)
def test_bad_scenario_files_are_refused_in_one_line(case, target, tmp_path, capsys):
    """Random bad scenario JSON (unknown keys at any level, wrong types, out-of-range or reversed years, negative or too large seed, fish_scale <= 0 or > 1, bad cadence) -> `aquamind generate` exits non-zero with one line naming the key, and writes nothing"""
    # guard: scenario.py (Strict: extra="forbid"; Scenario._years; field bounds) and load_scenario's
    # one-line ScenarioError, raised by cli/generate.generate before it connects.
    mutation, fragment = case
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps({"scale": "tiny", **mutation}))
    code, out, err = run_in_process(["generate", "--scenario", str(path), "--no-dbt"], target["url"], target["home"], capsys)
    assert_refused_in_one_line(code, out, err, fragment)
    assert _written(target) == []


@HS
@given(text=NOT_AN_OBJECT)
def test_scenario_files_that_are_not_json_objects_are_refused(text, target, tmp_path, capsys):
    """A scenario file that is not JSON or not a JSON object -> one line naming the file, nothing written"""
    # guard: scenario.load_scenario (JSONDecodeError and the isinstance(data, dict) check).
    path = tmp_path / "scenario.json"
    path.write_text(text)
    code, out, err = run_in_process(["generate", "--scenario", str(path)], target["url"], target["home"], capsys)
    assert_refused_in_one_line(code, out, err, str(path))
    assert _written(target) == []


# ------------------------------------------------------------------ argument lists (hypothesis)
YEAR_SPECS = st.one_of(
    st.integers(-10**5, 2014).map(str), st.integers(2025, 10**5).map(str),
    st.tuples(st.integers(2015, 2024), st.integers(2015, 2024)).filter(lambda t: t[0] > t[1]).map(lambda t: f"{t[0]}-{t[1]}"),
    st.tuples(st.integers(1900, 2014), st.integers(2015, 2024)).map(lambda t: f"{t[0]}-{t[1]}"),
    st.tuples(st.integers(2015, 2024), st.integers(2025, 3000)).map(lambda t: f"{t[0]}-{t[1]}"),
    st.text(alphabet="abcxyz-./ ", min_size=1, max_size=8).filter(lambda s: not s.startswith("-")),
    st.just("2015-2016-2017"),
)
BAD_ARGV = st.one_of(
    YEAR_SPECS.map(lambda y: (["generate", "--scale", "tiny", "--years", y], "--years", True)),
    st.integers(max_value=-1).map(lambda s: (["generate", f"--seed={s}"], "--seed", False)),
    st.text(alphabet="abcxyz.", min_size=1, max_size=6).map(lambda s: (["generate", "--seed", s], "--seed", False)),
    st.text(min_size=1, max_size=8).filter(lambda s: s not in ("tiny", "small", "full", "full2x") and not s.startswith("-"))
      .map(lambda s: (["generate", "--scale", s], "--scale", False)),
    st.text(alphabet="abcdefgh-", min_size=1, max_size=8).filter(lambda s: s.strip("-"))
      .map(lambda s: (["generate", f"--{s.strip('-')}x", "1"], "unrecognized arguments", False)),
)


@HS
@given(case=BAD_ARGV)
def test_bad_argument_lists_are_refused(case, target, capsys):
    """Random bad argument lists (out-of-range, reversed or non-numeric --years, negative or non-numeric --seed, unknown --scale, unknown options) -> non-zero exit, the last line names the option, nothing written"""
    # guard: cli.parser() (choices, _positive_int) and scenario.parse_years.
    argv, fragment, one_line_only = case
    code, out, err = run_in_process(argv, target["url"], target["home"], capsys)
    assert code not in (0, None), f"accepted {argv}: {out[-500:]} {err[-500:]}"
    assert "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert lines and fragment in lines[-1], f"{fragment!r} not in the last line of: {err}"
    if one_line_only:  # our own errors are one line; argparse's put its usage lines first
        assert len(lines) == 1 and lines[0].startswith("aquamind: error: "), err
    else:
        assert all(line.startswith(("usage:", " ", "aquamind")) for line in lines), err
    assert _written(target) == []


@pytest.mark.parametrize("mutation,fragment", [
    ({"biology": {"eggs_per_batch": "many"}}, "biology.eggs_per_batch"),
    ({"start_year": 2014, "end_year": 2016}, "2014-2016"),
])
def test_bad_scenario_refused_by_the_installed_command(mutation, fragment, target, tmp_path):
    """A bad scenario file given to the installed `aquamind generate` (a subprocess) -> exit 2, one line on stderr naming the problem, nothing written"""
    # guard: as above, end to end through the console script and its exit code.
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps({"scale": "tiny", **mutation}))
    code, out, err = run_subprocess(["generate", "--scenario", str(path), "--no-dbt"], target["url"], target["home"])
    assert code == 2
    assert_refused_in_one_line(code, out, err, fragment)
    assert _written(target) == []


# ------------------------------------------------------------------ absurd sizes (package bug)
ABSURD = {  # scale_overrides that the scenario accepts today; each crashes or never ends in the simulation
    "stations 10**9": ({"stations_per_geography": {"FO": 10**9, "SC": 1}}, "stations_per_geography"),
    "stations negative": ({"stations_per_geography": {"FO": -1, "SC": 1}}, "stations_per_geography"),
    "stations zero": ({"stations_per_geography": {"FO": 0, "SC": 0}}, "stations_per_geography"),
    "unknown geography": ({"stations_per_geography": {"XX": 1}}, "stations_per_geography"),
    "sea sites 10**9": ({"sea_sites": {"FO": 10**9, "SC": 3}}, "sea_sites"),
    "pens 10**9": ({"pens_per_site": [2, 10**9]}, "pens_per_site"),
    "pens reversed": ({"pens_per_site": [5, 2]}, "pens_per_site"),
    "batches negative": ({"batches_per_year": {"FO": -1.0, "SC": 1.0}}, "batches_per_year"),
}


@pytest.mark.parametrize("case", sorted(ABSURD))
def test_absurd_or_negative_scale_is_refused(case, tmp_path, capsys):
    """An absurd, negative or unknown-geography scale override (stations_per_geography 10**9, pens reversed, ...) -> refused in one line naming the field, before anything is written"""
    # guard (missing): bounds on scenario.Scale fields. The database URL points nowhere (127.0.0.1:1) so
    # an accepted value fails fast at cli/connection.connect instead of simulating 10**9 stations.
    overrides, fragment = ABSURD[case]
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps({"scale": "tiny", "scale_overrides": overrides}))
    code, out, err = run_in_process(["generate", "--scenario", str(path)], "postgresql://u@127.0.0.1:1/x",
                                    tmp_path / "home", capsys)
    assert_refused_in_one_line(code, out, err, fragment)


# ------------------------------------------------------------------ unreachable or misconfigured database
@pytest.fixture(scope="module")
def not_postgres():
    """A TCP port on 127.0.0.1 where something that is not PostgreSQL accepts and hangs up."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    stop = threading.Event()

    def serve():
        srv.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                conn, _ = srv.accept()
                conn.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    t.join(timeout=2)
    srv.close()


def _database_cases(admin_url, dbname, port):
    real = url_of(admin_url, dbname)
    host_port = real.split("@", 1)[1].split("/", 1)[0]
    return {  # name -> (URL, fragments of the one line: the host tried, the cause)
        "wrong port (not PostgreSQL there)": (f"postgresql://u:S3cr3t-pw@127.0.0.1:{port}/{dbname}", [f"127.0.0.1:{port}"]),
        "wrong host (no such name)": ("postgresql://u:S3cr3t-pw@no-such-host.invalid:5432/db", ["no-such-host.invalid:5432"]),
        "wrong host (nobody listening)": ("postgresql://u:S3cr3t-pw@127.0.0.2:5432/db", ["127.0.0.2:5432", "refused"]),
        "wrong user": (real.replace("postgresql://postgres@", "postgresql://ghost_rel:S3cr3t-pw@"),
                       [host_port, "'ghost_rel'", "does not exist"]),
        "malformed port": ("postgresql://u:S3cr3t-pw@127.0.0.1:5x32/db", ["AQUAMIND_DATABASE_URL", "127.0.0.1:5x32"]),
        "no host": ("postgresql://u:S3cr3t-pw@/db", ["AQUAMIND_DATABASE_URL", "no host"]),
        "no database name": ("postgresql://u:S3cr3t-pw@127.0.0.1:5432", ["AQUAMIND_DATABASE_URL", "no database name"]),
        "not a URL": ("127.0.0.1:5432/db", ["AQUAMIND_DATABASE_URL", "postgresql://"]),
    }


CASES = ["wrong port (not PostgreSQL there)", "wrong host (no such name)", "wrong host (nobody listening)",
         "wrong user", "malformed port", "no host", "no database name", "not a URL"]


def _refused_without_password(url, fragments, target, capsys) -> None:
    before = databases(target["admin"])
    code, out, err = run_in_process(["generate", "--scale", "tiny", "--years", "2016", "--no-dbt"], url,
                                    target["home"], capsys)
    assert_refused_in_one_line(code, out, err, *fragments)
    assert code == 2
    assert "S3cr3t" not in out + err, "the password was shown"
    assert databases(target["admin"]) == before and _written(target) == []


@pytest.mark.parametrize("case", CASES)
def test_misconfigured_database_is_one_line_without_password(case, target, not_postgres, capsys):
    """Wrong port, wrong host, wrong user or a malformed AQUAMIND_DATABASE_URL -> `aquamind generate` exits 2 with one line naming the host tried (or the bad URL, password hidden), no traceback, nothing written"""
    # guard: settings._parse (InvalidDatabaseURL), database.check_reachable (DatabaseUnreachable),
    # settings.redact and _one_line (password scrubbing), cli.main's one-line handler.
    url, fragments = _database_cases(target["admin"], target["name"], not_postgres)[case]
    _refused_without_password(url, fragments, target, capsys)


def test_wrong_user_named_like_the_database_is_one_line(target, capsys):
    """A user that does not exist whose name contains the database name (`<db>_app` for `<db>`) -> one line naming the user, no traceback, nothing written"""
    # guard: database.check_reachable's "database does not exist" test, which must not match a missing role.
    url = url_of(target["admin"], target["name"], user=f"{target['name']}_app", password="S3cr3t-pw")
    _refused_without_password(url, [f"'{target['name']}_app'", "does not exist"], target, capsys)


ODD_URLS = {  # a password the CLI echoes today
    "password with '/'": "postgresql://u:S3cr3t/pw@127.0.0.1:5432/db",
    "password with '#'": "postgresql://u:S3cr3t#pw@127.0.0.1:5432/db",
    "scheme typo": "postgres ql://u:S3cr3t-pw@127.0.0.1:5432/db",
    "libpq key=value string": "host=127.0.0.1 port=5432 user=u password=S3cr3t-pw dbname=db",
}


@pytest.mark.parametrize("case", sorted(ODD_URLS))
def test_malformed_url_never_shows_its_password(case, target, capsys):
    """A malformed AQUAMIND_DATABASE_URL whose password has '/' or '#', a scheme typo, or a libpq key=value string -> one line naming AQUAMIND_DATABASE_URL, password hidden"""
    # guard: settings.redact, used by settings._parse for every message that shows the URL.
    _refused_without_password(ODD_URLS[case], ["AQUAMIND_DATABASE_URL"], target, capsys)


@pytest.mark.parametrize("case", ["wrong user", "wrong host (no such name)"])
def test_misconfigured_database_via_the_installed_command(case, target, not_postgres):
    """Wrong user / unknown host given to the installed `aquamind generate` (a subprocess) -> exit 2, one line naming the host tried, no password, nothing written"""
    # guard: as above, end to end through the console script.
    url, fragments = _database_cases(target["admin"], target["name"], not_postgres)[case]
    code, out, err = run_subprocess(["generate", "--scale", "tiny", "--years", "2016", "--no-dbt"], url, target["home"])
    assert code == 2
    assert_refused_in_one_line(code, out, err, *fragments)
    assert "S3cr3t" not in out + err
    assert _written(target) == []
