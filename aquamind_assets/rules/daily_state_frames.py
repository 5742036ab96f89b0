"""The year's daily state as the feeding and mortality frame rules hold their rows against it.

Reading a year of daily state back (a million rows at `full`) costs as much as the SQL rules it
replaces. It is also already known: when the batches asset's stored year was rendered from the
plan this load renders from (its load record carries this load's scenario hash and code version,
which hash the simulation and the renderers, and years render byte-identically), the rows are
rendered again from the plan in memory, exactly as stored. Otherwise (no plan given, or the
stored year came from other code) they are read from the warehouse. Rows changed behind the
loader's back are the audit's to find (`aquamind validate`, the SQL forms).
"""
from __future__ import annotations

import numpy as np

from ..export.batches import daily_state
from .frame_dims import ASSIGNMENTS, Assignments, fetch

STORED = """SELECT string_agg(int4send(assignment_id) || int4send(state_date - DATE '1970-01-01')
                || int4send(batch_id) || int4send(container_id) || int4send(lifecycle_stage_id)
                || float4send(biomass_kg) || float4send(avg_weight_g) || float4send(feed_kg) || int4send(deaths)
                || int4send(population),
                ''::bytea)
            FROM batch.assignment_daily_state WHERE year = %(year)s"""
BATCHES_RECORD = """SELECT scenario_hash, code_version FROM meta.partition_load
                    WHERE asset = 'batches' AND year = %(year)s"""
STATEMENTS = (STORED, BATCHES_RECORD)
COLUMNS = ("assignment_id", "state_date", "batch_id", "container_id", "lifecycle_stage_id", "biomass_kg",
           "avg_weight_g", "feed_kg", "deaths", "population")
WIRE = (">i4", ">i4", ">i4", ">i4", ">i4", ">f4", ">f4", ">f4", ">i4", ">i4")
_KEY = 100_000  # > any unix day of the history: assignment_id * _KEY + day is unique


def year_state(cur, params: dict) -> dict[str, np.ndarray]:
    """The stored daily state of params['year'] as columns (rendered from params['source'] when its
    provenance matches, see the module docstring)."""
    year = {"year": params["year"]}
    record = cur.execute(BATCHES_RECORD, year).fetchone()
    plan = params.get("source")
    if plan is not None and record is not None and tuple(record) == (params.get("scenario_hash"),
                                                                       params.get("code_version")):
        cols = daily_state(plan, int(params["year"]))
        return {c: np.asarray(cols[c]) for c in COLUMNS}
    return dict(zip(COLUMNS, fetch(cur, STORED, WIRE, year)))


class StateIndex:
    """Positions of (assignment, day) pairs among a year's daily state rows (-1: no such row)."""

    def __init__(self, state: dict[str, np.ndarray]):
        key = state["assignment_id"].astype(np.int64) * _KEY + state["state_date"].astype(np.int64)
        self.order = np.argsort(key, kind="stable")
        self.sorted = key[self.order]
        self.n = len(key)

    def at(self, assignment_ids: np.ndarray, days: np.ndarray) -> np.ndarray:
        if not self.n:
            return np.full(len(days), -1, np.int64)
        key = np.asarray(assignment_ids, np.int64) * _KEY + np.asarray(days, np.int64)
        i = np.minimum(np.searchsorted(self.sorted, key), self.n - 1)
        return np.where(self.sorted[i] == key, self.order[i], -1)


def sums_by_key(keys: list[np.ndarray], *values: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    """Unique keys (sorted) and, per value list, the float64 sum of its values per key."""
    k = np.concatenate(keys) if keys else np.zeros(0, np.int64)
    uniq, inverse = np.unique(k, return_inverse=True)
    return (uniq, *(np.bincount(inverse, weights=np.concatenate(v) if v else None, minlength=len(uniq))
                    for v in values))


class YearOfState:
    """What the frame rules of an operations load look rows up in: the stored assignments and the
    year's daily state, indexed by (assignment, day). Subclasses add their own totals."""

    statements = (ASSIGNMENTS, *STATEMENTS)

    def __init__(self, cur, params: dict):
        self.year = int(params["year"])
        self.assignments = Assignments.read(cur)
        self.state = year_state(cur, params)
        self.index = StateIndex(self.state)
