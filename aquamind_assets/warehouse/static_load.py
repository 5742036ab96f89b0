"""Replacing the static tables (reference data and infrastructure) in one transaction: the same
transaction shape as a year's load (load.py), with TRUNCATE ... CASCADE and deferred foreign keys."""
from __future__ import annotations

from psycopg import sql
from psycopg.types.json import Jsonb

from . import locks
from .load import _Load

_STATIC_LOCK = "aquamind:static"


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
        base = ("meta.partition_load", "meta.rule_evaluation")
        return (*base, "meta.scenario") if self.write_scenario else base

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
