"""Shared fixtures: a throwaway PostgreSQL database per test module, and a connection to it.

Integration tests run on a real server (env AQUAMIND_TEST_ADMIN_URL, a URL or conninfo of the
maintenance database; default postgresql://postgres@127.0.0.1:5432/postgres). Each module gets its
own `aquamind_test_<random>` database, dropped afterwards, so modules never see each other's rows.

With AQUAMIND_GUARANTEES_REPORT=<path> set, the run writes every test's outcome to that JSON file
(outcome_report.py), which scripts/guarantees_table.py turns into docs/guarantees.md.
"""
from __future__ import annotations

import os
import secrets

import outcome_report
import psycopg
import pytest
from fixture_helpers import url_of
from psycopg import sql

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def pytest_configure(config):
    outcome_report.register(config)


@pytest.fixture(scope="session")
def admin_url() -> str:
    return os.environ.get("AQUAMIND_TEST_ADMIN_URL", DEFAULT_ADMIN_URL)


@pytest.fixture(scope="module")
def db_url(admin_url):
    """postgresql:// URL of a fresh, empty database for this module; dropped (WITH FORCE) after it,
    with the `<name>_dagster` database the CLI creates beside it for Dagster's storage."""
    name = f"aquamind_test_{secrets.token_hex(6)}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield url_of(admin_url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            for db in (name, f"{name}_dagster"):
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))


@pytest.fixture
def conn(db_url):
    """An autocommit connection to the module's database (loads open their own transactions). Modules
    whose fixture fills the database first ask for that fixture too (usefixtures), so it runs first."""
    with psycopg.connect(db_url, autocommit=True) as c:
        yield c
