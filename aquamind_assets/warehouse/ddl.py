"""Warehouse DDL derived from the table specs: schemas, tables, year partitions, indexes, meta.

Static tables get their keys (integrity is cheap there and dbt relies on it). Yearly tables are
`PARTITION BY LIST (year)` parents with one `<table>_y<year>` partition per year and no keys, so
a year can be truncated and bulk-loaded on its own. Indexes live on the partitions, not on the
parent: the BRIN on the time column and the btree `indexes` are dropped before a year's COPY and
built after it (measured: keeping even the BRIN during COPY halves the load rate). Everything is
idempotent and every identifier is composed with psycopg.sql.Identifier.
"""
from __future__ import annotations

import hashlib
import re

from psycopg import sql
from psycopg.rows import tuple_row

from ..config.years import YEARS
from . import locks, tables as _tables
from .schema import PG_TYPES, Table

DOMAIN_SCHEMAS = ("infrastructure", "batch", "inventory", "health", "environmental", "harvest")
META_SCHEMA = "meta"
_DDL_LOCK = "aquamind:ddl"
_FK_TARGET = re.compile(r"^(\w+)\.(\w+)\((\w+)\)$")

META_DDL = (
    """CREATE TABLE IF NOT EXISTS meta.partition_load (
        asset text NOT NULL, year int NOT NULL, scenario_hash text NOT NULL,
        code_version text NOT NULL, rows jsonb NOT NULL, checksum text NOT NULL,
        loaded_at timestamptz NOT NULL DEFAULT now(), duration_s float8,
        PRIMARY KEY (asset, year))""",
    "ALTER TABLE meta.partition_load ADD COLUMN IF NOT EXISTS phases jsonb",
    """CREATE TABLE IF NOT EXISTS meta.rule_evaluation (
        rule text NOT NULL, asset text NOT NULL, year int NOT NULL,
        source text NOT NULL CHECK (source IN ('load', 'audit')),
        examined bigint NOT NULL, violations bigint NOT NULL, passed bool NOT NULL,
        committed bool NOT NULL, sample jsonb NOT NULL DEFAULT '[]', description text,
        evaluated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (rule, asset, year, source, committed))""",
    "ALTER TABLE meta.rule_evaluation ADD COLUMN IF NOT EXISTS seconds float8",
    # a failed load's results sit beside the stored year's, not over them (older warehouses keyed without it)
    """DO $$ BEGIN
         IF (SELECT array_length(conkey, 1) FROM pg_constraint
             WHERE conrelid = 'meta.rule_evaluation'::regclass AND contype = 'p') = 4 THEN
           ALTER TABLE meta.rule_evaluation DROP CONSTRAINT rule_evaluation_pkey,
             ADD PRIMARY KEY (rule, asset, year, source, committed);
         END IF; END $$""",
    """CREATE TABLE IF NOT EXISTS meta.rule (
        rule text PRIMARY KEY, asset text NOT NULL, scope text NOT NULL CHECK (scope IN ('year', 'static', 'all')),
        description text NOT NULL, sections text NOT NULL, forms text NOT NULL, min_examined int NOT NULL,
        reads text NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS meta.scenario (
        singleton bool PRIMARY KEY DEFAULT true CHECK (singleton),
        scenario_hash text NOT NULL, scenario jsonb,
        written_at timestamptz NOT NULL DEFAULT now())""",
)


def all_tables() -> list[Table]:
    """Every Table declared in tables.py, in declaration order."""
    seen: dict[str, Table] = {}
    for value in vars(_tables).values():
        if isinstance(value, Table):
            seen.setdefault(value.qualified, value)
    return list(seen.values())


def pg_name(*parts: str) -> str:
    """Join parts with '_' into a PostgreSQL name; over 63 bytes, shorten with a stable hash."""
    name = "_".join(parts)
    if len(name.encode()) <= 63:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return name.encode()[:54].decode(errors="ignore") + "_" + digest


def _one(conn, query, params=None):
    """First row as a tuple, whatever row factory the connection uses."""
    with conn.cursor(row_factory=tuple_row) as cur:
        return cur.execute(query, params).fetchone()


