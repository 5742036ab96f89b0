"""The one place that decides which PostgreSQL the project talks to.

Every entry point (CLI, Dagster resources, dbt's profile env, tests) calls `resolve()` so the
warehouse, Dagster's own storage and dbt can never disagree about the server. Precedence:
AQUAMIND_DATABASE_URL (warehouse) and AQUAMIND_DAGSTER_DATABASE_URL (Dagster storage; default:
the warehouse server, database `<dbname>_dagster`); when AQUAMIND_DATABASE_URL is unset the
embedded server from `embedded_db` is used. Passwords never leave this module in messages.
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
_FIX = f"start it or set {WAREHOUSE_URL_VAR}; `aquamind db up` starts the embedded one"


class InvalidDatabaseURL(ValueError):
    """A database URL that cannot be used; str() is one line and never shows the password."""


class DatabaseUnreachable(RuntimeError):
    """The server did not answer or refused us; str() is one line: where, why, and the fix."""


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


def repo_root() -> Path:
    """Repository root, found from the package location (editable install / checkout)."""
    return Path(__file__).resolve().parent.parent


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


def resolve(
    start_embedded: bool = True,
    *,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> DatabaseSettings:
    """Work out the settings from the environment; start the embedded server if it is needed.

    With start_embedded=False the embedded URL is still returned (its port is fixed in
    embedded_db.json) so callers can report "not running" via check_reachable().
    """
    env = os.environ if env is None else env
    raw = (env.get(WAREHOUSE_URL_VAR) or "").strip()
    if raw:
        wh, source = _parse(raw, WAREHOUSE_URL_VAR), "env"
    else:
        from aquamind_assets import embedded_db

        home = home or dagster_home(env)
        host, port = embedded_db.up(home) if start_embedded else embedded_db.address(home)
        wh = _Parts(host, port, embedded_db.SUPERUSER, "", EMBEDDED_DBNAME, "")
        source = "embedded"
    warehouse_url = _build(wh, wh.dbname)
    raw_dagster = (env.get(DAGSTER_URL_VAR) or "").strip()
    if raw_dagster:
        dg = _parse(raw_dagster, DAGSTER_URL_VAR)
    else:
        dg = replace(wh, dbname=wh.dbname + DAGSTER_SUFFIX)
    return DatabaseSettings(
        warehouse_url=warehouse_url,
        dagster_url=_build(dg, dg.dbname),
        host=wh.host,
        port=wh.port,
        user=wh.user,
        password=wh.password,
        dbname=wh.dbname,
        dagster_dbname=dg.dbname,
        source=source,
    )


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


def _one_line(exc: BaseException, password: str) -> str:
    """First line of a driver error with the password scrubbed, for one-line messages."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    text = re.sub(r"^connection failed:\s*", "", text)
    text = re.sub(r'^connection to server at "[^"]*"[^,]*, port \d+ failed:\s*', "", text)
    text = re.sub(r"^(FATAL|ERROR):\s*", "", text)
    return text.replace(password, "***") if password else text


def _connect(url: str, timeout: float):
    import psycopg

    return psycopg.connect(url, connect_timeout=max(1, int(timeout)), autocommit=True)


def check_reachable(settings: DatabaseSettings, timeout: float = 3.0) -> None:
    """Raise DatabaseUnreachable (one line, no password) unless the warehouse server answers."""
    where = f"{settings.host}:{settings.port}"
    try:
        with socket.create_connection((settings.host, settings.port), timeout=timeout):
            pass
    except OSError as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else (
            "connection refused" if isinstance(exc, ConnectionRefusedError)
            else (exc.strerror or type(exc).__name__).lower()
        )
        raise DatabaseUnreachable(f"cannot reach PostgreSQL at {where} ({reason}); {_FIX}") from None
    import psycopg

    try:
        with _connect(settings.warehouse_url, timeout):
            return
    except psycopg.OperationalError as exc:
        msg = _one_line(exc, settings.password)
        if f'database "{settings.dbname}" does not exist' in msg:
            return  # the server answered; ensure_databases() creates the database
        raise DatabaseUnreachable(
            f"PostgreSQL at {where} refused user {settings.user!r}: {msg}; check {WAREHOUSE_URL_VAR}"
        ) from None


def _ensure_one(url: str, var: str) -> bool:
    """Create the database named in url if missing (via the `postgres` db); True if created."""
    import psycopg
    from psycopg import errors, sql

    parts = _parse(url, var)
    try:
        with _connect(url, 5):
            return False
    except psycopg.OperationalError as exc:
        msg = _one_line(exc, parts.password)
        if f'database "{parts.dbname}" does not exist' not in msg:
            raise DatabaseUnreachable(
                f"cannot use PostgreSQL at {parts.host}:{parts.port}: {msg}; {_FIX}"
            ) from None
    try:
        with _connect(_build(parts, "postgres"), 5) as conn:
            try:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(parts.dbname)))
            except (errors.DuplicateDatabase, errors.UniqueViolation):  # another process won the race
                return False
    except psycopg.OperationalError as exc:
        raise DatabaseUnreachable(f"cannot create database {parts.dbname!r} at {parts.host}:{parts.port}: "
                                  f"{_one_line(exc, parts.password)}; {_FIX}") from None
    return True


def ensure_databases(settings: DatabaseSettings) -> list[str]:
    """CREATE DATABASE for the warehouse and Dagster databases if missing; returns those created."""
    created = []
    for url, var in ((settings.warehouse_url, WAREHOUSE_URL_VAR), (settings.dagster_url, DAGSTER_URL_VAR)):
        if _ensure_one(url, var):
            created.append(_parse(url, var).dbname)
    return created
