"""The hypertable path (storage `timescale`): a table declared hypertable=True is a TimescaleDB
hypertable on its time column with exactly one chunk per year, named like the native path's year
partition (`<table>_y<year>`), so rules, tests and tools address a year the same way on both paths.

A year is replaced inside its load's transaction as on the native path, without DELETE:
the year's chunk is dropped (compressed or not), an empty table of the same name is created and
COPYed with FREEZE (it is new in this transaction), its indexes are built after the COPY, and it is
attached as the chunk covering exactly [1 January, next 1 January) UTC, so no chunk straddles a
year and no dead rows are left. Compression (columnar, segmented by sensor) runs after the
commit, in a transaction of its own: a crash between the two leaves the year complete and
uncompressed, and `compress_year` may be run again at any time.
"""
from __future__ import annotations

import datetime as dt
import json

from psycopg import sql
from psycopg.rows import tuple_row

from .schema import Table

SEGMENT_BY = {"environmental.environmental_reading": "sensor_id"}


def _ident(table: Table) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(table.schema), sql.Identifier(table.name))


def year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    return (dt.datetime(year, 1, 1, tzinfo=dt.timezone.utc), dt.datetime(year + 1, 1, 1, tzinfo=dt.timezone.utc))


def is_hypertable(conn, table: Table) -> bool:
    if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'").fetchone() is None:
        return False
    return conn.execute("""SELECT 1 FROM timescaledb_information.hypertables
                           WHERE hypertable_schema = %s AND hypertable_name = %s""",
                        (table.schema, table.name)).fetchone() is not None


def create(conn, table: Table, columns_sql: sql.Composable) -> None:
    """The hypertable, without default indexes (each year's chunk gets its own after its COPY) and
    with compression configured; idempotent."""
    conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
    conn.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(_ident(table), columns_sql))
    conn.execute("""SELECT create_hypertable(%s::regclass, by_range(%s::name, interval '366 days'),
                                             create_default_indexes => false, if_not_exists => true)""",
                 (_ident(table).as_string(conn), table.time_column))
    segment = SEGMENT_BY.get(table.qualified)
    conn.execute(sql.SQL("ALTER TABLE {} SET (timescaledb.compress, timescaledb.compress_orderby = {}{})").format(
        _ident(table), sql.Literal(table.time_column),
        sql.SQL(", timescaledb.compress_segmentby = {}").format(sql.Literal(segment)) if segment else sql.SQL("")))


def year_chunk(cur, table: Table, year: int) -> tuple[str, str] | None:
    """(schema, name) of the chunk holding `year`, if one exists."""
    lo, hi = year_bounds(year)
    row = cur.execute("""SELECT chunk_schema, chunk_name FROM timescaledb_information.chunks
                         WHERE hypertable_schema = %s AND hypertable_name = %s
                           AND range_start < %s AND range_end > %s""",
                      (table.schema, table.name, hi, lo)).fetchone()
    return None if row is None else (str(row[0]), str(row[1]))


def compressed_companion(cur, schema: str, chunk: str) -> tuple[str, str] | None:
    """The internal table holding a compressed chunk's data (locked with the chunk)."""
    row = cur.execute("""SELECT cc.schema_name, cc.table_name FROM _timescaledb_catalog.chunk c
                         JOIN _timescaledb_catalog.chunk cc ON cc.id = c.compressed_chunk_id
                         WHERE c.schema_name = %s AND c.table_name = %s""", (schema, chunk)).fetchone()
    return None if row is None else (str(row[0]), str(row[1]))


def replace_year(cur, table: Table, year: int) -> str:
    """Drop the year's chunk and create the empty table that becomes it; returns its name."""
    lo, hi = year_bounds(year)
    cur.execute("SELECT drop_chunks(%s::regclass, older_than => %s, newer_than => %s)",
                (_ident(table).as_string(cur), hi, lo))
    part = table.partition_name(year)
    # CHECK (year = ...): what lets the planner skip the other years' chunks on a `year =` filter,
    # as partition pruning does on the native path (the chunks' own ranges are on the time column)
    cur.execute(sql.SQL("CREATE TABLE {}.{} (LIKE {} INCLUDING DEFAULTS, CHECK (year = {}))").format(
        sql.Identifier(table.schema), sql.Identifier(part), _ident(table), sql.Literal(int(year))))
    return part


def attach_year(cur, table: Table, year: int) -> None:
    """Make the loaded year table the hypertable's chunk for exactly that year."""
    slices = json.dumps({table.time_column: [t.isoformat() for t in year_bounds(year)]})
    cur.execute("CALL attach_chunk(%s::regclass, %s::regclass, %s::jsonb)",
                (_ident(table).as_string(cur), sql.Identifier(table.schema, table.partition_name(year)).as_string(cur),
                 slices))


def compress_year(conn, table: Table, year: int) -> dict:
    """Compress the year's chunk (after its load committed); returns bytes before and after."""
    with conn.cursor(row_factory=tuple_row) as cur:
        chunk = year_chunk(cur, table, year)
        if chunk is None:
            return {}
        name = sql.Identifier(*chunk).as_string(cur)
        cur.execute("SELECT compress_chunk(%s::regclass, if_not_compressed => true)", (name,))
        before, after = cur.execute("""SELECT before_compression_total_bytes, after_compression_total_bytes
                                       FROM chunk_compression_stats(%s::regclass)
                                       WHERE chunk_schema = %s AND chunk_name = %s""",
                                    (_ident(table).as_string(cur), *chunk)).fetchone()
    return {"bytes_before": int(before), "bytes_after": int(after), "ratio": round(before / max(after, 1), 2)}
