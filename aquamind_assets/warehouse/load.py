"""Atomic, idempotent replacement of one asset's year (YearLoad; static tables: static_load.py).

Everything happens in one transaction: advisory lock, every relation lock the load will need
(taken up front in one global order, see locks.py; `lock_timeout_s` bounds the wait for a client
that is not another running load, as SET LOCAL lock_timeout), scenario check, TRUNCATE, COPY FREEZE,
btree indexes, ANALYZE, checks, meta.partition_load. A failed check, an exception or a killed
process rolls back, and the previous version of the year stays as it was. TRUNCATE is
transactional in PostgreSQL; it also lets COPY FREEZE write rows already frozen and all-visible.
"""
from __future__ import annotations

import hashlib
import time

from psycopg import pq, sql
from psycopg.rows import tuple_row

from . import ddl, locks, timescale
from .checks import Check, CheckFailed, CheckResult, run_checks
from .copy import CHUNK_ROWS, CopyStream, copy_statement
from .frame_checks import FRAME_RULES, FrameTally
from .load_record import LoadResult, combined_checksum, verify_scenario, write_evaluations, write_record
from .schema import Frame, Table

STATIC_YEAR = 0  # meta.partition_load.year of a static (unpartitioned) load


class _Load:
    """Shared transaction shape of YearLoad and StaticLoad."""

    year: int = STATIC_YEAR
    _after_phase = "index"  # what _after_copy does, for LoadResult.phases
    lock_up_front = True  # the lock protocol (locks.py); the tests turn it off to show the cycles it prevents

    def __init__(self, conn, *, asset: str, tables, scenario_hash: str, code_version: str,
                 checks=(), replace_all: bool = False, analyze: bool = True,
                 queue_size: int = 4, chunk_rows: int = CHUNK_ROWS, on_phase=None, source=None,
                 lock_timeout_s: float | None = None):
        self.conn, self.asset = conn, asset
        self.lock_timeout_s = lock_timeout_s  # None: the server's or the session's lock_timeout
        self.tables: dict[str, Table] = {t.qualified: t for t in tables}
        self.scenario_hash, self.code_version = scenario_hash, code_version
        self.checks: list[Check] = [c for c in checks if not isinstance(c, FRAME_RULES)]
        self.frame_checks = [c for c in checks if isinstance(c, FRAME_RULES)]
        self.source = source  # what the frames are rendered from (the plan), for frame rules' lookups
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
        frame = [q for c in self.frame_checks for q in (*c.statements, *getattr(c.lookup, "statements", ()))]
        return [*(q for c in self.checks for q in c.statements), *frame]

    def _take_locks(self) -> None:
        self.lock_plan = locks.plan_locks(
            self._cur, writes=self._writes(), statements=self._statements(),
            extra_reads=[name for c in self.frame_checks for name in c.reads],
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
            if self.lock_timeout_s is not None:  # after the (asset, year) lock: another writer of the year is awaited
                self._cur.execute("SELECT set_config('lock_timeout', %s, true)",
                                  (f"{max(1, round(self.lock_timeout_s * 1000))}ms",))
            self._take_locks()
            self._t0 = self._mark = time.perf_counter()
            self._lock_wait = self._t0 - t0
            self._begin("prepare")
            verify_scenario(self._cur, self.scenario_hash, self.replace_all)
            self._prepare()
            self._tally = FrameTally(self.frame_checks, self._cur,
                                     {**self._params(), "scenario_hash": self.scenario_hash,
                                      "code_version": self.code_version, "source": self.source})
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
            if isinstance(e, CheckFailed):
                self._record_failure(e.results)
            raise
        finally:
            self._cur.close()
        tx.__exit__(None, None, None)  # commit
        self._phase("commit")
        self.result.checks = results
        self.result.phases = dict(self.phases)
        self.result.duration_s = time.perf_counter() - self._t0
        return False

    def _record_failure(self, results: list[CheckResult]) -> None:
        """The rolled-back load's results, in a short transaction of their own, so the failure
        stays queryable (meta.rule_evaluation, committed = false) after the rollback."""
        with self.conn.transaction(), self.conn.cursor() as cur:
            write_evaluations(cur, self.asset, self.year, results, source="load", committed=False)

    # -- writing
    def _statement(self, table: Table) -> sql.Composed:
        if table.qualified not in self.tables:
            raise ValueError(f"{table.qualified} is not one of this load's tables {list(self.tables)}")
        relation, freeze = self._targets[table.qualified]
        return copy_statement(table, relation, freeze=freeze)

    def _params(self) -> dict:
        return {"year": self.year, "asset": self.asset}

    def _inspect(self, frame: Frame) -> None:
        """Frame checks run here, in the producer's thread, while the writer sends the last chunk."""
        if self.frame_checks:
            self._tally.add(frame.table.qualified, frame.columns)

    def write(self, frame: Frame) -> int:
        """COPY one frame; returns its row count."""
        return self.write_stream([frame])

    def write_stream(self, frames) -> int:
        """COPY an iterable of frames, of any of the load's tables in any order; the COPY runs in a
        background thread (CopyStream), so producing the next frame overlaps sending the previous
        one. Returns the row count."""
        statements = {name: self._statement(t) for name, t in self.tables.items()}
        with CopyStream(self.conn, statements, self._sha, queue_size=self.queue_size,
                        chunk_rows=self.chunk_rows) as stream:
            n = 0
            for frame in frames:
                self._inspect(frame)
                n += stream.write(frame)
        for name, rows in stream.rows.items():
            self.rows[name] += rows
        self.nbytes += stream.nbytes
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
        write_record(self._cur, self.asset, self.year, self.scenario_hash, self.code_version, self.rows,
                     checksum, duration, self.phases)
        write_evaluations(self._cur, self.asset, self.year, results, source="load", committed=True)
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

    _meta_writes = ("meta.partition_load", "meta.rule_evaluation")

    def _lock(self) -> None:
        self._cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s), %s::int4)",
                          (self.asset, self.year))

    def _writes(self) -> list[tuple[str, str, str]]:
        """ACCESS EXCLUSIVE on the year's partitions (TRUNCATE) and ACCESS SHARE on their parents; on
        a hypertable, SHARE UPDATE EXCLUSIVE on it (attach_chunk's lock: it serializes the year
        swaps of one hypertable) and ACCESS EXCLUSIVE on the year's chunk and its compressed data."""
        self._hyper = {name for name, t in self.tables.items() if t.hypertable and timescale.is_hypertable(self.conn, t)}
        out = []
        for name, t in self.tables.items():
            part = t.partition_name(self.year)
            if name in self._hyper:
                out.append((t.schema, t.name, locks.SHARE_UPDATE_EXCLUSIVE))
                if (chunk := timescale.year_chunk(self._cur, t, self.year)) is not None:
                    out += [(*chunk, locks.ACCESS_EXCLUSIVE)]
                    if (data := timescale.compressed_companion(self._cur, *chunk)) is not None:
                        out.append((*data, locks.ACCESS_EXCLUSIVE))
            elif ddl.relation_kind(self.conn, t.schema, part) == "r":
                # TRUNCATE and the index DDL of a partition also take ACCESS SHARE on its parent
                out += [(t.schema, part, locks.ACCESS_EXCLUSIVE), (t.schema, t.name, locks.ACCESS_SHARE)]
        return out

    def _prepare(self) -> None:
        for name, t in self.tables.items():
            part = t.partition_name(self.year)
            if name in self._hyper:
                self._begin(f"replace chunk {t.qualified}")
                timescale.replace_year(self._cur, t, self.year)  # new in this transaction: COPY FREEZE
            elif ddl.relation_kind(self.conn, t.schema, part) == "r":
                self._begin(f"truncate {t.qualified}")
                self._cur.execute(sql.SQL("TRUNCATE {}.{}").format(sql.Identifier(t.schema),
                                                                   sql.Identifier(part)))
                ddl.drop_year_indexes(self.conn, t, self.year)
            else:
                raise LookupError(f"{t.schema}.{part} does not exist: create the warehouse with "
                                  f"year {self.year} (ddl.create_warehouse(conn, years=...))")
            self._targets[name] = (part, True)

    def _after_copy(self) -> None:
        for name, t in self.tables.items():
            ddl.create_year_indexes(self.conn, t, self.year)  # bulk-built, after the COPY
            if name in self._hyper:
                timescale.attach_year(self._cur, t, self.year)
