"""The batches rules over the daily state, as frame rules: this load writes both the year's
assignments and its daily state, so the frames are gathered as they pass (assignments of other
years come from the warehouse) and judged once the last is in; row rules are decided per frame.
Same names and invariants as batches.py.
"""
from __future__ import annotations

import numpy as np

from ..warehouse.frame_checks import FrameCheck, FrameTotal
from .frame_dims import ASSIGNMENTS, LAST_DAY, OPEN, Assignments, ById, fetch, jan1, owning_year_rule, take

A, S = "batch.batch_container_assignment", "batch.assignment_daily_state"
CONTAINERS = """SELECT string_agg(int4send(id) || int4send(max_count) || float8send(max_biomass_kg)
                    || float8send(volume_m3) || boolsend(is_sea), ''::bytea) FROM infrastructure.container"""
STATE = ("assignment_id", "state_date", "population", "deaths")


def _day(v) -> np.ndarray:
    """A nullable date column (object with None, or masked) as unix days, OPEN for NULL."""
    if isinstance(v, np.ma.MaskedArray):
        return np.where(v.mask, OPEN, v.filled(0).astype(np.int64))
    if v.dtype == object:
        return np.where(np.equal(v, None), OPEN, v).astype(np.int64)
    return v.astype(np.int64)


class Batches:
    statements = (ASSIGNMENTS, CONTAINERS)

    def __init__(self, cur, params: dict):
        self.year = int(params["year"])
        self.stored = Assignments.read(cur)  # other years': this year's partition is being rewritten
        ids, n_max, kg_max, volume, sea = fetch(cur, CONTAINERS, (">i4", ">i4", ">f8", ">f8", "?"))
        self.containers, self.c_max, self.c_kg, self.c_volume, self.c_sea = ById(ids), n_max, kg_max, volume, sea
        self.own: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.rows: list[tuple[np.ndarray, ...]] = []
        self._windows = None
        self._assignments = None  # gathered once, after the last frame, for every verdict

    def add(self, table: str, cols) -> None:
        if table == A:
            self.own.append((cols["id"].astype(np.int64), cols["assignment_date"].astype(np.int64),
                             _day(cols["departure_date"]), cols["container_id"].astype(np.int64)))
        elif table == S:
            self.rows.append(tuple(np.asarray(cols[c]) for c in STATE))

    def assignments(self):
        """(ids, start, end, container) of this load's assignments, then the stored ones it does not
        rewrite (a load replaces its year's rows; the stored ones of other years stay)."""
        if self._assignments is None:
            own = [np.concatenate(c) for c in zip(*self.own)] if self.own else [np.zeros(0, np.int64)] * 4
            st, stored_ids = self.stored, _stored_ids(self.stored)
            keep = ~np.isin(stored_ids, own[0])
            self._assignments = [np.concatenate([mine, theirs[keep]]) for mine, theirs in
                                 zip(own, (stored_ids, st.start, st.end, st.container.astype(np.int64)))]
        return self._assignments

    def windows(self):
        """Every assignment's id index, start and end, and the daily state rows sorted by
        (assignment, date) as (assignment_id, state_date, population, deaths)."""
        if self._windows is None:
            ids, start, end, _ = self.assignments()
            rows = ([np.concatenate(c) for c in zip(*self.rows)] if self.rows
                    else [np.zeros(0, np.int64)] * len(STATE))
            order = np.lexsort((rows[1], rows[0]))
            self._windows = (ById(ids), start, end, [r[order] for r in rows], ids)
        return self._windows


def _stored_ids(a: Assignments) -> np.ndarray:
    """The ids of the stored assignments, in the order of their start and end arrays."""
    if a.index.dense:
        ids = np.flatnonzero(a.index.table[:-1] >= 0)
        return ids[np.argsort(a.index.table[ids])]
    return a.index.sorted[np.argsort(a.index.order)]


def _sample(bad: np.ndarray, names, columns) -> list[dict[str, str]]:
    return [{n: str(c[r]) for n, c in zip(names, columns)} for r in np.flatnonzero(bad)[:5]]


def _double_booking_verdict(ctx: Batches):
    """This year's assignments sharing a container with an overlapping window of any stored year.
    Sorted by container and start, an interval overlaps another iff it starts before the latest end
    of those before it, or the next one starts before it ends."""
    ids, start, end, container = ctx.assignments()
    n_own = sum(len(c[0]) for c in ctx.own)
    end = np.where(end == OPEN, LAST_DAY + 1, end)  # an open window runs past the last stored day
    order = np.lexsort((start, container))
    c, s, e = container[order], start[order], end[order]
    first = np.r_[True, c[1:] != c[:-1]]
    prev_end = _running_end_before(e, first)
    nxt_same = np.r_[c[1:] == c[:-1], False]
    overlap = (s < prev_end) | (nxt_same & (np.r_[s[1:], 0] < e))
    bad = np.zeros(len(ids), bool)
    bad[order] = overlap
    mine = bad[:n_own]
    return n_own, int(mine.sum()), _sample(mine, ("assignment_id", "container_id", "assignment_date"),
                                           (ids, container, start))


