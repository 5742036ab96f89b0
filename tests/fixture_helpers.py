"""Helpers shared by fixtures in several test folders: the one URL builder of the tests (tests/conftest.py,
tests/reliability, tests/e2e, ...) and the dbt target path (tests/defs/test_dbt.py, tests/report)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import quote, urlencode

from psycopg.conninfo import conninfo_to_dict

_URL_PARTS = ("user", "password", "host", "port", "dbname")


def url_of(conninfo: str, dbname: str | None = None, *, user: str | None = None,
           password: str | None = None) -> str:
    """postgresql:// URL (the only form database.resolve takes) of a libpq conninfo or URL, optionally
    naming another database on the same server, or another user (whose password is `password`, never
    the original one). User, password and database are percent-encoded; other parameters (sslmode,
    ...) are kept."""
    d = conninfo_to_dict(conninfo)
    if user is not None:
        d["user"], d["password"] = user, password
    elif password is not None:
        d["password"] = password
    if dbname is not None:
        d["dbname"] = dbname
    auth = quote(d.get("user") or "postgres", safe="")
    if d.get("password"):
        auth += ":" + quote(d["password"], safe="")
    host = d.get("host") or "127.0.0.1"  # a TCP host: the project refuses unix sockets
    host = f"[{host}]" if ":" in host else host
    rest = {k: v for k, v in d.items() if k not in _URL_PARTS and v is not None}
    query = f"?{urlencode(rest)}" if rest else ""
    return f"postgresql://{auth}@{host}:{d.get('port') or 5432}/{quote(d.get('dbname') or 'postgres', safe='')}{query}"


def dbt_target(tmp_path_factory) -> Path:
    """A temporary dbt target path, seeded with the project's partial-parse file when there is one."""
    from aquamind_assets.defs.dbt.project import DBT_DIR

    target = tmp_path_factory.mktemp("dbt_target")
    partial = DBT_DIR / "target" / "partial_parse.msgpack"
    if partial.exists():
        shutil.copy(partial, target / partial.name)
    return target


def chromium() -> str | None:
    """The system's Chromium (Debian's package), or None: the browser tests skip without it."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None
