"""The one reader of the environment: database URLs, DAGSTER_HOME, the run's scenario choice.

Everything the project takes from environment variables is read here and handed on as values
(resources, arguments), so no other module depends on what happens to be exported; `export_env`
is the other direction, what child processes (Dagster, dbt, psql) are given. URLs are parsed and
validated here; `database.resolve()` combines them with the embedded server. Passwords never
leave this module in messages.
"""
from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlsplit

WAREHOUSE_URL_VAR = "AQUAMIND_DATABASE_URL"
DAGSTER_URL_VAR = "AQUAMIND_DAGSTER_DATABASE_URL"
EMBEDDED_DBNAME = "aquamind"
DAGSTER_SUFFIX = "_dagster"
_SCHEMES = {"postgresql", "postgres"}


class InvalidSetting(ValueError):
    """A setting from the environment that cannot be used; str() is one line naming the variable."""


class InvalidDatabaseURL(InvalidSetting):
    """A database URL that cannot be used; str() is one line and never shows the password."""


@dataclass(frozen=True)
class DatabaseSettings:
    warehouse_url: str
    dagster_url: str
    host: str
    port: int
    user: str
    password: str
    dbname: str
    dagster_dbname: str
    source: str  # "env" | "embedded"

    def __repr__(self) -> str:  # the dataclass default would print the password
        return (
            f"DatabaseSettings(source={self.source!r}, warehouse={redact(self.warehouse_url)!r}, "
            f"dagster={redact(self.dagster_url)!r})"
        )

    __str__ = __repr__


@dataclass(frozen=True)
class _Parts:
    host: str
    port: int
    user: str
    password: str
    dbname: str
    query: str


SCALE_VAR, SEED_VAR, SCENARIO_VAR = "AQUAMIND_SCALE", "AQUAMIND_SEED", "AQUAMIND_SCENARIO"
REPLACE_ALL_VAR, REPORT_DIR_VAR = "AQUAMIND_REPLACE_ALL", "AQUAMIND_REPORT_DIR"
BIN_DIR_VAR = "AQUAMIND_PG_BIN_DIR"  # force a binaries folder (or `wheel`) for the embedded server
FILES_URL_VAR = "AQUAMIND_FILES_URL"  # where `aquamind ui` serves the report and the dbt docs
DEFAULT_FILES_PORT = 3001


@dataclass(frozen=True)
class RunChoice:
    """What a run launched without arguments (from the UI, by the daemon) generates: exported by
    `aquamind ui` / `aquamind generate`, read back here; None = the scenario file's own value."""

    scenario_file: str | None = None
    scale: str | None = None
    seed: int | None = None
    replace_all: bool = False


def environment() -> Mapping[str, str]:
    return os.environ


LOCK_TIMEOUT_VAR = "AQUAMIND_LOCK_TIMEOUT_S"
DEFAULT_LOCK_TIMEOUT_S = 60.0
MAX_LOCK_TIMEOUT_S = 86_400.0


def lock_timeout_s(env: Mapping[str, str] | None = None) -> float:
    """How long a load waits for a lock held by a client that is not another running load (seconds,
    AQUAMIND_LOCK_TIMEOUT_S, default 60), before it fails naming that client (warehouse/locks.py).
    Refused in one line unless a number of seconds in (0, 86400]."""
    raw = ((env if env is not None else os.environ).get(LOCK_TIMEOUT_VAR) or "").strip()
    if not raw:
        return DEFAULT_LOCK_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 0 < value <= MAX_LOCK_TIMEOUT_S:  # also refuses nan and inf
        raise InvalidSetting(f"{LOCK_TIMEOUT_VAR}={raw!r} must be a number of seconds greater than 0 and at most "
                             f"{MAX_LOCK_TIMEOUT_S:.0f} (default {DEFAULT_LOCK_TIMEOUT_S:.0f})")
    return value


def storage(env: Mapping[str, str] | None = None) -> str:
    """The warehouse storage path AQUAMIND_STORAGE asks for (warehouse/storage.py validates it)."""
    from ..warehouse import storage as storage_path

    return storage_path.requested((env if env is not None else os.environ).get(storage_path.STORAGE_VAR))


def run_choice(env: Mapping[str, str] | None = None) -> RunChoice:
    env = os.environ if env is None else env
    seed = env.get(SEED_VAR)
    return RunChoice(scenario_file=env.get(SCENARIO_VAR) or None, scale=env.get(SCALE_VAR) or None,
                     seed=int(seed) if seed else None, replace_all=env.get(REPLACE_ALL_VAR) == "1")


def choice_env(choice: RunChoice) -> dict[str, str]:
    """The variables that make run_choice() in a child process return `choice`."""
    out = {SCALE_VAR: choice.scale, SEED_VAR: None if choice.seed is None else str(choice.seed),
           SCENARIO_VAR: choice.scenario_file and os.path.abspath(choice.scenario_file),
           REPLACE_ALL_VAR: "1" if choice.replace_all else None}
    return {k: v for k, v in out.items() if v}


def export_to_environ(values: Mapping[str, str]) -> None:
    """Make values visible to this process's children (Dagster run workers, dbt)."""
    os.environ.update(values)


def pg_bin_dir_override() -> str:
    return os.environ.get(BIN_DIR_VAR, "")


def child_env(drop_prefixes: tuple[str, ...] = ()) -> dict[str, str]:
    """This process's environment for a child, without the variables named by `drop_prefixes`."""
    return {k: v for k, v in os.environ.items() if not k.startswith(drop_prefixes)}


