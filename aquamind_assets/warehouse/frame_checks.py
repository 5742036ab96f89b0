"""Rules evaluated on every frame as it streams into COPY, instead of rescanning what was written.

A SQL check over a year of readings (13 M rows joined to assignments, sensors and parameters), or
of meals joined to the daily state, costs as much as writing the rows. A frame rule instead decides
the same invariant on each chunk in the producing thread, vectorised, while the previous chunk is
being COPYed, against the dimension rows it needs, looked up once per load inside the load's
transaction. Every row is examined; the counts come back as CheckResults beside the SQL checks,
and a violation rolls the year back like any check. The SQL forms stay the audit over stored rows
(`aquamind validate`).

Two kinds: a FrameCheck judges each row on its own (a mask per frame); a FrameTotal judges totals
across every frame of the load (meals summed per assignment-day, say), which its lookup's context
accumulates as frames pass (`ctx.add(table, cols)`, called once per frame whichever rules share it)
and `verdict(ctx)` decides once the last frame is in.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .checks import CheckResult

Columns = dict[str, np.ndarray]
# (cursor, params) -> context shared by the rules naming it; a lookup's `statements` attribute (its
# SQL) joins the load's lock plan like the rules' own
Lookup = Callable[[object, dict], object]
Verdict = tuple[int, int, list[dict[str, str]]]  # examined, violations, sample rows


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
    statements: tuple[str, ...] = ()  # or the SQL it runs, which the lock plan prunes to the year like a check's


@dataclass(frozen=True)
class FrameTotal:
    """A rule over totals the lookup's context gathers from every frame; `verdict(ctx)` decides it."""

    name: str
    description: str
    lookup: Lookup
    verdict: Callable[[object], Verdict]
    min_examined: int = 1
    reads: tuple[str, ...] = ()
    statements: tuple[str, ...] = ()


FRAME_RULES = (FrameCheck, FrameTotal)


def _sample(cols: Columns, rows: np.ndarray) -> list[dict[str, str]]:
    return [{name: str(v[r]) for name, v in cols.items()} for r in rows]


class FrameTally:
    """Running counts of a load's frame rules; `results()` turns them into CheckResults.

    `params` are the load's (year, asset, scenario_hash, code_version) plus, under "source", what the
    frames are rendered from (the plan), for lookups that can take a dimension from it."""

    def __init__(self, checks, cur, params: dict):
        self.checks = list(checks)
        contexts: dict[Lookup, object] = {}
        self.seconds = [0.0] * len(self.checks)
        for i, c in enumerate(self.checks):
            if c.lookup is not None and c.lookup not in contexts:
                t0 = time.perf_counter()
                contexts[c.lookup] = c.lookup(cur, params)
                self.seconds[i] += time.perf_counter() - t0
        self._ctx = [contexts.get(c.lookup) for c in self.checks]
        self._gathering = [(i, ctx) for i, ctx in enumerate(self._ctx) if hasattr(ctx, "add")
                           and self._ctx.index(ctx) == i]  # each accumulating context once
        self.examined = [0] * len(self.checks)
        self.violations = [0] * len(self.checks)
        self.samples: list[list[dict[str, str]]] = [[] for _ in self.checks]

    def add(self, table: str, cols: Columns) -> None:
        for i, ctx in self._gathering:
            t0 = time.perf_counter()
            ctx.add(table, cols)
            self.seconds[i] += time.perf_counter() - t0
        for i, c in enumerate(self.checks):
            if isinstance(c, FrameCheck) and c.table == table:
                t0 = time.perf_counter()
                self._judge(i, c, cols)
                self.seconds[i] += time.perf_counter() - t0

    def _judge(self, i: int, c: FrameCheck, cols: Columns) -> None:
        ctx = self._ctx[i]
        scope = None if c.examined is None else np.asarray(c.examined(cols, ctx), bool)
        n = len(next(iter(cols.values()))) if scope is None else int(scope.sum())
        bad = np.asarray(c.violations(cols, ctx), bool)
        if scope is not None:
            bad &= scope
        k = int(bad.sum())
        self.examined[i] += n
        self.violations[i] += k
        if k and len(self.samples[i]) < 5:
            self.samples[i] += _sample(cols, np.flatnonzero(bad)[:5 - len(self.samples[i])])

    def results(self) -> list[CheckResult]:
        for i, c in enumerate(self.checks):
            if isinstance(c, FrameTotal):
                t0 = time.perf_counter()
                self.examined[i], self.violations[i], self.samples[i] = c.verdict(self._ctx[i])
                self.seconds[i] += time.perf_counter() - t0
        return [CheckResult(c.name, self.violations[i] == 0 and self.examined[i] >= c.min_examined,
                            self.examined[i], self.violations[i], self.samples[i][:5], c.description,
                            c.min_examined, self.seconds[i])
                for i, c in enumerate(self.checks)]
