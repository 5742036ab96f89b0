"""Rules evaluated on every frame as it streams into COPY, for tables too large to rescan.

A SQL check over a year of readings (13 M rows joined to assignments, sensors and parameters)
costs as much as writing them. A FrameCheck instead evaluates the same invariant on each chunk
in the producing thread, vectorised, while the previous chunk is being COPYed, against
dimension rows read from the warehouse inside the same transaction (so it checks against what
is stored, not against the simulation). Every row is examined; the counts come back as
CheckResults beside the SQL checks, and a violation rolls the year back like any check.
The same invariants stay available as full SQL audits over stored rows (`aquamind validate`).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .checks import CheckResult

Columns = dict[str, np.ndarray]
Lookup = Callable[[object, dict], object]  # (cursor, params) -> context shared by the checks naming it


@dataclass(frozen=True)
class FrameCheck:
    """`violations(cols, ctx)` returns a boolean mask of offending rows; `examined(cols, ctx)` the
    rows the rule applies to (default: all). `lookup` runs once per load, its result is `ctx`."""

    name: str
    description: str
    table: str  # qualified name of the table whose frames it reads
    violations: Callable[[Columns, object], np.ndarray]
    lookup: Lookup | None = None
    examined: Callable[[Columns, object], np.ndarray] | None = None
    min_examined: int = 1
    reads: tuple[str, ...] = ()  # tables `lookup` reads (qualified names): the load locks them up front


class FrameTally:
    """Running counts of a load's frame checks; `results()` turns them into CheckResults."""

    def __init__(self, checks, cur, params: dict):
        self.checks: list[FrameCheck] = list(checks)
        contexts: dict[Lookup, object] = {}
        self.seconds = [0.0] * len(self.checks)
        for i, c in enumerate(self.checks):
            if c.lookup is not None and c.lookup not in contexts:
                t0 = time.perf_counter()
                contexts[c.lookup] = c.lookup(cur, params)
                self.seconds[i] += time.perf_counter() - t0
        self._ctx = [contexts.get(c.lookup) for c in self.checks]
        self.examined = [0] * len(self.checks)
        self.violations = [0] * len(self.checks)
        self.samples: list[list[dict[str, str]]] = [[] for _ in self.checks]

    def add(self, table: str, cols: Columns) -> None:
        for i, c in enumerate(self.checks):
            if c.table != table:
                continue
            ctx, t0 = self._ctx[i], time.perf_counter()
            scope = None if c.examined is None else np.asarray(c.examined(cols, ctx), bool)
            n = len(next(iter(cols.values()))) if scope is None else int(scope.sum())
            bad = np.asarray(c.violations(cols, ctx), bool)
            if scope is not None:
                bad &= scope
            k = int(bad.sum())
            self.examined[i] += n
            self.violations[i] += k
            if k and len(self.samples[i]) < 5:
                rows = np.flatnonzero(bad)[:5 - len(self.samples[i])]
                self.samples[i] += [{name: str(v[r]) for name, v in cols.items()} for r in rows]
            self.seconds[i] += time.perf_counter() - t0

    def results(self) -> list[CheckResult]:
        return [CheckResult(c.name, self.violations[i] == 0 and self.examined[i] >= c.min_examined,
                            self.examined[i], self.violations[i], self.samples[i], c.description,
                            c.min_examined, self.seconds[i])
                for i, c in enumerate(self.checks)]