def _running_end_before(end: np.ndarray, first: np.ndarray) -> np.ndarray:
    """For each interval, the latest end among the earlier ones of its container (-1 for the first)."""
    out = np.full(len(end), -1, np.int64)
    if len(end):
        prev = np.r_[-1, end[:-1]]
        prev[first] = -1
        # restart the running maximum at each container: offset every group above the previous ones
        group = np.cumsum(first) - 1
        shift = group * (int(end.max()) + 2)
        out = np.maximum.accumulate(np.where(prev < 0, shift - 1, prev + shift)) - shift
        out[first] = -1
    return out


def _window_verdict(ctx: Batches):
    index, start, end, (ass, day, _, _), _ = ctx.windows()
    pos = index.at(ass)
    known = pos >= 0
    bad = known & ((day < take(start, pos, 0)) | (day >= take(end, pos, OPEN)))
    return int(known.sum()), int(bad.sum()), _sample(bad, ("assignment_id", "state_date"), (ass, day))


def _continuity_verdict(ctx: Batches):
    _, _, _, (ass, day, population, deaths), _ = ctx.windows()
    same = ass[1:] == ass[:-1]
    bad = np.zeros(len(ass), bool)
    bad[:-1] = same & (population[1:] != population[:-1] - deaths[:-1])
    return len(ass), int(bad.sum()), _sample(bad, ("assignment_id", "state_date", "population", "deaths"),
                                             (ass, day, population, deaths))


def _coverage_verdict(ctx: Batches):
    """One row per day of each window inside the year, for every stored assignment (the SQL form's
    FULL JOIN of expected window days with the rows per assignment)."""
    index, start, end, (ass, day, _, _), ids = ctx.windows()
    first, stop = jan1(ctx.year), jan1(ctx.year + 1)
    pos = index.at(ids)
    expected_days = np.minimum(np.minimum(take(end, pos, OPEN), LAST_DAY + 1), stop) - np.maximum(take(start, pos, 0), first)
    overlap = (take(start, pos, OPEN) < stop) & (np.minimum(take(end, pos, OPEN), LAST_DAY + 1) > first)
    keep = index.at(ass) >= 0
    a, d = ass[keep], day[keep]
    u, rows = np.unique(a, return_counts=True)
    new_pair = np.ones(len(a), bool)
    new_pair[1:] = (a[1:] != a[:-1]) | (d[1:] != d[:-1])
    distinct = np.bincount(np.searchsorted(u, a[new_pair]), minlength=len(u))
    keys = np.union1d(ids[overlap], u)
    want, got, dist = np.zeros(len(keys), np.int64), np.zeros(len(keys), np.int64), np.zeros(len(keys), np.int64)
    want[np.searchsorted(keys, ids[overlap])] = expected_days[overlap]
    got[np.searchsorted(keys, u)], dist[np.searchsorted(keys, u)] = rows, distinct
    bad = (got != want) | (got != dist)
    return len(keys), int(bad.sum()), _sample(bad, ("assignment_id", "window_days", "state_rows", "distinct_days"),
                                              (keys, want, got, dist))


def _over_capacity(cols, ctx: Batches) -> np.ndarray:
    c = ctx.containers.at(cols["container_id"])
    biomass = cols["biomass_kg"].astype(np.float64)
    w = cols["avg_weight_g"]
    density_max = np.select([w < 1000, w < 2000, w < 3000], [10, 15, 20], 25)
    return ((c < 0) | (cols["population"] > take(ctx.c_max, c, -1)) | (biomass > take(ctx.c_kg, c, -1.0) * 1.0001)
            | (take(ctx.c_sea, c, False) & (biomass / take(ctx.c_volume, c, 1.0) > density_max)))


def _negative(cols, _) -> np.ndarray:
    p, d = cols["population"], cols["deaths"]
    return (p < 0) | (d < 0) | (d > p)


FRAME_RULES = [
    owning_year_rule(S, "state_date", Batches),
    FrameTotal("no_double_booking", "a container never holds two batches at once (this year's assignments "
               "against every stored one, gathered over the frames)", Batches, _double_booking_verdict),
    FrameTotal("assignment_daily_state_in_assignment_window", "every daily state row lies inside its stored "
               "assignment's window (gathered over the frames)", Batches, _window_verdict, min_examined=0),
    FrameTotal("daily_state_covers_window", "every stored assignment has exactly one daily state row for each "
               "day of its window in the year (gathered over the frames)", Batches, _coverage_verdict),
    FrameTotal("population_continuity", "within an assignment, tomorrow's fish = today's fish - today's deaths "
               "(gathered over the frames)", Batches, _continuity_verdict),
    FrameCheck("container_capacity", "no container holds more fish or biomass than it allows, sea pens within "
               "the density limits (every row, as written)", S, _over_capacity, lookup=Batches),
    FrameCheck("fish_non_negative", "no negative fish and never more deaths than fish (every row, as written)",
               S, _negative, lookup=Batches),
]
