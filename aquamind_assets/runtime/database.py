"""Which PostgreSQL the project talks to: the configured one, or the embedded server started here.

Every entry point (CLI, Dagster resources, dbt's profile env, tests) calls `resolve()` so the
warehouse, Dagster's own storage and dbt can never disagree about the server. Precedence:
AQUAMIND_DATABASE_URL (warehouse) and AQUAMIND_DAGSTER_DATABASE_URL (Dagster storage; default:
the warehouse server, database `<dbname>_dagster`); when AQUAMIND_DATABASE_URL is unset the
embedded server from `embedded_db` is used. Passwords never leave this module in messages.
"""
from __future__ import annotations

import re
import socket
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from . import embedded_db
from .settings import (DAGSTER_SUFFIX, DAGSTER_URL_VAR, EMBEDDED_DBNAME, WAREHOUSE_URL_VAR, DatabaseSettings,
                       _build, _parse, _Parts, dagster_home, environment)

_FIX = f"start it or set {WAREHOUSE_URL_VAR}; `aquamind db up` starts the embedded one"
# which storage a message is about: the warehouse and Dagster's storage may be on different servers
WHICH = {WAREHOUSE_URL_VAR: f"the warehouse ({WAREHOUSE_URL_VAR})",
         DAGSTER_URL_VAR: f"Dagster's storage ({DAGSTER_URL_VAR})"}
FIXES = {WAREHOUSE_URL_VAR: _FIX,
         DAGSTER_URL_VAR: f"start it or set {DAGSTER_URL_VAR} (default: the warehouse server, database "
                          f"<warehouse>{DAGSTER_SUFFIX}); nothing was written to the warehouse"}


class DatabaseUnreachable(RuntimeError):
    """The server did not answer or refused us; str() is one line: where, why, and the fix."""


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
    env = environment() if env is None else env
    raw = (env.get(WAREHOUSE_URL_VAR) or "").strip()
    if raw:
        wh, source = _parse(raw, WAREHOUSE_URL_VAR), "env"
    else:
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
        raise DatabaseUnreachable(f"{WHICH[WAREHOUSE_URL_VAR]} is unavailable: cannot reach PostgreSQL at {where} "
                                  f"({reason}); {_FIX}") from None
    import psycopg

    try:
        with _connect(settings.warehouse_url, timeout):
            return
    except psycopg.OperationalError as exc:
        msg = _one_line(exc, settings.password)
        if f'database "{settings.dbname}" does not exist' in msg:
            return  # the server answered; ensure_databases() creates the database
        raise DatabaseUnreachable(
            f"{WHICH[WAREHOUSE_URL_VAR]} is unavailable: PostgreSQL at {where} refused user {settings.user!r}: "
            f"{msg}; check {WAREHOUSE_URL_VAR}"
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
                f"{WHICH[var]} is unavailable: cannot use PostgreSQL at {parts.host}:{parts.port}: {msg}; {FIXES[var]}"
            ) from None
    try:
        with _connect(_build(parts, "postgres"), 5) as conn:
            try:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(parts.dbname)))
            except (errors.DuplicateDatabase, errors.UniqueViolation):  # another process won the race
                return False
    except psycopg.OperationalError as exc:
        raise DatabaseUnreachable(f"{WHICH[var]} is unavailable: cannot create database {parts.dbname!r} at "
                                  f"{parts.host}:{parts.port}: {_one_line(exc, parts.password)}; {FIXES[var]}") from None
    return True


def ensure_databases(settings: DatabaseSettings) -> list[str]:
    """CREATE DATABASE for the warehouse and Dagster databases if missing; returns those created."""
    created = []
    for url, var in ((settings.warehouse_url, WAREHOUSE_URL_VAR), (settings.dagster_url, DAGSTER_URL_VAR)):
        if _ensure_one(url, var):
            created.append(_parse(url, var).dbname)
    return created