def has_timescale(conn) -> bool:
    """Whether the server can CREATE EXTENSION timescaledb."""
    return _one(conn, "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'") is not None


def relation_kind(conn, schema: str, name: str) -> str | None:
    """pg_class.relkind of schema.name ('r' table, 'p' partitioned, ...) or None if absent."""
    row = _one(conn, """SELECT c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                        WHERE n.nspname = %s AND c.relname = %s""", (schema, name))
    return None if row is None else str(row[0])


def _columns_sql(table: Table) -> sql.Composable:
    parts = []
    for c in table.columns:
        if c.pgtype not in PG_TYPES:  # types come from a closed set, never from input
            raise ValueError(f"unknown type {c.pgtype}")
        parts.append(sql.SQL("{} {}{}").format(sql.Identifier(c.name), sql.SQL(c.pgtype),
                                               sql.SQL("" if c.nullable else " NOT NULL")))
    return sql.SQL(", ").join(parts)


def _cols(names) -> sql.Composable:
    return sql.SQL(", ").join(map(sql.Identifier, names))


def _create_static(conn, table: Table) -> None:
    body = [_columns_sql(table)]
    if table.primary_key:
        body.append(sql.SQL("PRIMARY KEY ({})").format(_cols(table.primary_key)))
    body += [sql.SQL("UNIQUE ({})").format(_cols(u)) for u in table.unique]
    conn.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {}.{} ({})").format(
        sql.Identifier(table.schema), sql.Identifier(table.name), sql.SQL(", ").join(body)))


def _add_foreign_keys(conn, table: Table) -> None:
    """FKs are DEFERRABLE so a static load may write referencing tables before referenced ones."""
    for column, target in table.foreign_keys:
        m = _FK_TARGET.match(target)
        if not m:
            raise ValueError(f"{table.qualified}: bad foreign key target {target!r}")
        name = pg_name(table.name, column, "fkey")
        exists = _one(conn, """SELECT 1 FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid
                               JOIN pg_namespace n ON n.oid = r.relnamespace
                               WHERE n.nspname = %s AND r.relname = %s AND c.conname = %s""",
                      (table.schema, table.name, name))
        if exists:
            continue
        conn.execute(sql.SQL(
            "ALTER TABLE {}.{} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {}.{} ({}) "
            "DEFERRABLE INITIALLY IMMEDIATE").format(
            sql.Identifier(table.schema), sql.Identifier(table.name), sql.Identifier(name),
            sql.Identifier(column), sql.Identifier(m[1]), sql.Identifier(m[2]), sql.Identifier(m[3])))


def _create_yearly(conn, table: Table, years, timescale: bool) -> None:
    ident = sql.SQL("{}.{}").format(sql.Identifier(table.schema), sql.Identifier(table.name))
    if timescale and table.hypertable and table.time_column:
        # A hypertable replaces the year partitions; YearLoad then deletes/copies by year.
        conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        conn.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(ident, _columns_sql(table)))
        conn.execute("SELECT create_hypertable(%s::regclass, %s::name, if_not_exists => true)",
                     (ident.as_string(conn), table.time_column))
        for cols in table.indexes:  # Timescale keeps them per chunk
            conn.execute(sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({})").format(
                sql.Identifier(pg_name(table.name, *cols, "idx")), ident, _cols(cols)))
        return
    conn.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} ({}) PARTITION BY LIST (year)").format(
        ident, _columns_sql(table)))
    for year in years:
        conn.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {}.{} PARTITION OF {} FOR VALUES IN ({})")
                     .format(sql.Identifier(table.schema), sql.Identifier(table.partition_name(year)),
                             ident, sql.Literal(int(year))))
    for year in years:  # an empty partition's indexes cost nothing; loads drop and rebuild them
        create_year_indexes(conn, table, year, btree=False)


