"""Atomic, idempotent replacement of one asset's year (YearLoad) or of static tables (StaticLoad).

Everything happens in one transaction: advisory lock, every relation lock the load will need
(taken up front in one global order, see locks.py), scenario check, TRUNCATE, COPY FREEZE,
btree indexes, ANALYZE, checks, meta.partition_load. A failed check, an exception or a killed
process rolls back, and the previous version of the year stays as it was. TRUNCATE is
transactional in PostgreSQL; it also lets COPY FREEZE write rows already frozen and all-visible.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

from psycopg import pq, sql
from psycopg.rows import tuple_row
from psycopg.types.json import Jsonb

from . import ddl, locks
from .checks import Check, CheckFailed, CheckResult, run_checks
from .copy import CHUNK_ROWS, CopyWriter
from .frame_checks import FrameCheck, FrameTally
from .schema import Frame, Table

STATIC_YEAR = 0  # meta.partition_load.year of a static (unpartitioned) load
_STATIC_LOCK = "aquamind:static"


class ScenarioMismatch(Exception):
    """The warehouse holds another scenario's data; mixing two scenarios is refused."""


@dataclass
class LoadResult:
    asset: str
    year: int
    rows: dict[str, int]
    checksum: str
    table_checksums: dict[str, str]
    checks: list[CheckResult] = field(default_factory=list)
    duration_s: float = 0.0  # after the lock was granted, until commit
    lock_wait_s: float = 0.0
    nbytes: int = 0  # binary COPY payload sent
    phases: dict[str, float] = field(default_factory=dict)  # seconds: prepare, copy, index, ...

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_s(self) -> float:
        return self.total_rows / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def bytes_per_s(self) -> float:
        return self.nbytes / self.duration_s if self.duration_s > 0 else 0.0


def combined_checksum(rows: dict[str, int], checksums: dict[str, str]) -> str:
    """sha256 over 'table<TAB>rows<TAB>sha256' lines in table-name order: one digest per load."""
    h = hashlib.sha256()
    for name in sorted(rows):
        h.update(f"{name}\t{rows[name]}\t{checksums[name]}\n".encode())
    return h.hexdigest()


def verify_scenario(cur, scenario_hash: str, replace_all: bool) -> None:
    row = cur.execute("SELECT scenario_hash FROM meta.scenario").fetchone()
    if row is None or replace_all or row[0] == scenario_hash:
        return
    raise ScenarioMismatch(
        f"the warehouse holds scenario {row[0][:12]} but this run is scenario {scenario_hash[:12]}: "
        "rerun with --replace-all to regenerate every asset, or reset the warehouse first")


