"""What a load leaves behind besides its rows: the record in meta.partition_load (rows per table,
checksum of the COPY payload, scenario, code version, seconds per phase), its rules' results in
meta.rule_evaluation, and the LoadResult handed to the caller."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from psycopg.types.json import Jsonb

from .checks import CheckResult


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
    storage: str = "native"  # the warehouse's storage path (storage.py)
    compression: dict[str, dict] = field(default_factory=dict)  # per hypertable, after the commit: bytes, seconds

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


def write_record(cur, asset: str, year: int, scenario_hash: str, code_version: str, rows: dict[str, int],
                 checksum: str, duration: float, phases: dict[str, float]) -> None:
    """Upsert the load record; `phases` are the seconds up to the checks (the commit is timed
    after it, in the Dagster metadata)."""
    cur.execute(
        """INSERT INTO meta.partition_load
               (asset, year, scenario_hash, code_version, rows, checksum, loaded_at, duration_s, phases)
           VALUES (%s, %s, %s, %s, %s, %s, now(), %s, %s)
           ON CONFLICT (asset, year) DO UPDATE SET scenario_hash = EXCLUDED.scenario_hash,
               code_version = EXCLUDED.code_version, rows = EXCLUDED.rows,
               checksum = EXCLUDED.checksum, loaded_at = EXCLUDED.loaded_at,
               duration_s = EXCLUDED.duration_s, phases = EXCLUDED.phases""",
        (asset, year, scenario_hash, code_version, Jsonb(rows), checksum, duration,
         Jsonb({k: round(v, 4) for k, v in phases.items()})))


def write_evaluations(cur, asset: str, year: int, results: list[CheckResult], *, source: str,
                      committed: bool) -> None:
    """Upsert each rule's latest result for (asset, year), source ('load' or 'audit') and `committed`:
    whether the rows it judged were kept (False: the load rolled back, and its results sit beside
    those of the year still stored instead of over them)."""
    cur.executemany(
        """INSERT INTO meta.rule_evaluation
               (rule, asset, year, source, examined, violations, passed, committed, sample, description, seconds,
                evaluated_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now())
           ON CONFLICT (rule, asset, year, source, committed) DO UPDATE SET examined = EXCLUDED.examined,
               violations = EXCLUDED.violations, passed = EXCLUDED.passed,
               sample = EXCLUDED.sample, description = EXCLUDED.description, seconds = EXCLUDED.seconds,
               evaluated_at = EXCLUDED.evaluated_at""",
        [(r.name, asset, year, source, r.examined, r.violations, r.passed, committed, Jsonb(r.sample[:5]),
          r.description, round(r.seconds, 4)) for r in results])
