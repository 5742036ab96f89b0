"""The storage path: chosen explicitly, recorded, refused when it is not the warehouse's own; on a
TimescaleDB server, the hypertable path's year chunks (one per year, replaced whole, compressed)."""
from __future__ import annotations

import psycopg
import pytest
from fixture_helpers import url_of
from wh_specs import EVENT, READING, TEST_TABLES, event_frame, reading_frame

from aquamind_assets.runtime import settings
from aquamind_assets.warehouse import ddl, storage, timescale
from aquamind_assets.warehouse.load import YearLoad

YEARS = (2015, 2016, 2017)


def _timescale_server(conn) -> bool:
    return storage.timescale_available(conn)


@pytest.fixture
def fresh(admin_url):
    """A new empty database per test (the storage path is chosen when a warehouse is created)."""
    import secrets

    name = f"aquamind_test_ts_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(url_of(admin_url, name), autocommit=True) as c:
            yield c
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_unknown_storage_is_refused_in_one_line():
    with pytest.raises(storage.StorageError, match=r"AQUAMIND_STORAGE='columnar' is not a storage path: use one of native, timescale"):
        settings.storage({"AQUAMIND_STORAGE": "columnar"})
    assert settings.storage({}) == storage.NATIVE == settings.storage({"AQUAMIND_STORAGE": ""})
    assert settings.storage({"AQUAMIND_STORAGE": "timescale"}) == storage.TIMESCALE


def test_the_recorded_path_is_kept_and_another_refused(fresh):
    ddl.create_warehouse(fresh, years=YEARS, tables=TEST_TABLES, storage="native")
    assert storage.recorded(fresh) == "native"
    with pytest.raises(storage.StorageError, match="stores its data the native way .* set AQUAMIND_STORAGE=native"):
        ddl.ensure_warehouse(fresh, YEARS, storage="timescale")
    with pytest.raises(storage.StorageError, match="the native way"):
        ddl.create_warehouse(fresh, years=YEARS, tables=TEST_TABLES, storage="timescale")
    assert ddl.relation_kind(fresh, READING.schema, READING.name) == "p"  # nothing was changed


def test_timescale_without_the_extension_is_refused(fresh):
    if _timescale_server(fresh):
        pytest.skip("this server has TimescaleDB: the refusal is for servers without it")
    with pytest.raises(storage.StorageError, match="no timescaledb extension: install TimescaleDB"):
        ddl.create_warehouse(fresh, years=YEARS, tables=TEST_TABLES, storage="timescale")
    assert storage.recorded(fresh) is None


def _load(conn, year, seed, n=20_000):
    with YearLoad(conn, asset="readings", year=year, tables=[READING, EVENT], scenario_hash="s",
                  code_version="test") as ld:
        ld.write(reading_frame(year, n, seed=seed))
        ld.write(event_frame(year, range(5)))
    return ld.result


def _year_rows(conn, year):
    return conn.execute("SELECT count(*), sum(sensor_id), sum(value::float8) FROM wh_test.reading "
                        "WHERE year = %s", (year,)).fetchone()


def test_hypertable_year_chunks_replace_whole_and_compress(fresh):
    if not _timescale_server(fresh):
        pytest.skip("needs a PostgreSQL server with TimescaleDB (DEVELOPERS.md: a server for testing)")
    ddl.create_warehouse(fresh, years=YEARS, tables=TEST_TABLES, storage="timescale")
    assert storage.recorded(fresh) == "timescale" and timescale.is_hypertable(fresh, READING)
    assert ddl.warehouse_complete(fresh, YEARS, TEST_TABLES, storage="timescale")
    _load(fresh, 2015, seed=1)
    first = _load(fresh, 2016, seed=1)
    kept = _year_rows(fresh, 2015)
    assert timescale.compress_year(fresh, READING, 2016)["ratio"] > 1  # the next load replaces a compressed chunk
    again = _load(fresh, 2016, seed=2)  # replaces the compressed chunk
    assert first.checksum != again.checksum and _year_rows(fresh, 2015) == kept
    again_2 = _load(fresh, 2016, seed=2)
    assert again_2.checksum == again.checksum and _year_rows(fresh, 2016)[0] == 20_000
    chunks = fresh.execute("""SELECT chunk_name, range_start, range_end FROM timescaledb_information.chunks
                              WHERE hypertable_name = 'reading' ORDER BY 1""").fetchall()
    assert [(c, s.year, s.month, s.day, e.year) for c, s, e in chunks] == [
        ("reading_y2015", 2015, 1, 1, 2016), ("reading_y2016", 2016, 1, 1, 2017)]
    dead = fresh.execute("SELECT coalesce(sum(n_dead_tup), 0) FROM pg_stat_user_tables "
                         "WHERE schemaname = 'wh_test' AND relname LIKE 'reading%'").fetchone()[0]
    assert dead == 0
    stats = timescale.compress_year(fresh, READING, 2016)
    assert stats["ratio"] > 2 and _year_rows(fresh, 2016)[0] == 20_000
    plan = "\n".join(r[0] for r in fresh.execute("EXPLAIN SELECT count(*) FROM wh_test.reading WHERE year = 2016"))
    assert "reading_y2016" in plan and "reading_y2015" not in plan  # the other year's chunk is skipped
