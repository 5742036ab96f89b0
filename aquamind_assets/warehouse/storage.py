"""The warehouse's storage path: `native` (LIST partitions by year, the default) or `timescale`
(the readings a TimescaleDB hypertable with one chunk per year, compressed once written).

The path is chosen explicitly (AQUAMIND_STORAGE), never by what the server happens to offer, and
recorded in the warehouse when it is created (meta.warehouse): installing the extension on a
server does not switch existing warehouses, and a load under the other path is refused in one line.
"""
from __future__ import annotations

from psycopg.rows import tuple_row

STORAGE_VAR = "AQUAMIND_STORAGE"
NATIVE, TIMESCALE = "native", "timescale"
STORAGES = (NATIVE, TIMESCALE)

META_WAREHOUSE_DDL = """CREATE TABLE IF NOT EXISTS meta.warehouse (
    singleton bool PRIMARY KEY DEFAULT true CHECK (singleton),
    storage text NOT NULL CHECK (storage IN ('native', 'timescale')),
    created_at timestamptz NOT NULL DEFAULT now())"""


class StorageError(ValueError):
    """A storage path that is unknown, unavailable on the server, or not the warehouse's own;
    str() is one line naming the fix."""


def requested(value: str | None) -> str:
    """The storage path asked for (the value of AQUAMIND_STORAGE, read by runtime/settings.py;
    unset: native); an unknown value refused."""
    value = value or NATIVE
    if value not in STORAGES:
        raise StorageError(f"{STORAGE_VAR}={value!r} is not a storage path: use one of {', '.join(STORAGES)}")
    return value


def _one(conn, query: str, params=None):
    with conn.cursor(row_factory=tuple_row) as cur:
        return cur.execute(query, params).fetchone()


def timescale_available(conn) -> bool:
    """Whether the server can CREATE EXTENSION timescaledb."""
    return _one(conn, "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'") is not None


def recorded(conn) -> str | None:
    """The storage path the warehouse was created with (None: no warehouse, or one made before the
    path was recorded, which can only be native)."""
    if _one(conn, "SELECT to_regclass('meta.warehouse')")[0] is None:
        return None
    row = _one(conn, "SELECT storage FROM meta.warehouse")
    return None if row is None else str(row[0])


def require_available(conn, storage: str) -> None:
    if storage == TIMESCALE and not timescale_available(conn):
        raise StorageError(f"{STORAGE_VAR}=timescale, but this PostgreSQL server has no timescaledb extension: "
                           f"install TimescaleDB on it (DEVELOPERS.md) or set {STORAGE_VAR}=native")


def verify(conn, storage: str) -> None:
    """Refuse a load (or DDL) under a storage path other than the warehouse's own."""
    own = recorded(conn)
    if own is not None and own != storage:
        verify_against(own, storage)


def verify_against(own: str, storage: str) -> None:
    if own != storage:
        raise StorageError(f"this warehouse stores its data the {own} way and {STORAGE_VAR} asks for {storage}: "
                           f"set {STORAGE_VAR}={own}, or use a new database for {storage}")


def record(conn, storage: str) -> None:
    """Write the warehouse's storage path once, inside create_warehouse's transaction."""
    conn.execute(META_WAREHOUSE_DDL)
    conn.execute("INSERT INTO meta.warehouse (storage) VALUES (%s) ON CONFLICT (singleton) DO NOTHING", (storage,))
