"""Database settings: precedence, derivation, redaction and one-line errors.

The database-touching tests use the admin server from AQUAMIND_TEST_ADMIN_URL (scripts/test
defaults it to the local 127.0.0.1:5432) and clean up the databases they create.
"""
from __future__ import annotations

import os
import socket
import uuid

import pytest

from aquamind_assets.runtime import database, settings
from aquamind_assets.runtime.database import DatabaseUnreachable
from aquamind_assets.runtime.settings import InvalidDatabaseURL

ADMIN_URL = os.environ.get("AQUAMIND_TEST_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket closes


def test_env_url_wins_and_dagster_db_is_derived():
    s = database.resolve(env={"AQUAMIND_DATABASE_URL": "postgresql://bob:pw@db.example:6543/farm"})
    assert (s.source, s.host, s.port, s.user, s.password) == ("env", "db.example", 6543, "bob", "pw")
    assert (s.dbname, s.dagster_dbname) == ("farm", "farm_dagster")
    assert s.warehouse_url == "postgresql://bob:pw@db.example:6543/farm"
    assert s.dagster_url == "postgresql://bob:pw@db.example:6543/farm_dagster"


def test_dagster_url_override_and_defaults():
    s = database.resolve(env={
        "AQUAMIND_DATABASE_URL": "postgres://bob@db/farm",  # postgres:// alias, default port
        "AQUAMIND_DAGSTER_DATABASE_URL": "postgresql://meta:x@meta-host:5433/dagmeta",
    })
    assert (s.port, s.password, s.dagster_dbname) == (5432, "", "dagmeta")
    env = settings.export_env(s, env={})
    assert (env["DAGSTER_PG_HOST"], env["DAGSTER_PG_PORT"], env["DAGSTER_PG_DB"]) == ("meta-host", "5433", "dagmeta")
    assert (env["PGHOST"], env["PGDATABASE"], env["PGUSER"]) == ("db", "farm", "bob")


def test_percent_encoded_password_round_trips():
    s = database.resolve(env={"AQUAMIND_DATABASE_URL": "postgresql://bob:p%40ss%2Fw@h:1/d"})
    assert s.password == "p@ss/w"
    assert settings.export_env(s, env={})["DAGSTER_PG_PASSWORD"] == "p@ss/w"
    assert "p%40ss%2Fw" in s.warehouse_url


def test_no_env_means_embedded_without_starting(tmp_path):
    s = database.resolve(start_embedded=False, env={}, home=tmp_path)
    assert (s.source, s.host, s.dbname, s.dagster_dbname) == ("embedded", "127.0.0.1", "aquamind", "aquamind_dagster")
    again = database.resolve(start_embedded=False, env={}, home=tmp_path)
    assert again.port == s.port  # chosen once, kept in embedded_db.json
    assert (tmp_path / "embedded_db.json").exists()


def test_export_env_dagster_home(tmp_path):
    s = database.resolve(env={"AQUAMIND_DATABASE_URL": "postgresql://u:pw@h:5/d"})
    default = settings.export_env(s, env={})["DAGSTER_HOME"]
    assert default == str(settings.repo_root() / "dagster_home")
    assert os.path.isabs(default) and os.path.exists(os.path.join(default, "dagster.yaml"))
    assert settings.export_env(s, env={"DAGSTER_HOME": str(tmp_path)})["DAGSTER_HOME"] == str(tmp_path)


@pytest.mark.parametrize("url, expected", [
    ("postgresql://u:secret@h:5432/db", "postgresql://u:***@h:5432/db"),
    ("postgresql://u@h/db", "postgresql://u@h/db"),
    ("postgresql+psycopg2://u:p%40ss@h/db", "postgresql+psycopg2://u:***@h/db"),
    ("postgresql://h/db?password=secret&sslmode=require", "postgresql://h/db?password=***&sslmode=require"),
])
def test_redact(url, expected):
    assert settings.redact(url) == expected


def test_repr_hides_password():
    s = database.resolve(env={"AQUAMIND_DATABASE_URL": "postgresql://bob:topsecret@h:1/d"})
    assert "topsecret" not in repr(s) and "topsecret" not in str(s)


@pytest.mark.parametrize("url, fragment", [
    ("mysql://u:topsecret@h/db", "must start with postgresql://"),
    ("postgresql://u:topsecret@h:abc/db", "not a valid URL"),
    ("postgresql://u:topsecret@/db", "has no host"),
    ("postgresql://u:topsecret@h:5432/", "has no database name"),
    ("just-a-word", "must start with postgresql://"),
])
def test_malformed_url_is_one_line(url, fragment):
    with pytest.raises(InvalidDatabaseURL) as info:
        database.resolve(env={"AQUAMIND_DATABASE_URL": url})
    msg = str(info.value)
    assert fragment in msg and "AQUAMIND_DATABASE_URL" in msg
    assert "\n" not in msg and "topsecret" not in msg


def test_unreachable_is_one_line_without_password():
    port = _closed_port()
    s = database.resolve(env={"AQUAMIND_DATABASE_URL": f"postgresql://bob:topsecret@127.0.0.1:{port}/farm"})
    with pytest.raises(DatabaseUnreachable) as info:
        database.check_reachable(s, timeout=2)
    msg = str(info.value)
    assert f"127.0.0.1:{port}" in msg and "connection refused" in msg
    assert "AQUAMIND_DATABASE_URL" in msg and "aquamind db up" in msg
    assert "\n" not in msg and "topsecret" not in msg
    assert info.value.__cause__ is None and info.value.__suppress_context__


@pytest.fixture
def admin_server():
    """Settings for throwaway databases on the admin server; dropped afterwards."""
    admin = database.resolve(env={"AQUAMIND_DATABASE_URL": ADMIN_URL})
    try:
        database.check_reachable(admin, timeout=2)
    except DatabaseUnreachable as exc:
        pytest.skip(f"admin server not available: {exc}")
    name = f"aquamind_t{uuid.uuid4().hex[:8]}"
    base = ADMIN_URL.rsplit("/", 1)[0].split("?")[0]
    yield database.resolve(env={"AQUAMIND_DATABASE_URL": f"{base}/{name}"})
    import psycopg

    with psycopg.connect(admin.warehouse_url, autocommit=True) as conn:
        for db in (name, name + "_dagster"):
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def test_ensure_databases_creates_both_once(admin_server):
    s = admin_server
    assert database.ensure_databases(s) == [s.dbname, s.dagster_dbname]
    assert database.ensure_databases(s) == []
    database.check_reachable(s)


def test_dagster_yaml_loads_against_settings(admin_server, monkeypatch):
    """dagster_home/dagster.yaml + export_env() give a working Postgres-backed instance."""
    from dagster import DagsterInstance

    database.ensure_databases(admin_server)
    for key, value in settings.export_env(admin_server, env={}).items():
        monkeypatch.setenv(key, value)
    with DagsterInstance.from_config(str(settings.repo_root() / "dagster_home")) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert instance.get_runs() == []
        assert instance.run_monitoring_enabled and instance.run_retries_enabled
        run_queue = instance.get_concurrency_config().run_queue_config
        assert run_queue.max_concurrent_runs == 2
        assert run_queue.tag_concurrency_limits[0]["key"] == "dagster/partition"
