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
from . import locks, storage as storage_path, tables as _tables, timescale
from .schema import PG_TYPES, Table
from .storage import NATIVE, TIMESCALE

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


def _create_yearly(conn, table: Table, years, storage: str) -> None:
    if storage == TIMESCALE and table.hypertable and table.time_column:
        timescale.create(conn, table, _columns_sql(table))  # its year chunks come with the loads
        return
    ident = sql.SQL("{}.{}").format(sql.Identifier(table.schema), sql.Identifier(table.name))
    conn.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} ({}) PARTITION BY LIST (year)").format(
        ident, _columns_sql(table)))
    for year in years:
        conn.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {}.{} PARTITION OF {} FOR VALUES IN ({})")
                     .format(sql.Identifier(table.schema), sql.Identifier(table.partition_name(year)),
                             ident, sql.Literal(int(year))))
    for year in years:  # an empty partition's indexes cost nothing; loads drop and rebuild them
        create_year_indexes(conn, table, year, btree=False)


def existing_storage(conn, tables: list[Table]) -> str | None:
    """The storage path a warehouse already has: recorded, or (made before it was recorded) read off
    its hypertable-capable tables: a partitioned parent is native, a plain table a hypertable."""
    own = storage_path.recorded(conn)
    if own is not None:
        return own
    kinds = {relation_kind(conn, t.schema, t.name) for t in tables if t.yearly and t.hypertable}
    return NATIVE if "p" in kinds else TIMESCALE if "r" in kinds else None


def create_warehouse(conn, years=YEARS, tables: list[Table] | None = None, *, storage: str | None = None) -> None:
    """Create (or complete) schemas, tables, partitions, BRIN indexes and meta; idempotent.

    `tables` defaults to every table in tables.py; `storage` (storage.py, default native) only
    affects tables declared with hypertable=True. A warehouse keeps the
    storage path it was created with: another one is refused in one line, before any DDL.
    """
    tables = all_tables() if tables is None else list(tables)
    storage = storage_path.requested(storage)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s), 0)", (_DDL_LOCK,))
        own = existing_storage(conn, tables)
        if own is not None and own != storage:
            storage_path.verify_against(own, storage)
        storage_path.require_available(conn, storage)
        _lock_existing(conn, tables)
        schemas = dict.fromkeys([*DOMAIN_SCHEMAS, META_SCHEMA, *(t.schema for t in tables)])
        for schema in schemas:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        for statement in META_DDL:
            conn.execute(statement)
        storage_path.record(conn, storage)
        for table in tables:  # all tables first, then the foreign keys between them
            if table.yearly:
                _create_yearly(conn, table, years, storage)
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


def warehouse_complete(conn, years=YEARS, tables: list[Table] | None = None, storage: str = NATIVE) -> bool:
    """Every table and year partition already exists (a catalog read: takes no lock). On the
    timescale path a hypertable's year chunks come with its loads, so only the table is expected."""
    tables = all_tables() if tables is None else list(tables)
    hyper = {t.qualified for t in tables if storage == TIMESCALE and t.hypertable and t.time_column}
    want = {(t.schema, t.name) for t in tables} | {(t.schema, t.partition_name(y)) for t in tables
                                                    if t.yearly and t.qualified not in hyper for y in years}
    want |= {("meta", "partition_load"), ("meta", "rule_evaluation"), ("meta", "rule"), ("meta", "warehouse")}
    rows = conn.execute("""SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                           WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY(%s)""",
                        (sorted({s for s, _ in want}),)).fetchall()
    return want <= set(rows)


def ensure_warehouse(conn, years=YEARS, storage: str | None = None) -> str:
    """create_warehouse only when something is missing: every load calls this, and the DDL's index
    statements would otherwise queue behind any running load's partition lock and serialize them all.
    Returns the storage path, refusing one the warehouse does not have."""
    storage = storage_path.requested(storage)
    if not warehouse_complete(conn, years, storage=storage):
        create_warehouse(conn, years, storage=storage)
    storage_path.verify(conn, storage)
    return storage


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
