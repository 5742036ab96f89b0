"""DDL on the native path: partitions, keys on static tables only, BRIN, year indexes, idempotence."""
from __future__ import annotations

from aquamind_assets.warehouse import ddl, storage
from aquamind_assets.warehouse.tables import DAILY_STATE, HALL

YEARS = range(2015, 2025)


def _scalar(conn, q, p=None):
    return conn.execute(q, p).fetchone()[0]


def _constraints(conn, schema, name):
    rows = conn.execute("""SELECT c.contype, c.conname FROM pg_constraint c
                           JOIN pg_class r ON r.oid = c.conrelid
                           JOIN pg_namespace n ON n.oid = r.relnamespace
                           WHERE n.nspname = %s AND r.relname = %s""", (schema, name)).fetchall()
    return [r[0] for r in rows]


def test_create_warehouse_native(conn):
    ddl.create_warehouse(conn, years=YEARS, storage="native")
    ddl.create_warehouse(conn, years=YEARS, storage="native")  # idempotent
    assert storage.recorded(conn) == "native"
    tables = ddl.all_tables()
    assert any(t.yearly for t in tables) and any(not t.yearly for t in tables)
    for schema in (*ddl.DOMAIN_SCHEMAS, "meta"):
        assert _scalar(conn, "SELECT count(*) FROM pg_namespace WHERE nspname = %s", (schema,)) == 1
    for t in tables:
        kinds = _constraints(conn, t.schema, t.name)
        if t.yearly:
            assert ddl.relation_kind(conn, t.schema, t.name) == "p"
            parts = conn.execute("""SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                                    WHERE i.inhparent = %s::regclass ORDER BY 1""",
                                 (t.qualified,)).fetchall()
            assert [p[0] for p in parts] == [t.partition_name(y) for y in YEARS]
            assert "f" not in kinds and "p" not in kinds and "u" not in kinds, t.qualified
            for y in YEARS:
                assert "f" not in _constraints(conn, t.schema, t.partition_name(y))
        else:
            assert ddl.relation_kind(conn, t.schema, t.name) == "r"
            assert kinds.count("p") == (1 if t.primary_key else 0), t.qualified
            assert kinds.count("u") == len(t.unique), t.qualified
            assert kinds.count("f") == len(t.foreign_keys), t.qualified
    # the cross-schema FK infrastructure.hall -> batch.lifecycle_stage exists
    assert _scalar(conn, """SELECT count(*) FROM pg_constraint WHERE contype = 'f'
                            AND conrelid = %s::regclass AND confrelid = 'batch.lifecycle_stage'::regclass""",
                   (HALL.qualified,)) == 1
    # BRIN on the time column of every partition (not the parent); no btree on yearly tables
    brin = """SELECT count(*) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
              JOIN pg_am a ON a.oid = i.relam WHERE x.indrelid = %s::regclass AND a.amname = %s"""
    assert _scalar(conn, brin, (DAILY_STATE.qualified, "brin")) == 0
    for y in YEARS:
        assert _scalar(conn, brin, (f"batch.{DAILY_STATE.partition_name(y)}", "brin")) == 1
    assert _scalar(conn, """SELECT count(*) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                            JOIN pg_am a ON a.oid = i.relam JOIN pg_class r ON r.oid = x.indrelid
                            JOIN pg_namespace n ON n.oid = r.relnamespace
                            WHERE a.amname = 'btree' AND n.nspname <> 'meta'
                            AND r.relname LIKE '%%\\_y20__'""") == 0
    for name in ("partition_load", "scenario"):
        assert ddl.relation_kind(conn, "meta", name) == "r"


def test_year_indexes_and_drop(conn):
    ddl.create_warehouse(conn, years=YEARS, storage="native")
    from aquamind_assets.warehouse.tables import ASSIGNMENT
    names = ddl.create_year_indexes(conn, ASSIGNMENT, 2017)
    assert len(names) == len(ASSIGNMENT.indexes) == 2
    part = f"batch.{ASSIGNMENT.partition_name(2017)}"
    assert _scalar(conn, "SELECT count(*) FROM pg_index WHERE indrelid = %s::regclass", (part,)) == 2
    assert _scalar(conn, "SELECT count(*) FROM pg_index WHERE indrelid = %s::regclass",
                   (f"batch.{ASSIGNMENT.partition_name(2018)}",)) == 0
    ddl.create_year_indexes(conn, ASSIGNMENT, 2017)  # idempotent
    ddl.drop_year_indexes(conn, ASSIGNMENT, 2017)
    assert _scalar(conn, "SELECT count(*) FROM pg_index WHERE indrelid = %s::regclass", (part,)) == 0
    ddl.drop_warehouse(conn)
    assert _scalar(conn, "SELECT count(*) FROM pg_namespace WHERE nspname = ANY(%s)",
                   (list(ddl.DOMAIN_SCHEMAS) + ["meta"],)) == 0


def test_pg_name_is_short_and_stable():
    long = ddl.pg_name("x" * 40, "y" * 40, "idx")
    assert len(long) <= 63 and long == ddl.pg_name("x" * 40, "y" * 40, "idx")
    assert long != ddl.pg_name("x" * 40, "y" * 39 + "z", "idx")
    assert ddl.pg_name("a", "b") == "a_b"
