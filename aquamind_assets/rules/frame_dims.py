"""What the frame rules look rows up in: dimension tables read once per load as numpy columns, and
the row rules every yearly table shares (owning year, inside the assignment's window).

The SQL forms of the shared rules are in common.py; these decide the same invariants on the frames.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config.years import FIRST_YEAR, LAST_DATE
from ..warehouse.frame_checks import FrameCheck

US_PER_DAY = 86_400_000_000
OPEN = np.iinfo(np.int64).max
EPOCH = np.datetime64("1970-01-01")
LAST_DAY = int((np.datetime64(LAST_DATE) - EPOCH).astype(np.int64))  # unix day of the last stored day
ASSIGNMENTS = """SELECT string_agg(int4send(id) || int4send(assignment_date - DATE '1970-01-01')
                     || int4send(coalesce(departure_date - DATE '1970-01-01', 2147483647))
                     || int4send(batch_id) || int4send(lifecycle_stage_id) || int4send(container_id), ''::bytea)
                 FROM batch.batch_container_assignment"""  # an open assignment reads as int32 max


def jan1(year: int) -> int:
    """Unix day of 1 January of the year."""
    return int((np.datetime64(f"{year}-01-01") - EPOCH).astype(np.int64))


class ById:
    """Rows of a dimension keyed by integer id: `at(ids)` gives positions (-1 where the id is absent).

    Ids are serials, so the lookup is one gather through an id -> position table (a binary search
    when ids are too sparse for one)."""

    def __init__(self, ids: np.ndarray):
        ids = np.asarray(ids, np.int64)
        self.dense = not len(ids) or (ids.min() >= 0 and ids.max() <= 16 * len(ids) + 1_000_000)
        if self.dense:
            self.table = np.full(int(ids.max(initial=-1)) + 2, -1, np.int64)  # last slot: out of range
            self.table[ids] = np.arange(len(ids))
        else:
            self.order = np.argsort(ids, kind="stable")
            self.sorted = ids[self.order]

    def at(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, np.int64)
        if self.dense:
            top = len(self.table) - 1
            return self.table[np.where((ids >= 0) & (ids < top), ids, top)]
        if not len(self.sorted):
            return np.full(len(ids), -1, np.int64)
        i = np.minimum(np.searchsorted(self.sorted, ids), len(self.sorted) - 1)
        return np.where(self.sorted[i] == ids, self.order[i], -1)


def fetch(cur, statement: str, wire: tuple[str, ...], params: dict | None = None) -> list[np.ndarray]:
    """Columns of NOT NULL fixed-width values as numpy arrays (`wire`: each column's big-endian dtype,
    e.g. '>i4', '>f8', '?'). The statement returns one bytea, the `string_agg` of every row's fields in
    their binary send forms (int4send, float8send, boolsend), so many rows arrive as one value rather
    than one message per row. A row with a NULL drops out whole, so its id reads as absent and the
    rules count the rows naming it."""
    (data,) = cur.execute(statement, params).fetchone()
    rows = np.frombuffer(data or b"", np.dtype([(f"c{i}", w) for i, w in enumerate(wire)]))
    return [rows[f"c{i}"].astype(np.dtype(w).newbyteorder("=")) for i, w in enumerate(wire)]


def take(values: np.ndarray, pos: np.ndarray, missing):
    """values[pos], `missing` where pos is -1 (one gather: -1 picks the appended last element)."""
    return np.append(values, np.asarray(missing, values.dtype))[pos]


@dataclass
class Assignments:
    """The stored assignments: windows [start, end) in unix days (end OPEN while still open), batch,
    stage, container."""
    index: ById
    start: np.ndarray
    end: np.ndarray
    batch: np.ndarray
    stage: np.ndarray
    container: np.ndarray

    @classmethod
    def read(cls, cur) -> "Assignments":
        ids, start, end, batch, stage, container = fetch(cur, ASSIGNMENTS, (">i4",) * 6)
        end = np.where(end == np.iinfo(np.int32).max, OPEN, end.astype(np.int64))
        return cls(ById(ids), start.astype(np.int64), end, batch, stage, container)

    def outside(self, assignment_ids: np.ndarray, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(rows whose assignment is stored, those of them dated outside its window)."""
        pos = self.index.at(assignment_ids)
        stored = pos >= 0
        return stored, stored & ((days < take(self.start, pos, 0)) | (days >= take(self.end, pos, OPEN)))


def year_bounds(year: int) -> tuple[int, int]:
    """[first, stop) unix days a row owned by the year may carry: FIRST_YEAR owns everything earlier,
    nothing lies after the last stored day."""
    first = np.iinfo(np.int64).min if year <= FIRST_YEAR else jan1(year)
    return first, min(jan1(year + 1), LAST_DAY + 1)


def day_of(cols, column: str) -> np.ndarray:
    """A frame's date column (unix days) or timestamp column (microseconds) as unix days (UTC)."""
    v = cols[column]
    return v // US_PER_DAY if v.dtype == np.int64 else v.astype(np.int64)


def owning_year_rule(table: str, column: str, lookup, min_examined: int = 1) -> FrameCheck:
    """Frame form of common.owning_year (same name)."""
    def bad(cols, ctx):
        first, stop = year_bounds(ctx.year)
        d = day_of(cols, column)
        return (d < first) | (d >= stop)
    return FrameCheck(f"{table.split('.')[-1]}_owning_year", f"the owning year is the {column}'s year "
                      f"({FIRST_YEAR} for earlier rows); no date after {LAST_DATE} (every row, as written)",
                      table, bad, lookup=lookup, min_examined=min_examined)


def in_window_rule(table: str, column: str, what: str, lookup) -> FrameCheck:
    """Frame form of common.in_window (same name): rows whose assignment is stored, inside its window."""
    def stored(cols, ctx):
        return ctx.assignments.outside(cols["assignment_id"], day_of(cols, column))[0]

    def bad(cols, ctx):
        return ctx.assignments.outside(cols["assignment_id"], day_of(cols, column))[1]
    return FrameCheck(f"{table.split('.')[-1]}_in_assignment_window", f"every {what} lies inside its stored "
                      "assignment's window (docs/domain.md §2; every row with a stored assignment, as written)",
                      table, bad, lookup=lookup, examined=stored, min_examined=0)