def report_dir() -> Path:
    return Path(os.environ.get(REPORT_DIR_VAR) or repo_root() / "reports")


def dbt_docs_dir() -> Path:
    """Where `dbt docs generate` writes the docs site (the dbt_docs asset)."""
    return report_dir() / "dbt-docs"


def files_url(env: Mapping[str, str] | None = None) -> str:
    """The http root of the report and the dbt docs: `aquamind ui` exports it to what it starts;
    elsewhere its default address, where `aquamind ui` will serve them."""
    env = os.environ if env is None else env
    return (env.get(FILES_URL_VAR) or f"http://127.0.0.1:{DEFAULT_FILES_PORT}").rstrip("/")


def repo_root() -> Path:
    """Repository root, found from the package location (editable install / checkout)."""
    return Path(__file__).resolve().parents[2]


def dagster_home(env: Mapping[str, str] | None = None) -> Path:
    """DAGSTER_HOME if set, else <repo>/dagster_home; always absolute, as Dagster requires."""
    env = os.environ if env is None else env
    if env.get("DAGSTER_HOME"):
        return Path(env["DAGSTER_HOME"]).expanduser().resolve()
    return repo_root() / "dagster_home"


def redact(url: str) -> str:
    """Replace any password in a URL (userinfo or ?password=) with ***."""
    out = re.sub(r"^([^@]*?://[^:@/]*):.*@", r"\1:***@", str(url).strip())  # userinfo: up to the last @
    return re.sub(r"(?i)(password\s*=\s*)[^&#\s]*", r"\1***", out)


def _parse(url: str, var: str) -> _Parts:
    """Split and validate a postgresql:// URL; one-line InvalidDatabaseURL on anything odd."""
    shown = redact(url)
    try:
        parts = urlsplit(url.strip())
        port = parts.port or 5432
    except ValueError as exc:  # bad port such as :abc or :99999
        raise InvalidDatabaseURL(f"{var}={shown} is not a valid URL (invalid port)") from None
    scheme = parts.scheme.lower().split("+", 1)[0]  # accept postgresql+psycopg2:// too
    if scheme not in _SCHEMES:
        raise InvalidDatabaseURL(
            f"{var}={shown} must start with postgresql:// "
            "(form: postgresql://user:password@host:port/dbname)"
        )
    dbname = unquote(parts.path.lstrip("/"))
    if not parts.hostname:
        raise InvalidDatabaseURL(
            f"{var}={shown} has no host; a TCP host is required because Dagster's postgres "
            "storage needs one (form: postgresql://user:password@host:port/dbname)"
        )
    if not dbname or "/" in dbname:
        raise InvalidDatabaseURL(
            f"{var}={shown} has no database name (form: postgresql://user:password@host:port/dbname)"
        )
    return _Parts(
        host=parts.hostname,
        port=port,
        user=unquote(parts.username or "") or "postgres",
        password=unquote(parts.password or ""),
        dbname=dbname,
        query=parts.query,
    )


def _build(p: _Parts, dbname: str) -> str:
    """libpq-style URL (no +driver) that psycopg, dbt-style tools and psql all accept."""
    auth = quote(p.user, safe="")
    if p.password:
        auth += ":" + quote(p.password, safe="")
    host = f"[{p.host}]" if ":" in p.host else p.host
    query = f"?{p.query}" if p.query else ""
    return f"postgresql://{auth}@{host}:{p.port}/{quote(dbname, safe='')}{query}"


def export_env(settings: DatabaseSettings, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Env vars for child processes (dagster dev/webserver/daemon, dbt, psql).

    - DAGSTER_HOME: read by Dagster; dagster.yaml lives there.
    - AQUAMIND_DATABASE_URL / AQUAMIND_DAGSTER_DATABASE_URL: children resolve() to the same
      server without starting anything.
    - DAGSTER_PG_HOST/PORT/USER/PASSWORD/DB: read by dagster_home/dagster.yaml.
    - PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE (+PGSSLMODE when the URL has sslmode): the
      standard libpq names (psql/pg_dump), and AQUAMIND_DBT_* read by dbt_project/profiles.yml.
    """
    dg = _parse(settings.dagster_url, DAGSTER_URL_VAR)
    wh = _parse(settings.warehouse_url, WAREHOUSE_URL_VAR)
    out = {
        "DAGSTER_HOME": str(dagster_home(env)),
        WAREHOUSE_URL_VAR: settings.warehouse_url,
        DAGSTER_URL_VAR: settings.dagster_url,
        "DAGSTER_PG_HOST": dg.host,
        "DAGSTER_PG_PORT": str(dg.port),
        "DAGSTER_PG_USER": dg.user,
        "DAGSTER_PG_PASSWORD": dg.password,
        "DAGSTER_PG_DB": dg.dbname,
        "PGHOST": wh.host,
        "PGPORT": str(wh.port),
        "PGUSER": wh.user,
        "PGPASSWORD": wh.password,
        "PGDATABASE": wh.dbname,
    }
    # dbt_project/profiles.yml reads these (libpq's PG* would also steer every psql a user runs)
    out.update({f"AQUAMIND_DBT_{k[2:]}": v for k, v in out.items() if k.startswith("PG") and k != "PGSSLMODE"})
    out["AQUAMIND_DBT_DBNAME"] = wh.dbname
    sslmode = dict(parse_qsl(wh.query)).get("sslmode")
    if sslmode:
        out["PGSSLMODE"] = sslmode
    return out
