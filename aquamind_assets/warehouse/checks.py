"""SQL checks over stored rows, run inside a load's transaction so a failure rolls the year back.

Each check counts what it examined as well as what violated the rule: a check that examined
nothing proves nothing, so it fails (`min_examined`, default 1) instead of passing vacuously.
SQL is run with a params dict (e.g. {"year": 2016, "asset": "batches"}): use %(year)s for
parameters and %% for a literal percent sign.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Check:
    """A rule over stored rows; count_sql returns one row (examined bigint, violations bigint)."""

    name: str  # rule id, e.g. "assignment_window"
    description: str  # one line naming the invariant (may cite docs/domain.md section)
    count_sql: str
    sample_sql: str = ""  # up to 5 offending rows, same params
    min_examined: int = 1
    # run once before the first check that names it (same text and params): one scan of a big table
    # can feed several rules, e.g. a temp table of counters that each rule's count_sql reads
    prepare_sql: str = ""

    @property
    def statements(self) -> list[str]:
        """Every SQL text the check runs (what lock plans read table names from)."""
        return [q for q in (self.count_sql, self.sample_sql, self.prepare_sql) if q]


@dataclass
class CheckResult:
    name: str
    passed: bool
    examined: int
    violations: int
    sample: list[dict[str, str]] = field(default_factory=list)
    description: str = ""
    min_examined: int = 1
    seconds: float = 0.0  # time spent evaluating it (stored with the result: where check time goes)

    def message(self) -> str:
        """One line: why it failed (or that it passed)."""
        if self.passed:
            return f"check {self.name} passed: 0 of {self.examined} rows violate {self.description}"
        if self.violations == 0:
            return (f"check {self.name} failed: it examined {self.examined} rows (at least "
                    f"{self.min_examined} required), so it cannot vouch for {self.description}")
        line = (f"check {self.name} failed: {self.violations} of {self.examined} rows violate "
                f"{self.description}")
        if self.sample:
            line += "; e.g. " + ", ".join(f"{k}={v}" for k, v in self.sample[0].items())
        return line.replace("\n", " ")


class CheckFailed(Exception):
    """A check failed; str() is one line naming the rule, the counts and an offending row."""

    def __init__(self, result: CheckResult, results: list[CheckResult] | None = None):
        super().__init__(result.message())
        self.result = result
        self.results = results if results is not None else [result]


def _fetch_sample(cur, check: Check, params: dict) -> list[dict[str, str]]:
    if not check.sample_sql:
        return []
    cur.execute(check.sample_sql, params)
    names = [d.name for d in cur.description or []]
    return [{n: "NULL" if v is None else str(v) for n, v in zip(names, row)}
            for row in cur.fetchmany(5)]


def run_check(cur, check: Check, params: dict | None = None) -> CheckResult:
    """Run one check; raises ValueError if count_sql does not return exactly one row."""
    params = dict(params or {})
    t0 = time.perf_counter()
    cur.execute(check.count_sql, params)
    rows = cur.fetchall()
    if len(rows) != 1 or len(rows[0]) != 2:
        raise ValueError(f"check {check.name}: count_sql must return one row "
                         f"(examined, violations), got {rows[:3]!r}")
    examined, violations = (int(v or 0) for v in rows[0])
    passed = violations == 0 and examined >= check.min_examined
    sample = _fetch_sample(cur, check, params) if violations else []
    return CheckResult(check.name, passed, examined, violations, sample, check.description,
                       check.min_examined, time.perf_counter() - t0)


def run_checks(cur, checks, params: dict | None = None) -> list[CheckResult]:
    """Run every check (in order) and return all results; raising is the caller's choice."""
    prepared: set[str] = set()
    out = []
    for c in checks:
        t0 = time.perf_counter()
        if c.prepare_sql and c.prepare_sql not in prepared:
            for statement in c.prepare_sql.split(";\n"):
                if statement.strip():
                    cur.execute(statement, dict(params or {}))
            prepared.add(c.prepare_sql)
        r = run_check(cur, c, params)
        r.seconds = time.perf_counter() - t0  # with the preparation it triggered
        out.append(r)
    return out


def raise_on_failure(results: list[CheckResult]) -> None:
    """Raise CheckFailed for the first failed result, carrying all of them."""
    for r in results:
        if not r.passed:
            raise CheckFailed(r, results)
