"""What is in the warehouse: one row per loaded (asset, year), read from meta.partition_load.

The CLI and the report use this to show what was loaded, from which scenario and code version,
and the checksum that lets two runs be compared without reading the data.
"""
from __future__ import annotations

from psycopg.rows import dict_row

from .ddl import relation_kind


def partition_status(conn, asset: str | None = None) -> list[dict]:
    """Rows of meta.partition_load ordered by asset and year ([] before create_warehouse).

    Each dict has asset, year (0 = static load), rows ({table: count}), total_rows, checksum,
    loaded_at, scenario_hash, code_version and duration_s.
    """
    if relation_kind(conn, "meta", "partition_load") is None:
        return []
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            """SELECT asset, year, rows, checksum, loaded_at, scenario_hash, code_version, duration_s
               FROM meta.partition_load WHERE %(asset)s::text IS NULL OR asset = %(asset)s
               ORDER BY asset, year""", {"asset": asset})
        out = cur.fetchall()
    for row in out:
        row["total_rows"] = sum(int(v) for v in row["rows"].values())
    return out


def scenario_status(conn) -> dict | None:
    """The singleton meta.scenario row (scenario_hash, scenario, written_at), or None."""
    if relation_kind(conn, "meta", "scenario") is None:
        return None
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("SELECT scenario_hash, scenario, written_at FROM meta.scenario").fetchone()
