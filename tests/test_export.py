"""`aquamind export` round-trips the stored rows: a tiny warehouse (static tables and 2015) exported as
Parquet and as CSV, every file read back by pandas, pyarrow and DuckDB, and loaded into a scratch
table of the same layout, where it equals the stored rows exactly (EXCEPT both ways, counts equal)."""
from __future__ import annotations

import csv
import io
import json

import dagster as dg
import psycopg
import pytest
from psycopg import sql

from aquamind_assets.cli import main
from aquamind_assets.warehouse.ddl import all_tables
from aquamind_assets.warehouse.unload import relation

YEAR = 2015
TABLES = {t.qualified: t for t in all_tables()}


@pytest.fixture(scope="module")
def exported(db_url, tmp_path_factory):
    from aquamind_assets.definitions import YEARLY_ASSETS, defs
    from aquamind_assets.defs import static

    home = tmp_path_factory.mktemp("dagster_home")
    out = {fmt: tmp_path_factory.mktemp(fmt) for fmt in ("parquet", "csv")}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AQUAMIND_DATABASE_URL", db_url)
        mp.setenv("AQUAMIND_SCALE", "tiny")
        mp.setenv("DAGSTER_HOME", str(home))
        with dg.instance_for_test(temp_dir=str(home)) as instance:
            for assets, partition in (([static.static_assets], None), (YEARLY_ASSETS, str(YEAR))):
                assert dg.materialize(assets, instance=instance, partition_key=partition,
                                      resources={"warehouse": defs.resources["warehouse"]}).success
        for fmt, folder in out.items():
            assert main(["export", "--format", fmt, "--years", str(YEAR), "--out", str(folder)]) == 0
    return {fmt: (folder, json.loads((folder / "manifest.json").read_text())) for fmt, folder in out.items()}


def _arrow_as_csv(path) -> bytes:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pacsv.write_csv(pq.read_table(path), buf)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_every_table_round_trips_exactly(exported, db_url, fmt):
    folder, manifest = exported[fmt]
    files = {f["table"]: f for f in manifest["files"]}
    assert set(files) == set(TABLES), set(TABLES) ^ set(files)
    with psycopg.connect(db_url) as conn:
        for name, f in files.items():
            table = TABLES[name]
            year = YEAR if table.yearly else None
            assert f["year"] == year
            source = relation(conn, table, year)
            (stored,) = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(source)).fetchone()
            assert f["rows"] == stored, name
            path = folder / f["path"]
            data = _arrow_as_csv(path) if fmt == "parquet" else path.read_bytes()
            conn.execute(sql.SQL("CREATE TEMP TABLE back (LIKE {})").format(sql.Identifier(table.schema, table.name)))
            with conn.cursor().copy("COPY back FROM STDIN (FORMAT csv, HEADER)") as cp:
                cp.write(data)
            cols = sql.SQL(", ").join(sql.Identifier(c) for c in table.column_names)
            for a, b in ((sql.SQL("back"), source), (source, sql.SQL("back"))):
                (extra,) = conn.execute(sql.SQL("SELECT count(*) FROM (SELECT {c} FROM {a} EXCEPT ALL SELECT {c} FROM {b}) d")
                                        .format(c=cols, a=a, b=b)).fetchone()
                assert extra == 0, f"{name} ({fmt}): {extra} rows differ"
            conn.execute("DROP TABLE back")
            conn.rollback()
    assert sum(f["rows"] for f in files.values()) > 100_000


def test_pandas_pyarrow_and_duckdb_read_the_files(exported):
    import duckdb
    import pandas as pd
    import pyarrow.parquet as pq

    (pfolder, pman), (cfolder, cman) = exported["parquet"], exported["csv"]
    db = duckdb.connect()
    for p, c in zip(sorted(pman["files"], key=lambda f: f["table"]), sorted(cman["files"], key=lambda f: f["table"])):
        table = TABLES[p["table"]]
        frame = pd.read_parquet(pfolder / p["path"])
        assert list(frame.columns) == table.column_names and len(frame) == p["rows"]
        assert pq.read_schema(pfolder / p["path"]).names == table.column_names
        assert db.execute(f"SELECT count(*) FROM read_parquet('{pfolder / p['path']}')").fetchone()[0] == p["rows"]
        assert len(pd.read_csv(cfolder / c["path"])) == c["rows"]
        assert db.execute(f"SELECT count(*) FROM read_csv('{cfolder / c['path']}')").fetchone()[0] == c["rows"]
    readings = pd.read_parquet(pfolder / next(f["path"] for f in pman["files"]
                                              if f["table"] == "environmental.environmental_reading"))
    assert str(readings.reading_time.dtype).startswith("datetime64") and readings.value.dtype == "float32"


def test_the_dictionary_lists_every_column_once(exported):
    folder, _ = exported["parquet"]
    with open(folder / "dictionary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["table"], r["column"]) for r in rows] == [(t.qualified, c.name) for t in TABLES.values() for c in t.columns]
    assert {r["type"] for r in rows} <= {"int2", "int4", "int8", "float4", "float8", "bool", "date", "timestamptz", "text"}
    assert sum(bool(r["description"]) for r in rows) > len(rows) / 2  # described by the specs or the staging docs


def test_bad_choices_are_refused_before_anything_is_written(db_url, tmp_path, capsys, monkeypatch, exported):
    monkeypatch.setenv("AQUAMIND_DATABASE_URL", db_url)
    for args, says in ((["--tables", "nope"], "unknown table 'nope'"), (["--format", "xlsx"], "unknown format"),
                       (["--tables", "feeding_event", "--years", "2019"], "has none of the years 2019-2019 stored")):
        assert main(["export", "--out", str(tmp_path / "x"), *args]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and says in err[0], err
        assert not (tmp_path / "x").exists()
