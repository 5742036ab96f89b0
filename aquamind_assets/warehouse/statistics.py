"""Planner statistics of the year-partitioned tables as a whole.

Loads ANALYZE the partitions they write, but the planner sizes a join over a partitioned table
(what dbt's staging views read) from the parent's own statistics, which only an ANALYZE of the
parent builds; without them dbt's joins get estimates off by orders of magnitude and sort instead of
hash. An ANALYZE of a parent samples across all its partitions, so it is done once per dbt build,
only for the tables a model reads, two at a time (the sampling waits on reads as much as on a core).
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
from psycopg import sql


def partitioned_tables(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """(schema, table) of every partitioned warehouse table."""
    return conn.execute("""SELECT n.nspname, c.relname FROM pg_class c
                           JOIN pg_namespace n ON n.oid = c.relnamespace
                           WHERE c.relkind = 'p' AND n.nspname NOT IN ('pg_catalog', 'analytics')
                           ORDER BY 1, 2""").fetchall()


def analyze_tables(url: str, tables: list[tuple[str, str]], workers: int = 2) -> float:
    """ANALYZE each table, `workers` connections at once; returns the seconds taken."""
    t0 = time.perf_counter()

    def analyze(chunk: list[tuple[str, str]]) -> None:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            for schema, name in chunk:
                conn.execute(sql.SQL("ANALYZE {}.{}").format(sql.Identifier(schema), sql.Identifier(name)))

    chunks = [tables[i::workers] for i in range(workers)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(analyze, [c for c in chunks if c]))
    return time.perf_counter() - t0