class _Load:
    """Shared transaction shape of YearLoad and StaticLoad."""

    year: int = STATIC_YEAR
    _after_phase = "index"  # what _after_copy does, for LoadResult.phases
    lock_up_front = True  # the lock protocol (locks.py); the tests turn it off to show the cycles it prevents

    def __init__(self, conn, *, asset: str, tables, scenario_hash: str, code_version: str,
                 checks=(), replace_all: bool = False, analyze: bool = True,
                 queue_size: int = 4, chunk_rows: int = CHUNK_ROWS, on_phase=None):
        self.conn, self.asset = conn, asset
        self.tables: dict[str, Table] = {t.qualified: t for t in tables}
        self.scenario_hash, self.code_version = scenario_hash, code_version
        self.checks: list[Check] = [c for c in checks if not isinstance(c, FrameCheck)]
        self.frame_checks: list[FrameCheck] = [c for c in checks if isinstance(c, FrameCheck)]
        self._tally: FrameTally | None = None
        self.replace_all, self.analyze = replace_all, analyze
        self.queue_size, self.chunk_rows = queue_size, chunk_rows
        self.rows = {name: 0 for name in self.tables}
        self._sha = {name: hashlib.sha256() for name in self.tables}
        self._targets: dict[str, tuple[str, bool]] = {}  # qualified -> (relation, freeze)
        self.nbytes = 0
        self.result: LoadResult | None = None
        self.phases: dict[str, float] = {}
        self.lock_plan = locks.LockPlan()
        self._on_phase = on_phase  # called with (load, phase name) as each phase begins
        self._tx = None

    def _phase(self, name: str) -> None:
        """Charge the time since the previous mark to `name`."""
        now = time.perf_counter()
        self.phases[name] = self.phases.get(name, 0.0) + now - self._mark
        self._mark = now

    def _begin(self, name: str) -> None:
        if self._on_phase is not None:
            self._on_phase(self, name)

    def _statements(self) -> list[str]:
        """Every SQL text the load's rules run (what the lock plan reads the table names from)."""
        return [q for c in self.checks for q in (c.count_sql, c.sample_sql, c.prepare_sql) if q]

    def _take_locks(self) -> None:
        known = {t.qualified: t for t in ddl.all_tables()} | self.tables
        self.lock_plan = locks.plan_locks(
            self._cur, writes=self._writes(), statements=self._statements(),
            extra_reads=[name for c in self.frame_checks for name in c.reads], known=known,
            year=None if self.year == STATIC_YEAR else self.year, meta_writes=self._meta_writes)
        if self.lock_up_front:
            locks.acquire(self._cur, self.lock_plan)

    # -- transaction frame
    def __enter__(self):
        if self.conn.info.transaction_status != pq.TransactionStatus.IDLE:
            raise RuntimeError(f"{type(self).__name__} needs a connection outside a transaction")
        t0 = time.perf_counter()
        self._tx = self.conn.transaction()
        self._tx.__enter__()
        try:
            self._cur = self.conn.cursor(row_factory=tuple_row)
            self._lock()
            self._take_locks()
            self._t0 = self._mark = time.perf_counter()
            self._lock_wait = self._t0 - t0
            self._begin("prepare")
            verify_scenario(self._cur, self.scenario_hash, self.replace_all)
            self._prepare()
            self._tally = FrameTally(self.frame_checks, self._cur, self._params())
            self._phase("prepare")
        except BaseException as e:
            self._tx.__exit__(type(e), e, e.__traceback__)
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        tx, self._tx = self._tx, None
        if exc is not None:
            self._cur.close()
            tx.__exit__(exc_type, exc, tb)  # rollback
            return False
        try:
            results = self._finish()
        except BaseException as e:
            tx.__exit__(type(e), e, e.__traceback__)
            raise
        finally:
            self._cur.close()
        tx.__exit__(None, None, None)  # commit
        self._phase("commit")
        self.result.checks = results
        self.result.phases = dict(self.phases)
        self.result.duration_s = time.perf_counter() - self._t0
        return False

    # -- writing
    def _writer(self, table: Table, threaded: bool) -> CopyWriter:
        if table.qualified not in self.tables:
            raise ValueError(f"{table.qualified} is not one of this load's tables {list(self.tables)}")
        relation, freeze = self._targets[table.qualified]
        return CopyWriter(self.conn, table, relation, freeze=freeze, threaded=threaded,
                          queue_size=self.queue_size, chunk_rows=self.chunk_rows,
                          sha=self._sha[table.qualified])

    def _params(self) -> dict:
        return {"year": self.year, "asset": self.asset}

    def _inspect(self, frame: Frame) -> None:
        """Frame checks run here, in the producer's thread, while the writer sends the last chunk."""
        if self.frame_checks:
            self._tally.add(frame.table.qualified, frame.columns)

    def _count(self, w: CopyWriter) -> None:
        self.rows[w.table.qualified] += w.rows
        self.nbytes += w.nbytes

    def write(self, frame: Frame) -> int:
        """COPY one frame synchronously (one COPY statement); returns its row count."""
        self._inspect(frame)
        with self._writer(frame.table, threaded=False) as w:
            w.write(frame)
        self._count(w)
        return w.rows

    def write_stream(self, frames) -> int:
        """COPY an iterable of frames; the COPY runs in a background thread so producing the
        next frame overlaps sending the previous one. Consecutive frames of one table share a
        COPY statement. Returns the row count."""
        writer, n = None, 0
        try:
            for frame in frames:
                if writer is None or writer.table.qualified != frame.table.qualified:
                    if writer is not None:
                        writer.close()
                        self._count(writer)
                    writer = self._writer(frame.table, threaded=True).__enter__()
                self._inspect(frame)
                n += writer.write(frame)
        except BaseException as e:
            if writer is not None:
                writer.close(e)
            raise
        if writer is not None:
            writer.close()
            self._count(writer)
        return n

    # -- hooks: _lock(), _prepare() (truncate, choose targets), _after_copy() in subclasses
    def _finish(self) -> list[CheckResult]:
        self._phase("write")
        self._begin(self._after_phase)
        self._after_copy()
        self._phase(self._after_phase)
        if self.analyze:
            for name, (relation, _) in self._targets.items():
                self._cur.execute(sql.SQL("ANALYZE {}.{}").format(
                    sql.Identifier(self.tables[name].schema), sql.Identifier(relation)))
        self._phase("analyze")
        self._begin("checks")
        results = self._tally.results() + run_checks(self._cur, self.checks, self._params())
        self._phase("checks")
        for r in results:
            if not r.passed:
                raise CheckFailed(r, results)
        self._begin("record")
        checksums = {name: h.hexdigest() for name, h in self._sha.items()}
        checksum = combined_checksum(self.rows, checksums)
        duration = time.perf_counter() - self._t0
        self._cur.execute(
            """INSERT INTO meta.partition_load
                   (asset, year, scenario_hash, code_version, rows, checksum, loaded_at, duration_s)
               VALUES (%s, %s, %s, %s, %s, %s, now(), %s)
               ON CONFLICT (asset, year) DO UPDATE SET scenario_hash = EXCLUDED.scenario_hash,
                   code_version = EXCLUDED.code_version, rows = EXCLUDED.rows,
                   checksum = EXCLUDED.checksum, loaded_at = EXCLUDED.loaded_at,
                   duration_s = EXCLUDED.duration_s""",
            (self.asset, self.year, self.scenario_hash, self.code_version, Jsonb(self.rows),
             checksum, duration))
        self.result = LoadResult(self.asset, self.year, dict(self.rows), checksum, checksums,
                                 lock_wait_s=self._lock_wait, nbytes=self.nbytes)
        return results


