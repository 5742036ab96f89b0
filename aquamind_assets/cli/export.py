"""`aquamind export`: stored tables as Parquet or CSV files, with a column dictionary and a manifest,
for tools outside the platform (pandas, pyarrow, DuckDB, a spreadsheet). Every choice is checked
before a file is written; each file is streamed from the warehouse (warehouse/unload.py)."""
from __future__ import annotations

import csv
import json
import time
from dataclasses import asdict
from pathlib import Path

import psycopg

from ..config.scenario import parse_years
from ..warehouse.ddl import all_tables
from ..warehouse.schema import Table
from ..warehouse.unload import FORMATS, unload
from .connection import connect
from .errors import CliError


def choose_tables(names: str | None) -> list[Table]:
    """Tables by name (`feeding_event`) or qualified name (`inventory.feeding_event`); all by default."""
    tables = all_tables()
    if not names:
        return tables
    by_name = {**{t.name: t for t in tables}, **{t.qualified: t for t in tables}}
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in by_name]
    if unknown:
        raise CliError(f"unknown table {unknown[0]!r}; choose from: {', '.join(t.name for t in tables)}")
    return list(dict.fromkeys(by_name[n] for n in wanted))


def stored_years(conn) -> dict[str, set[int]]:
    """Per qualified table, the years a load record says are stored (static tables: {0})."""
    out: dict[str, set[int]] = {}
    for year, rows in conn.execute("SELECT year, rows FROM meta.partition_load").fetchall():
        for table in rows:
            out.setdefault(table, set()).add(int(year))
    return out


UNITS = {"_kg": "kilograms", "_g": "grams", "_cm": "centimetres", "_m3": "cubic metres", "_sqm": "square metres",
         "_pct": "percent", "_days": "days", "_c": "degrees Celsius", "_count": "count"}


def doc_blocks() -> dict[str, str]:
    """dbt's doc blocks by name: the project documents shared columns (batch_id, ...) once there."""
    from ..defs.dbt.assets import MANIFEST

    return {d["name"]: d["block_contents"].strip() for d in json.loads(MANIFEST.read_text())["docs"].values()
            if d["package_name"] == "aquamind"}


def describe(table: Table, column, docs: dict[str, str]) -> str:
    """The column's own description, else the project's doc block of that name, else what its name
    says by the warehouse's conventions (keys, dates, units)."""
    if column.description or column.name in docs:
        return column.description or docs[column.name]
    name = column.name
    if name == "id":
        return f"key of {table.qualified}"
    if name.endswith("_id"):
        return f"key of the {name.removesuffix('_id').replace('_', ' ')} this row belongs to"
    if column.pgtype == "date":
        return f"{name.replace('_', ' ')} (calendar date)"
    unit = next((u for suffix, u in UNITS.items() if name.endswith(suffix)), None)
    return f"{name.replace('_', ' ')} ({unit})" if unit else ""


def write_dictionary(tables: list[Table], out: Path) -> Path:
    docs = doc_blocks()
    path = out / "dictionary.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["table", "column", "type", "nullable", "description"])
        for t in tables:
            for c in t.columns:
                w.writerow([t.qualified, c.name, c.pgtype, str(c.nullable).lower(), describe(t, c, docs)])
    return path


def plan(conn, tables: list[Table], years: list[int]) -> list[tuple[Table, int | None]]:
    stored = stored_years(conn)
    work = []
    for t in tables:
        if not t.yearly:
            work.append((t, None))
            continue
        have = stored.get(t.qualified, set())
        missing = [y for y in years if y not in have]
        if missing and len(missing) == len(years):
            raise CliError(f"{t.qualified} has none of the years {years[0]}-{years[-1]} stored "
                           f"(stored: {sorted(have) or 'none'}); run `aquamind generate` or choose --years")
        work += [(t, y) for y in years if y in have]
    return work


def export(args) -> int:
    if args.format not in FORMATS:
        raise CliError(f"unknown format {args.format!r}; choose {' or '.join(FORMATS)}")
    first, last = parse_years(args.years)
    tables = choose_tables(args.tables)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CliError(f"--out {out} is a file; give a folder")
    url = connect().warehouse_url
    with psycopg.connect(url, autocommit=True) as conn:
        work = plan(conn, tables, list(range(first, last + 1)))
        out.mkdir(parents=True, exist_ok=True)
        print(f"aquamind export: {len(work)} file(s) as {args.format} into {out}", flush=True)
        files = []
        for table, year in work:
            t0 = time.perf_counter()
            done = unload(conn, table, year, args.format, out)
            files.append(asdict(done))
            print(f"  {table.qualified:<44} {year or 'static':>6} {done.rows:>12,} rows "
                  f"{done.bytes / 2**20:9.1f} MiB {time.perf_counter() - t0:7.1f} s", flush=True)
    write_dictionary(tables, out)
    (out / "manifest.json").write_text(json.dumps({"format": args.format, "years": [first, last],
                                                   "files": files}, indent=1) + "\n")
    print(f"done: {sum(f['rows'] for f in files):,} rows in {len(files)} file(s); "
          f"columns described in {out / 'dictionary.csv'}")
    return 0
