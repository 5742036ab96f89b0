"""Stored rows out of the warehouse as files, one table-year at a time and streamed, so memory stays
flat whatever the year's size: CSV straight from the server's COPY, Parquet from a server-side
cursor in batches of rows (pyarrow). Each file gets one entry in the export's manifest.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from psycopg import sql

from .schema import Table

FORMATS = ("parquet", "csv")
BATCH_ROWS = 200_000


def _arrow_type(pgtype: str):
    import pyarrow as pa

    return {"int2": pa.int16(), "int4": pa.int32(), "int8": pa.int64(), "float4": pa.float32(),
            "float8": pa.float64(), "bool": pa.bool_(), "date": pa.date32(),
            "timestamptz": pa.timestamp("us", tz="UTC"), "text": pa.string()}[pgtype]


def arrow_schema(table: Table):
    import pyarrow as pa

    return pa.schema([pa.field(c.name, _arrow_type(c.pgtype), nullable=c.nullable,
                               metadata={"description": c.description} if c.description else None)
                      for c in table.columns])


@dataclass
class Unloaded:
    table: str
    year: int | None
    path: str  # relative to the export folder
    rows: int
    bytes: int
    sha256: str


def relation(conn, table: Table, year: int | None) -> sql.Composable:
    """The year's rows of a table: its partition on the native path, a filter on a hypertable."""
    if year is None:
        return sql.Identifier(table.schema, table.name)
    part = conn.execute("SELECT to_regclass(%s)", [f"{table.schema}.{table.partition_name(year)}"]).fetchone()[0]
    if part is not None:
        return sql.Identifier(table.schema, table.partition_name(year))
    return sql.SQL("(SELECT * FROM {} WHERE year = {}) AS y").format(sql.Identifier(table.schema, table.name),
                                                                     sql.Literal(year))


def file_path(table: Table, year: int | None, fmt: str) -> Path:
    stem = table.name if year is None else f"{table.name}_{year}"
    return Path(table.schema) / table.name / f"{stem}.{fmt}"


def _select(conn, table: Table, year: int | None, spelled: bool = False) -> sql.Composed:
    """The table's columns in order; `spelled` writes booleans as true/false (CSV readers' words)."""
    cols = sql.SQL(", ").join(
        sql.SQL("{}::text AS {}").format(sql.Identifier(c.name), sql.Identifier(c.name))
        if spelled and c.pgtype == "bool" else sql.Identifier(c.name) for c in table.columns)
    return sql.SQL("SELECT {} FROM {}").format(cols, relation(conn, table, year))


def _csv(conn, table: Table, year: int | None, dest: Path) -> int:
    q = sql.SQL("COPY ({}) TO STDOUT (FORMAT csv, HEADER)").format(_select(conn, table, year, spelled=True))
    with open(dest, "wb") as f, conn.cursor() as cur:
        with cur.copy(q) as copy:
            for block in copy:
                f.write(block)
        return cur.rowcount


def _parquet(conn, table: Table, year: int | None, dest: Path) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = arrow_schema(table)
    rows = 0
    with conn.transaction(), conn.cursor(name=f"unload_{table.name}", binary=True) as cur, \
            pq.ParquetWriter(dest, schema, compression="zstd") as writer:
        cur.itersize = BATCH_ROWS
        cur.execute(_select(conn, table, year))
        while batch := cur.fetchmany(BATCH_ROWS):
            columns = list(zip(*batch))
            writer.write_batch(pa.record_batch([pa.array(col, type=f.type) for col, f in zip(columns, schema)],
                                               schema=schema))
            rows += len(batch)
            del batch, columns
    return rows


def unload(conn, table: Table, year: int | None, fmt: str, out_dir: Path) -> Unloaded:
    """Write one table (one year of a yearly table) as a file under out_dir; returns its entry."""
    rel = file_path(table, year, fmt)
    dest = out_dir / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")  # a crash leaves no file that looks complete
    rows = (_parquet if fmt == "parquet" else _csv)(conn, table, year, tmp)
    sha = hashlib.sha256()
    with open(tmp, "rb") as f:
        while chunk := f.read(1 << 20):
            sha.update(chunk)
    tmp.replace(dest)
    return Unloaded(table.qualified, year, rel.as_posix(), rows, dest.stat().st_size, sha.hexdigest())