def create_warehouse(conn, years=YEARS, tables: list[Table] | None = None, *,
                     timescale: bool | None = None) -> None:
    """Create (or complete) schemas, tables, partitions, BRIN indexes and meta; idempotent.

    `tables` defaults to every table in tables.py; `timescale` defaults to has_timescale(conn)
    and only affects tables declared with hypertable=True.
    """
    tables = all_tables() if tables is None else list(tables)
    use_ts = has_timescale(conn) if timescale is None else timescale
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s), 0)", (_DDL_LOCK,))
        _lock_existing(conn, tables)
        schemas = dict.fromkeys([*DOMAIN_SCHEMAS, META_SCHEMA, *(t.schema for t in tables)])
        for schema in schemas:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        for statement in META_DDL:
            conn.execute(statement)
        for table in tables:  # all tables first, then the foreign keys between them
            if table.yearly:
                _create_yearly(conn, table, years, use_ts)
            else:
                _create_static(conn, table)
        for table in tables:
            if not table.yearly:
                _add_foreign_keys(conn, table)


def _lock_existing(conn, tables: list[Table]) -> None:
    """ACCESS EXCLUSIVE on every existing table and partition, in the loads' global order (locks.py),
    before any DDL: the index and partition statements below would otherwise lock tables one by one
    in declaration order, and could close a cycle with a load holding some of them."""
    plan = locks.LockPlan()
    with conn.cursor(row_factory=tuple_row) as cur:
        for tree in locks.partitions(cur, [t.qualified for t in tables]).values():
            for schema, name in tree:
                plan.need(schema, name, locks.ACCESS_EXCLUSIVE)
        locks.acquire(cur, plan)


def warehouse_complete(conn, years=YEARS, tables: list[Table] | None = None) -> bool:
    """Every table and year partition already exists (a catalog read: takes no lock)."""
    tables = all_tables() if tables is None else list(tables)
    want = {(t.schema, t.name) for t in tables} | {(t.schema, t.partition_name(y)) for t in tables
                                                    if t.yearly for y in years}
    want |= {("meta", "partition_load"), ("meta", "rule_evaluation"), ("meta", "rule")}
    rows = conn.execute("""SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                           WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY(%s)""",
                        (sorted({s for s, _ in want}),)).fetchall()
    return want <= set(rows)


def ensure_warehouse(conn, years=YEARS) -> None:
    """create_warehouse only when something is missing: every load calls this, and the DDL's index
    statements would otherwise queue behind any running load's partition lock and serialize them all."""
    if not warehouse_complete(conn, years):
        create_warehouse(conn, years)


def drop_warehouse(conn, tables: list[Table] | None = None) -> None:
    """Drop every warehouse schema (domains, meta and those of `tables`) with everything in it."""
    tables = all_tables() if tables is None else list(tables)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s), 0)", (_DDL_LOCK,))
        for schema in dict.fromkeys([*DOMAIN_SCHEMAS, META_SCHEMA, *(t.schema for t in tables)]):
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def year_index_names(table: Table, year: int) -> list[tuple[str, str, tuple[str, ...]]]:
    """(index name, method, columns) of the indexes a loaded year partition carries: BRIN on
    the time column, then the btree `indexes`."""
    part = table.partition_name(year)
    out = [(pg_name(part, table.time_column, "brin"), "brin", (table.time_column,))] \
        if table.time_column else []
    return out + [(pg_name(part, *cols, "idx"), "btree", tuple(cols)) for cols in table.indexes]


def create_year_indexes(conn, table: Table, year: int, *, btree: bool = True) -> list[str]:
    """Build a year partition's indexes (after its load: bulk-building beats per-row upkeep,
    which halves COPY throughput even for BRIN). btree=False builds only the BRIN."""
    names = []
    for name, method, cols in year_index_names(table, year):
        if method == "btree" and not btree:
            continue
        conn.execute(sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {}.{} USING {} ({})").format(
            sql.Identifier(name), sql.Identifier(table.schema),
            sql.Identifier(table.partition_name(year)), sql.SQL(method), _cols(cols)))
        names.append(name)
    return names


def drop_year_indexes(conn, table: Table, year: int) -> None:
    """Drop a partition's indexes so a reload does not maintain them row by row."""
    for name, _, _ in year_index_names(table, year):
        conn.execute(sql.SQL("DROP INDEX IF EXISTS {}.{}").format(
            sql.Identifier(table.schema), sql.Identifier(name)))
