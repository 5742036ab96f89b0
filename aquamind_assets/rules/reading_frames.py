"""The readings rules as FrameChecks: every row, as it streams, against the stored dimensions.

Same names and invariants as the SQL audit in environment.py; see warehouse/frame_checks.py for
why the largest table is checked this way. The dimensions (assignments, sensors, containers,
parameters) are read once per load inside the load's transaction.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config.years import FIRST_YEAR, LAST_DATE
from ..warehouse.frame_checks import FrameCheck

R = "environmental.environmental_reading"
US_PER_DAY = 86_400_000_000
OPEN = np.iinfo(np.int64).max


def _year_start_us(year: int) -> int:
    return int((np.datetime64(f"{year}-01-01") - np.datetime64("1970-01-01")).astype(np.int64)) * US_PER_DAY


class _ById:
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
        if self.dense:
            top = len(self.table) - 1
            return self.table[np.where((ids >= 0) & (ids < top), ids, top)]
        i = np.minimum(np.searchsorted(self.sorted, ids), len(self.sorted) - 1)
        return np.where(self.sorted[i] == ids, self.order[i], -1)


@dataclass
class Dimensions:
    year_start_us: int
    year_end_us: int
    assignment: _ById
    a_start: np.ndarray  # unix day of assignment_date
    a_end: np.ndarray  # unix day of departure_date (OPEN when NULL)
    sensor: _ById
    s_container: np.ndarray
    s_parameter: np.ndarray
    container: _ById
    c_sea: np.ndarray
    parameter: _ById
    p_min: np.ndarray
    p_max: np.ndarray
    p_sea_only: np.ndarray
    p_temperature: np.ndarray


def _fetch(cur, statement: str, wire: tuple[str, ...]) -> list[np.ndarray]:
    """Columns of NOT NULL fixed-width values as numpy arrays (`wire`: each column's big-endian dtype,
    e.g. '>i4', '>f8', '?'). The statement returns one bytea, the `string_agg` of every row's fields in
    their binary send forms (int4send, float8send, boolsend), so 120 K rows arrive as one value rather
    than one COPY message per row (measured: 0.075 s against 0.25 s for the assignments). A row with a
    NULL drops out whole, so its id reads as absent and the rules count the readings naming it."""
    (data,) = cur.execute(statement).fetchone()
    rows = np.frombuffer(data or b"", np.dtype([(f"c{i}", w) for i, w in enumerate(wire)]))
    return [rows[f"c{i}"].astype(np.dtype(w).newbyteorder("=")) for i, w in enumerate(wire)]


DIMENSION_TABLES = ("batch.batch_container_assignment", "infrastructure.sensor", "infrastructure.container",
                    "environmental.environmental_parameter")


def dimensions(cur, params: dict) -> Dimensions:
    """The stored rows the readings rules compare against (one query per dimension)."""
    year = int(params["year"])
    a = _fetch(cur, """SELECT string_agg(int4send(id) || int4send(assignment_date - DATE '1970-01-01')
                                         || int4send(coalesce(departure_date - DATE '1970-01-01', 2147483647)),
                                         ''::bytea)
                       FROM batch.batch_container_assignment""",
               (">i4", ">i4", ">i4"))  # an open assignment (NULL departure) reads as int32 max
    s = _fetch(cur, """SELECT string_agg(int4send(id) || int4send(container_id) || int4send(parameter_id), ''::bytea)
                       FROM infrastructure.sensor""", (">i4", ">i4", ">i4"))
    c = _fetch(cur, "SELECT string_agg(int4send(id) || boolsend(is_sea), ''::bytea) FROM infrastructure.container",
               (">i4", "?"))
    p = _fetch(cur, """SELECT string_agg(int4send(id) || float8send(min_value::float8) || float8send(max_value::float8)
                                         || boolsend(sea_only) || boolsend(code = 'temperature'), ''::bytea)
                       FROM environmental.environmental_parameter""", (">i4", ">f8", ">f8", "?", "?"))
    end = np.where(a[2] == np.iinfo(np.int32).max, OPEN, a[2].astype(np.int64))
    return Dimensions(
        year_start_us=_year_start_us(year) if year > FIRST_YEAR else np.iinfo(np.int64).min,
        year_end_us=_year_start_us(year + 1),
        assignment=_ById(a[0].astype(np.int64)), a_start=a[1].astype(np.int64), a_end=end,
        sensor=_ById(s[0].astype(np.int64)), s_container=s[1].astype(np.int64), s_parameter=s[2].astype(np.int64),
        container=_ById(c[0].astype(np.int64)), c_sea=c[1].astype(bool),
        parameter=_ById(p[0].astype(np.int64)), p_min=p[1], p_max=p[2],
        p_sea_only=p[3].astype(bool), p_temperature=p[4].astype(bool))


def _take(values: np.ndarray, pos: np.ndarray, missing):
    """values[pos], `missing` where pos is -1 (one gather: -1 picks the appended last element)."""
    return np.append(values, np.asarray(missing, values.dtype))[pos]


def _bad_year(cols, d: Dimensions) -> np.ndarray:
    t = cols["reading_time"]
    return (t >= d.year_end_us) | (t < d.year_start_us)


def _has_assignment(cols, d: Dimensions) -> np.ndarray:
    return d.assignment.at(cols["assignment_id"]) >= 0


def _bad_window(cols, d: Dimensions) -> np.ndarray:
    pos = d.assignment.at(cols["assignment_id"])
    day = cols["reading_time"] // US_PER_DAY
    return (pos >= 0) & ((day < _take(d.a_start, pos, 0)) | (day >= _take(d.a_end, pos, OPEN)))


def _container_is_sea(cols, d: Dimensions) -> np.ndarray:
    return _take(d.c_sea, d.container.at(cols["container_id"]), False)


def _bad_sensor(cols, d: Dimensions) -> np.ndarray:
    pos = d.sensor.at(cols["sensor_id"])
    sea_only = _take(d.p_sea_only, d.parameter.at(cols["parameter_id"]), False)
    return ((pos < 0) | (_take(d.s_container, pos, -1) != cols["container_id"])
            | (_take(d.s_parameter, pos, -1) != cols["parameter_id"]) | (sea_only & ~_container_is_sea(cols, d)))


def _bad_value(cols, d: Dimensions) -> np.ndarray:
    pos = d.parameter.at(cols["parameter_id"])
    v = cols["value"].astype(np.float64)
    hot_sea = _take(d.p_temperature, pos, False) & (v > 18.0) & _container_is_sea(cols, d)
    return (pos < 0) | (v < _take(d.p_min, pos, np.inf)) | (v > _take(d.p_max, pos, -np.inf)) | hot_sea


FRAME_RULES = [
    FrameCheck("environmental_reading_owning_year", "the owning year is the reading's year; no date after "
               f"{LAST_DATE} (every row, as written)", R, _bad_year, lookup=dimensions, reads=DIMENSION_TABLES),
    FrameCheck("environmental_reading_in_assignment_window", "every reading lies inside its stored "
               "assignment's window (docs/domain.md §2; every row with a stored assignment, as written)", R,
               _bad_window, lookup=dimensions, reads=DIMENSION_TABLES, examined=_has_assignment, min_examined=0),
    FrameCheck("reading_sensor_matches", "a reading comes from a stored sensor of its own container and "
               "parameter, and salinity is read only in sea containers (docs/domain.md §7, §10; every row, as written)",
               R, _bad_sensor, lookup=dimensions, reads=DIMENSION_TABLES),
    FrameCheck("reading_in_range", "every value lies within its parameter's stored range; sea temperature "
               "never above 18 C (docs/domain.md §7; every row, as written)", R, _bad_value, lookup=dimensions, reads=DIMENSION_TABLES),
]