class YearLoad(_Load):
    """Replace one year of one asset: `with YearLoad(conn, asset=..., year=..., tables=[...],
    scenario_hash=..., code_version=..., checks=[...]) as load: load.write(frame)`.

    Writers of the same asset and year serialize on pg_advisory_xact_lock(hashtext(asset), year).
    Rows go straight into the `<table>_y<year>` partitions. After a successful exit,
    `load.result` is a LoadResult.
    """

    def __init__(self, conn, *, asset: str, year: int, tables, scenario_hash: str,
                 code_version: str, checks=(), replace_all: bool = False, **kw):
        super().__init__(conn, asset=asset, tables=tables, scenario_hash=scenario_hash,
                         code_version=code_version, checks=checks, replace_all=replace_all, **kw)
        self.year = int(year)
        bad = [name for name, t in self.tables.items() if not t.yearly]
        if bad:
            raise ValueError(f"YearLoad needs yearly tables; {bad} are static (use StaticLoad)")

    _meta_writes = ("meta.partition_load",)

    def _lock(self) -> None:
        self._cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s), %s::int4)",
                          (self.asset, self.year))

    def _writes(self) -> list[tuple[str, str, str]]:
        """ACCESS EXCLUSIVE on the year's partitions (TRUNCATE); on a hypertable, ROW EXCLUSIVE on
        it and its chunks (DELETE of the year)."""
        out = []
        for t in self.tables.values():
            part = t.partition_name(self.year)
            if ddl.relation_kind(self.conn, t.schema, part) == "r":
                out.append((t.schema, part, locks.ACCESS_EXCLUSIVE))
            else:
                out += [(s, n, locks.ROW_EXCLUSIVE) for s, n in locks.partitions(self._cur, t.schema, t.name)]
        return out

    def _prepare(self) -> None:
        for name, t in self.tables.items():
            part = t.partition_name(self.year)
            if ddl.relation_kind(self.conn, t.schema, part) == "r":
                self._begin(f"truncate {t.qualified}")
                self._cur.execute(sql.SQL("TRUNCATE {}.{}").format(sql.Identifier(t.schema),
                                                                   sql.Identifier(part)))
                ddl.drop_year_indexes(self.conn, t, self.year)
                self._targets[name] = (part, True)
            elif ddl.relation_kind(self.conn, t.schema, t.name) == "r":  # a Timescale hypertable
                self._cur.execute(sql.SQL("DELETE FROM {}.{} WHERE year = %s").format(
                    sql.Identifier(t.schema), sql.Identifier(t.name)), (self.year,))
                self._targets[name] = (t.name, False)
            else:
                raise LookupError(f"{t.schema}.{part} does not exist: create the warehouse with "
                                  f"year {self.year} (ddl.create_warehouse(conn, years=...))")

    def _after_copy(self) -> None:
        for name, t in self.tables.items():
            if self._targets[name][1]:  # a partition: build its btree indexes now
                ddl.create_year_indexes(self.conn, t, self.year)


