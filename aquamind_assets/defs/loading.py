"""The one code path from a rendered year to stored, checked rows, shared by every yearly asset.

Frames are validated with pandera as they are produced (in this thread) while the previous frame
is being COPYed (in the writer's thread); the asset's SQL rules run inside the year's
transaction and come back as Dagster asset check results.
"""

import re
import resource
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import dagster as dg
import psycopg

from ..runtime import settings
from ..runtime.plan_cache import code_version, release
from ..config.scenario import ScenarioError
from ..warehouse.validation import FrameInvalid, validate
from ..rules.catalogue import at_load, publish
from ..warehouse.checks import Check, CheckFailed, CheckResult
from ..warehouse import timescale
from ..warehouse.ddl import all_tables, ensure_warehouse
from ..warehouse.storage import TIMESCALE, StorageError
from ..warehouse.copy import CHUNK_ROWS
from ..warehouse.load import YearLoad
from ..warehouse.load_record import LoadResult, ScenarioMismatch
from ..warehouse.locks import LockConflict, conflict_line
from ..warehouse.schema import Frame, Table
from .resources import Warehouse

TABLES: dict[str, Table] = {t.qualified: t for t in all_tables()}
RETRY = dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)
LOCK_ERRORS = (LockConflict, psycopg.errors.DeadlockDetected, psycopg.errors.LockNotAvailable)
Render = Callable[[object, int], Iterable[tuple[Table, dict]] | dict[Table, dict | Callable[[], dict]]]


@dataclass(frozen=True)
class YearlySpec:
    """What a yearly asset writes: its tables (the first is its main one), renderer and rules."""

    name: str
    tables: tuple[str, ...]
    render: Render
    rules: tuple[Check, ...]


SPECS: dict[str, YearlySpec] = {}  # filled by yearly_asset()


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def check_fault(asset: str, year: int | str) -> None:
    """Test hook: a file $DAGSTER_HOME/faults/<asset>-<year> makes that materialization fail."""
    if (settings.dagster_home() / "faults" / f"{asset}-{year}").exists():
        raise dg.Failure(allow_retries=False, description=f"injected fault for {asset} {year} (remove "
                                     f"$DAGSTER_HOME/faults/{asset}-{year} to clear it)")


def check_result(r: CheckResult) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=r.name, passed=bool(r.passed),
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"examined": int(r.examined), "violations": int(r.violations),
                  "rule": r.description, "sample": dg.MetadataValue.json(r.sample[:5])})


def lock_failure(e: BaseException, warehouse: Warehouse, asset: str, year: int, retry_number: int) -> dg.Failure:
    """A deadlock or lock timeout, said as what it is. Loads take their locks in one order
    (warehouse/locks.py), so a deadlock involves a client outside that protocol: it is retried,
    and a retry that deadlocks again points at a bug rather than bad luck."""
    line = conflict_line(e, warehouse.connect)
    deadlock_again = retry_number > 0 and line.startswith("deadlock")
    tail = ("again on retry: a lock-order bug, not a transient fault (the server log names the other client)"
            if deadlock_again else "rolled back, will retry")
    return dg.Failure(description=f"{asset} {year}: {line} ({tail})", allow_retries=not deadlock_again)


_COPY_CONTEXT = re.compile(r"\bCOPY ([a-z_][a-z0-9_]*),")


