"""Shared fixtures: a throwaway PostgreSQL database per test module.

Integration tests run on a real server (env AQUAMIND_TEST_ADMIN_URL, a URL of the maintenance
database; default postgresql://postgres@127.0.0.1:5432/postgres). Each module gets its own
`aquamind_test_<random>` database, dropped afterwards, so modules never see each other's rows.
"""
from __future__ import annotations

import os
import secrets
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _with_dbname(url: str, name: str) -> str:
    """The admin URL pointed at another database, still a postgresql:// URL (what settings.py accepts)."""
    if "://" not in url:
        return make_conninfo(url, dbname=name)
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def admin_url() -> str:
    return os.environ.get("AQUAMIND_TEST_ADMIN_URL", DEFAULT_ADMIN_URL)


@pytest.fixture(scope="module")
def db_url(admin_url):
    """Conninfo of a fresh, empty database for this module; dropped (WITH FORCE) after it."""
    name = f"aquamind_test_{secrets.token_hex(6)}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _with_dbname(admin_url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def conn(db_url):
    """An autocommit connection to the module's database (loads open their own transactions)."""
    with psycopg.connect(db_url, autocommit=True) as c:
        yield c