class StaticLoad(_Load):
    """Replace a set of static tables in one transaction (TRUNCATE ... CASCADE, then COPY).

    Foreign keys are deferred during the load and validated before the checks, so frames may
    come in any order. CASCADE also empties tables outside the set that reference it: load
    every static table of a dependency closure together. With write_scenario=True the
    scenario (hash and optional JSON) is recorded in meta.scenario.
    """

    def __init__(self, conn, *, asset: str, tables, scenario_hash: str, code_version: str,
                 checks=(), replace_all: bool = False, scenario: dict | None = None,
                 write_scenario: bool = False, **kw):
        super().__init__(conn, asset=asset, tables=tables, scenario_hash=scenario_hash,
                         code_version=code_version, checks=checks, replace_all=replace_all, **kw)
        self.scenario, self.write_scenario = scenario, write_scenario
        bad = [name for name, t in self.tables.items() if t.yearly]
        if bad:
            raise ValueError(f"StaticLoad needs static tables; {bad} are yearly (use YearLoad)")

    _after_phase = "constraints"

    @property
    def _meta_writes(self) -> tuple[str, ...]:
        return ("meta.partition_load", "meta.scenario") if self.write_scenario else ("meta.partition_load",)

    def _lock(self) -> None:
        self._cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s), 0)", (_STATIC_LOCK,))

    def _writes(self) -> list[tuple[str, str, str]]:
        """ACCESS EXCLUSIVE on every table of the set (TRUNCATE ... CASCADE)."""
        return [(t.schema, t.name, locks.ACCESS_EXCLUSIVE) for t in self.tables.values()]

    def _prepare(self) -> None:
        self._cur.execute("SET CONSTRAINTS ALL DEFERRED")
        idents = [sql.SQL("{}.{}").format(sql.Identifier(t.schema), sql.Identifier(t.name))
                  for t in self.tables.values()]
        if idents:
            self._cur.execute(sql.SQL("TRUNCATE {} CASCADE").format(sql.SQL(", ").join(idents)))
        self._targets = {name: (t.name, True) for name, t in self.tables.items()}

    def _after_copy(self) -> None:
        self._cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # validates the deferred FKs now
        if self.write_scenario:
            self._cur.execute(
                """INSERT INTO meta.scenario (singleton, scenario_hash, scenario, written_at)
                   VALUES (true, %s, %s, now())
                   ON CONFLICT (singleton) DO UPDATE SET scenario_hash = EXCLUDED.scenario_hash,
                       scenario = EXCLUDED.scenario, written_at = EXCLUDED.written_at""",
                (self.scenario_hash, None if self.scenario is None else Jsonb(self.scenario)))
