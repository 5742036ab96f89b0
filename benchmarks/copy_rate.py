"""How close the project's writer gets to raw binary COPY on the same row count.

Raw: the reference recipe (docs/binary-copy.md), a 3-column
readings load (time, sensor_id, value) into an unindexed scratch table, one reused buffer; and,
for scale, the same recipe on the writer's 7-column row.
Writer: YearLoad.write_stream into a year partition shaped like environmental.environmental_reading
(7 columns, BRIN on reading_time), including TRUNCATE, COPY FREEZE, checksum, ANALYZE, meta
and commit. Both run in a scratch database created and dropped here.

    python benchmarks/copy_rate.py [DATABASE_URL] [--rows 10000000]

DATABASE_URL defaults to env AQUAMIND_DATABASE_URL (a database to connect to in order to
create the scratch one). Runs are interleaved --repeat times (default 3) and medians reported.
Prints the rates and ratios and writes JSON to benchmarks/results/.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import secrets
import sys
import time
from pathlib import Path

import numpy as np
import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from aquamind_assets.warehouse import ddl  # noqa: E402
from aquamind_assets.warehouse.copy import HEADER, PG_EPOCH_US, TRAILER  # noqa: E402
from aquamind_assets.warehouse.load import YearLoad  # noqa: E402
from aquamind_assets.warehouse.schema import C, Frame, yearly  # noqa: E402

YEAR = 2023
READING = yearly("environmental", "environmental_reading",
                 C("reading_time", "timestamptz"), C("sensor_id", "int4"), C("container_id", "int4"),
                 C("assignment_id", "int4"), C("parameter_id", "int4"), C("value", "float4"),
                 time_column="reading_time")
RESULTS = Path(__file__).resolve().parent / "results"


def make_data(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    start = int((np.datetime64(f"{YEAR}-01-01", "us") - np.datetime64(0, "us")).astype(np.int64))
    sensor = rng.integers(1, 37_531, n).astype(np.int32)
    return {"year": np.full(n, YEAR, np.int16),
            "reading_time": start + np.sort(rng.integers(0, 365 * 86_400_000_000, n)),
            "sensor_id": sensor, "container_id": (sensor // 9).astype(np.int32),
            "assignment_id": rng.integers(1, 200_000, n).astype(np.int32),
            "parameter_id": (sensor % 9 + 1).astype(np.int32),
            "value": rng.normal(9, 2, n).astype(np.float32)}


RAW3 = [("time", "timestamptz", ">i8", "reading_time"), ("sensor_id", "int4", ">i4", "sensor_id"),
        ("value", "float4", ">f4", "value")]
RAW7 = [("year", "int2", ">i2", "year"), ("reading_time", "timestamptz", ">i8", "reading_time"),
        *[(c, "int4", ">i4", c) for c in ("sensor_id", "container_id", "assignment_id", "parameter_id")],
        ("value", "float4", ">f4", "value")]


def _checkpoint(conn) -> None:
    """Start each measurement with the WAL settled (skipped without the privilege)."""
    try:
        conn.execute("CHECKPOINT")
    except psycopg.Error:
        pass


def raw_copy(url: str, data: dict, columns=RAW3, chunk: int = 100_000, table: str = "r",
             keep: bool = False, checkpoint: bool = True) -> dict:
    """The recipe: a reused packed big-endian buffer, header, memoryview chunks, trailer, into
    a fresh unindexed table. `keep` leaves the table (and its not yet written-back pages) in
    place, as a year of readings stays; dropping it lets the kernel discard them unwritten."""
    n = len(data["sensor_id"])
    fields = [("nfields", ">i2")]
    for name, _, wire, _ in columns:
        fields += [(f"len_{name}", ">i4"), (name, wire)]
    dtype = np.dtype(fields)
    buf = np.empty(chunk, dtype)
    buf["nfields"] = len(columns)
    for name, _, wire, _ in columns:
        buf[f"len_{name}"] = np.dtype(wire).itemsize
    ddl_cols = ", ".join(f"{name} {pgtype}" for name, pgtype, _, _ in columns)
    names = ", ".join(name for name, _, _, _ in columns)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
        conn.execute(f"CREATE TABLE {table} ({ddl_cols})")
        if checkpoint:
            _checkpoint(conn)
        t0 = time.perf_counter()
        with conn.transaction(), conn.cursor() as cur, cur.copy(
                f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as cp:
            cp.write(HEADER)
            for i in range(0, n, chunk):
                m = min(chunk, n - i)
                b = buf[:m]
                for name, pgtype, _, src in columns:
                    v = data[src][i:i + m]
                    b[name] = v - PG_EPOCH_US if pgtype == "timestamptz" else v
                cp.write(memoryview(b.view(np.uint8)))
            cp.write(TRAILER)
        seconds = time.perf_counter() - t0
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == n
        size = conn.execute("SELECT pg_total_relation_size(%s::regclass)", (table,)).fetchone()[0]
        if not keep:
            conn.execute(f"DROP TABLE {table}")
    return {"rows": n, "seconds": seconds, "rows_per_s": n / seconds,
            "payload_bytes": n * dtype.itemsize + len(HEADER) + len(TRAILER),
            "bytes_per_row": dtype.itemsize, "mb_per_s": n * dtype.itemsize / seconds / 1e6,
            "table_bytes": size}


def writer_copy(url: str, data: dict, frame_rows: int = 1_000_000) -> dict:
    """YearLoad.write_stream of 1M-row frames (views of the arrays) into the year partition."""
    n = len(data["sensor_id"])
    with psycopg.connect(url, autocommit=True) as conn:
        ddl.create_warehouse(conn, years=(YEAR,), tables=[READING], storage="native")
        _checkpoint(conn)
        frames = (Frame(READING, {k: v[i:i + frame_rows] for k, v in data.items()})
                  for i in range(0, n, frame_rows))
        t0 = time.perf_counter()
        with YearLoad(conn, asset="environmental_readings", year=YEAR, tables=[READING],
                      scenario_hash="bench", code_version="bench") as load:
            load.write_stream(frames)
        seconds = time.perf_counter() - t0
        r = load.result
        part = f"environmental.{READING.partition_name(YEAR)}"
        assert conn.execute(sql.SQL("SELECT count(*) FROM {}").format(
            sql.Identifier("environmental", READING.partition_name(YEAR)))).fetchone()[0] == n
        size = conn.execute("SELECT pg_total_relation_size(%s::regclass)", (part,)).fetchone()[0]
        allvis = conn.execute("SELECT relpages, relallvisible FROM pg_class WHERE oid = %s::regclass",
                              (part,)).fetchone()
    return {"rows": n, "seconds": seconds, "rows_per_s": n / seconds, "payload_bytes": r.nbytes,
            "bytes_per_row": r.nbytes / n, "mb_per_s": r.nbytes / seconds / 1e6,
            "table_bytes": size, "relpages": allvis[0], "relallvisible": allvis[1],
            "checksum": r.checksum, "load_duration_s": r.duration_s, "phases": r.phases}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("url", nargs="?", default=os.environ.get("AQUAMIND_DATABASE_URL"))
    p.add_argument("--rows", type=int, default=10_000_000)
    p.add_argument("--repeat", type=int, default=3, help="interleaved runs; medians are reported")
    args = p.parse_args(argv)
    if not args.url:
        p.error("give a database URL or set AQUAMIND_DATABASE_URL")
    name = f"aquamind_bench_{secrets.token_hex(4)}"
    with psycopg.connect(args.url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        server = admin.execute("SHOW server_version").fetchone()[0]
    runs: dict[str, list[dict]] = {"raw": [], "raw_same_shape": [], "writer": []}
    try:
        url = make_conninfo(args.url, dbname=name)
        t = time.perf_counter()
        data = make_data(args.rows)
        gen_s = time.perf_counter() - t
        for _ in range(args.repeat):  # interleaved, so drift hits every measurement alike
            runs["raw"].append(raw_copy(url, data, RAW3))
            runs["raw_same_shape"].append(raw_copy(url, data, RAW7))
            runs["writer"].append(writer_copy(url, data))
    finally:
        with psycopg.connect(args.url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    med = {k: sorted(v, key=lambda r: r["rows_per_s"])[len(v) // 2] for k, v in runs.items()}
    raw, same, writer = med["raw"], med["raw_same_shape"], med["writer"]
    out = {"when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
           "host": platform.node(), "cpus": os.cpu_count(), "server_version": server,
           "rows": args.rows, "repeat": args.repeat, "data_generation_s": gen_s,
           "median": med, "runs": runs,
           "ratio_rows_per_s": writer["rows_per_s"] / raw["rows_per_s"],
           "ratio_bytes_per_s": writer["mb_per_s"] / raw["mb_per_s"],
           "ratio_rows_per_s_same_shape": writer["rows_per_s"] / same["rows_per_s"]}
    for label, r in (("raw (3 cols)", raw), ("raw (writer's 7 cols)", same), ("writer", writer)):
        print(f"{label:22s} {r['rows_per_s'] / 1e6:5.2f} M rows/s  {r['mb_per_s']:6.1f} MB/s  "
              f"({r['bytes_per_row']:.0f} B/row, {r['seconds']:.2f} s; runs: "
              + ", ".join(f"{x['rows_per_s'] / 1e6:.2f}" for x in runs[{"raw (3 cols)": "raw",
                          "raw (writer's 7 cols)": "raw_same_shape", "writer": "writer"}[label]])
              + ")")
    print(f"writer / raw: {out['ratio_rows_per_s']:.0%} of the rows/s, {out['ratio_bytes_per_s']:.0%} "
          f"of the bytes/s (target >= 80 % of the rows/s); writer / raw of the same row shape: "
          f"{out['ratio_rows_per_s_same_shape']:.0%} of the rows/s")
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"copy_rate_{dt.datetime.now():%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
