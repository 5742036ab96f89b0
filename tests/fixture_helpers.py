"""Helpers shared by fixtures in several test folders (dbt: tests/defs/test_dbt.py, tests/report; URLs: also tests/e2e)."""
from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import quote

from psycopg.conninfo import conninfo_to_dict


def url_of(conninfo: str) -> str:
    """postgresql:// URL of a libpq conninfo (settings.resolve only takes URLs)."""
    d = conninfo_to_dict(conninfo)
    auth = quote(d.get("user") or "postgres", safe="")
    if d.get("password"):
        auth += ":" + quote(d["password"], safe="")
    return f"postgresql://{auth}@{d.get('host') or '127.0.0.1'}:{d.get('port') or 5432}/{quote(d['dbname'], safe='')}"


def dbt_target(tmp_path_factory) -> Path:
    """A temporary dbt target path, seeded with the project's partial-parse file when there is one."""
    from aquamind_assets.defs.dbt.project import DBT_DIR

    target = tmp_path_factory.mktemp("dbt_target")
    partial = DBT_DIR / "target" / "partial_parse.msgpack"
    if partial.exists():
        shutil.copy(partial, target / partial.name)
    return target