def disk_full_failure(e: psycopg.errors.DiskFull, warehouse: Warehouse, asset: str, year: int) -> dg.Failure:
    """The server ran out of disk while writing the year (ENOSPC): one line naming disk space, the
    table (the COPY's context names the partition; else the asset's tables) and its tablespace
    (looked up on a fresh connection). Not retried: the same year would fill the disk again."""
    tables = {TABLES[t].partition_name(year): TABLES[t] for t in SPECS[asset].tables}
    m = _COPY_CONTEXT.search(getattr(e.diag, "context", "") or "")
    table = tables.get(m[1]) if m else None
    where = f"{table.schema}.{m[1]}" if table else "one of " + ", ".join(SPECS[asset].tables)
    if table is not None:
        try:  # a courtesy: the line names the table either way
            with warehouse.connect() as conn:
                row = conn.execute("""SELECT coalesce(t.spcname, 'pg_default'), coalesce(pg_tablespace_location(t.oid), '')
                                      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                                      LEFT JOIN pg_tablespace t ON t.oid = c.reltablespace
                                      WHERE n.nspname = %s AND c.relname = %s""", (table.schema, m[1])).fetchone()
            if row:
                where += f" (tablespace {row[0]}" + (f" at {row[1]}" if row[1] else "") + ")"
        except psycopg.Error:
            pass
    first = (str(e).strip().splitlines() or ["no space left on device"])[0]
    return dg.Failure(description=f"{asset} {year}: out of disk space writing {where}: {first} (rolled back, "
                                  "the previous version of the year is kept; make room and rerun)",
                      allow_retries=False)


FIRST_SLICE = 16_384  # rows checked before the first COPY bytes leave; slices then double to CHUNK_ROWS


def slices(n: int) -> Iterable[tuple[int, int]]:
    """Row ranges a rendered frame is checked and sent in: small first, so the server starts parsing
    COPY while the producer still validates the rest, then CHUNK_ROWS (pandera's fixed cost per
    call is then a few per cent of the rows' time)."""
    start, size = 0, FIRST_SLICE
    while start < n:
        yield start, min(n, start + size)
        start, size = start + size, min(2 * size, CHUNK_ROWS)


def frames(plan, year: int, render: Render) -> Iterable[Frame]:
    """A renderer's frames, validated. A renderer that returns whole tables (a dict) has them sliced
    (see slices); one that yields its own chunks (readings, meals) streams already. A dict's value
    may be a function: that table is rendered when its turn comes, while the tables before it are
    still being sent (so the largest table goes first and the small ones render behind it)."""
    items = render(plan, year)
    if not isinstance(items, dict):
        yield from (validate(Frame(table, cols)) for table, cols in items)
        return
    for table, cols in items.items():
        cols = cols() if callable(cols) else cols
        n = len(next(iter(cols.values()), ()))
        if n == 0:
            yield validate(Frame(table, cols))
        for a, b in slices(n):
            yield validate(Frame(table, {k: v[a:b] for k, v in cols.items()}))


def write_year(conn, plan, asset: str, year: int, *, scenario_hash: str, replace_all: bool = False,
               on_phase=None) -> LoadResult:
    """Render, validate, write and check one year of one registered asset in one YearLoad (no Dagster)."""
    spec = SPECS[asset]
    storage = ensure_warehouse(conn, storage=settings.storage())
    publish(conn, asset)
    tables = [TABLES[t] for t in spec.tables]
    with YearLoad(conn, asset=asset, year=year, tables=tables,
                  scenario_hash=scenario_hash, code_version=code_version(), checks=spec.rules,
                  replace_all=replace_all, on_phase=on_phase, source=plan,
                  lock_timeout_s=settings.lock_timeout_s()) as load:
        load.write_stream(frames(plan, year, spec.render))
    res = load.result
    res.storage = storage
    for t in (t for t in tables if storage == TIMESCALE and t.hypertable):
        t0 = time.perf_counter()  # after the commit: a crash here leaves the year whole, uncompressed
        stats = timescale.compress_year(conn, t, year)
        res.compression[t.qualified] = {**stats, "seconds": round(time.perf_counter() - t0, 3)}
    return res


def load_year(context: dg.AssetExecutionContext, warehouse: Warehouse, asset: str, year: int):
    """Render, validate, write and check one year of one asset; yields Dagster events."""
    check_fault(asset, year)
    t0 = time.perf_counter()
    scenario = warehouse.scenario()
    plan = warehouse.plan(log=context.log.info)
    t_plan = time.perf_counter() - t0
    try:
        with warehouse.connect() as conn:
            res = write_year(conn, plan, asset, year, scenario_hash=scenario.data_hash(),
                             replace_all=warehouse.replace_everything())
    except CheckFailed as e:
        for r in e.results:
            yield check_result(r)
        raise dg.Failure(description=str(e), allow_retries=False,
                         metadata={"failed_rule": e.result.name, "sample": dg.MetadataValue.json(e.result.sample)})
    except (FrameInvalid, ScenarioMismatch, ScenarioError, StorageError, settings.InvalidSetting) as e:  # no retry
        raise dg.Failure(description=str(e), allow_retries=False) from None
    except LOCK_ERRORS as e:
        raise lock_failure(e, warehouse, asset, year, context.retry_number) from None
    except psycopg.errors.DiskFull as e:  # an OperationalError, but not a transient one
        raise disk_full_failure(e, warehouse, asset, year) from None
    except psycopg.OperationalError as e:  # transient (restart, network): one line, RetryPolicy retries
        first = (str(e).strip().splitlines() or ["connection lost"])[0]
        raise dg.Failure(description=f"lost the warehouse connection while loading {asset} {year} "
                                     f"(rolled back, will retry): {first}", allow_retries=True) from None
    finally:
        del plan
        release()  # the next asset maps it again in ~0.1 s; resident memory stays one asset's worth
    wall = time.perf_counter() - t0
    context.log.info(f"{asset} {year}: {res.total_rows:,} rows in {wall:.1f} s "
                     f"({res.total_rows / max(wall, 1e-9):,.0f} rows/s), checksum {res.checksum[:12]}")
    yield dg.MaterializeResult(
        metadata={"dagster/row_count": res.total_rows, "year": year,
                  "rows_per_table": dg.MetadataValue.json(res.rows),
                  "duration_s": round(wall, 3), "write_s": round(res.duration_s, 3), "plan_s": round(t_plan, 3),
                  "rows_per_s": round(res.total_rows / max(wall, 1e-9)),
                  "phases_s": dg.MetadataValue.json({k: round(v, 3) for k, v in res.phases.items()}),
                  "peak_rss_mib": round(peak_rss_mib(), 1), "checksum": res.checksum,
                  "scenario_hash": scenario.data_hash(), "scale": scenario.scale, "storage": res.storage,
                  **({"compression": dg.MetadataValue.json(res.compression),
                      "compress_s": round(sum(c["seconds"] for c in res.compression.values()), 3)}
                     if res.compression else {})},
        check_results=[check_result(r) for r in res.checks])


def column_schema(table: Table) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(c.name, c.pgtype, description=c.description or None)
                                   for c in table.columns])


def yearly_asset(name: str, *, tables: list[str], render: Render, description: str,
                 group: str, deps: tuple[str, ...] = (), main: str | None = None) -> dg.AssetsDefinition:
    """A year-partitioned asset writing `tables` (`main`, default the first, is the one whose columns
    the catalog shows); its rules are the catalogue's (rules/catalogue.py), checked per year."""
    from .partitions import YEARS

    key = dg.AssetKey(name)
    main = TABLES[main or tables[0]]
    rules = at_load(name)
    SPECS[name] = YearlySpec(name, tuple(tables), render, tuple(rules))

    with warnings.catch_warnings():  # a check spec's partitions are a preview feature: each result its year's
        warnings.simplefilter("ignore", dg.PreviewWarning)
        check_specs = [dg.AssetCheckSpec(r.name, asset=key, blocking=True, description=r.description,
                                         partitions_def=YEARS) for r in rules]

    @dg.asset(name=name, partitions_def=YEARS, deps=list(deps), group_name=group, retry_policy=RETRY,
              kinds={"python", "postgres"}, description=description,
              tags={"aquamind/writes": "warehouse"},
              metadata={"tables": ", ".join(tables), "dagster/column_schema": column_schema(main)},
              check_specs=check_specs)
    def _asset(context: dg.AssetExecutionContext, warehouse: Warehouse):
        yield from load_year(context, warehouse, name, int(context.partition_key))

    return _asset
