"""The readings rules as FrameChecks: every row, as it streams, against the stored dimensions.

Same names and invariants as the SQL audit in environment.py; see warehouse/frame_checks.py for
why the largest table is checked this way. The dimensions (assignments, sensors, containers,
parameters) are read once per load inside the load's transaction.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config.years import FIRST_YEAR, LAST_DATE
from ..warehouse.frame_checks import FrameCheck, FrameTotal
from .frame_dims import OPEN, US_PER_DAY, Assignments, ById, fetch, jan1, take

R = "environmental.environmental_reading"


def _year_start_us(year: int) -> int:
    return jan1(year) * US_PER_DAY


@dataclass
class Dimensions:
    year_start_us: int
    year_end_us: int
    assignment: ById
    a_start: np.ndarray  # unix day of assignment_date
    a_end: np.ndarray  # unix day of departure_date (OPEN when NULL)
    sensor: ById
    s_container: np.ndarray
    s_parameter: np.ndarray
    container: ById
    c_sea: np.ndarray
    parameter: ById
    p_min: np.ndarray
    p_max: np.ndarray
    p_sea_only: np.ndarray
    p_temperature: np.ndarray


DIMENSION_TABLES = ("batch.batch_container_assignment", "infrastructure.sensor", "infrastructure.container",
                    "environmental.environmental_parameter")


def dimensions(cur, params: dict) -> Dimensions:
    """The stored rows the readings rules compare against (one query per dimension)."""
    year = int(params["year"])
    a = Assignments.read(cur)
    s = fetch(cur, """SELECT string_agg(int4send(id) || int4send(container_id) || int4send(parameter_id), ''::bytea)
                       FROM infrastructure.sensor""", (">i4", ">i4", ">i4"))
    c = fetch(cur, "SELECT string_agg(int4send(id) || boolsend(is_sea), ''::bytea) FROM infrastructure.container",
               (">i4", "?"))
    p = fetch(cur, """SELECT string_agg(int4send(id) || float8send(min_value::float8) || float8send(max_value::float8)
                                         || boolsend(sea_only) || boolsend(code = 'temperature'), ''::bytea)
                       FROM environmental.environmental_parameter""", (">i4", ">f8", ">f8", "?", "?"))
    return Dimensions(
        year_start_us=_year_start_us(year) if year > FIRST_YEAR else np.iinfo(np.int64).min,
        year_end_us=_year_start_us(year + 1),
        assignment=a.index, a_start=a.start, a_end=a.end,
        sensor=ById(s[0].astype(np.int64)), s_container=s[1].astype(np.int64), s_parameter=s[2].astype(np.int64),
        container=ById(c[0].astype(np.int64)), c_sea=c[1].astype(bool),
        parameter=ById(p[0].astype(np.int64)), p_min=p[1], p_max=p[2],
        p_sea_only=p[3].astype(bool), p_temperature=p[4].astype(bool))


def _bad_year(cols, d: Dimensions) -> np.ndarray:
    t = cols["reading_time"]
    return (t >= d.year_end_us) | (t < d.year_start_us)


def _has_assignment(cols, d: Dimensions) -> np.ndarray:
    return d.assignment.at(cols["assignment_id"]) >= 0


def _bad_window(cols, d: Dimensions) -> np.ndarray:
    pos = d.assignment.at(cols["assignment_id"])
    day = cols["reading_time"] // US_PER_DAY
    return (pos >= 0) & ((day < take(d.a_start, pos, 0)) | (day >= take(d.a_end, pos, OPEN)))


def _container_is_sea(cols, d: Dimensions) -> np.ndarray:
    return take(d.c_sea, d.container.at(cols["container_id"]), False)


def _bad_sensor(cols, d: Dimensions) -> np.ndarray:
    pos = d.sensor.at(cols["sensor_id"])
    sea_only = take(d.p_sea_only, d.parameter.at(cols["parameter_id"]), False)
    return ((pos < 0) | (take(d.s_container, pos, -1) != cols["container_id"])
            | (take(d.s_parameter, pos, -1) != cols["parameter_id"]) | (sea_only & ~_container_is_sea(cols, d)))


def _bad_value(cols, d: Dimensions) -> np.ndarray:
    pos = d.parameter.at(cols["parameter_id"])
    v = cols["value"].astype(np.float64)
    hot_sea = take(d.p_temperature, pos, False) & (v > 18.0) & _container_is_sea(cols, d)
    return (pos < 0) | (v < take(d.p_min, pos, np.inf)) | (v > take(d.p_max, pos, -np.inf)) | hot_sea


D = "environmental.environmental_reading_daily"


class ParameterTotals:
    """Per parameter, the readings' row count and value sum, and the daily rollup's count and
    count-weighted mean sum, gathered from every frame of the load (np.bincount, no sort)."""

    def __init__(self, cur=None, params=None):
        self.n = np.zeros((2, 64), np.int64)  # [readings, rollup] x parameter id
        self.total = np.zeros((2, 64))
        self.rollup_rows = np.zeros(64, np.int64)

    def _grow(self, top: int) -> None:
        if top >= self.n.shape[1]:
            pad = top + 1 - self.n.shape[1]
            self.n, self.total = (np.pad(a, ((0, 0), (0, pad))) for a in (self.n, self.total))
            self.rollup_rows = np.pad(self.rollup_rows, (0, pad))

    def add(self, table: str, cols) -> None:
        if table not in (R, D) or not len(cols["parameter_id"]):
            return
        p = cols["parameter_id"].astype(np.int64)
        self._grow(int(p.max()))
        size = self.n.shape[1]
        if table == R:
            self.n[0] += np.bincount(p, minlength=size)
            self.total[0] += np.bincount(p, weights=cols["value"].astype(np.float64), minlength=size)
        else:
            count = cols["reading_count"].astype(np.int64)
            self.n[1] += np.bincount(p, weights=count, minlength=size).astype(np.int64)
            self.total[1] += np.bincount(p, weights=cols["mean_value"].astype(np.float64) * count, minlength=size)
            self.rollup_rows += np.bincount(p, minlength=size)


def _rollup_verdict(t: ParameterTotals):
    # the means are float4: each within 2^-24 of its value, so a sum within 1e-6 of the readings'
    close = np.abs(t.total[0] - t.total[1]) <= 1e-6 * np.maximum(1.0, np.abs(t.total[0]))
    bad = np.flatnonzero((t.n[0] != t.n[1]) | ~close)
    sample = [{"parameter_id": str(p), "readings": str(t.n[0, p]), "rollup_count": str(t.n[1, p]),
               "readings_sum": f"{t.total[0, p]:.6f}", "rollup_sum": f"{t.total[1, p]:.6f}"} for p in bad[:5]]
    # every rollup row of a parameter whose totals disagree; a parameter read but never rolled up counts once
    violations = int(t.rollup_rows[bad].sum()) + int(np.sum(t.rollup_rows[bad] == 0))
    return int(t.rollup_rows.sum()), violations, sample


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
    FrameTotal("environmental_reading_daily_matches_readings", "the daily rollup accounts for every reading as "
               "written: per parameter, its counts sum to the readings' rows and its count-weighted means to their "
               "values' sum (the audit holds every sensor-day's count, mean, minimum and maximum to the stored "
               "readings)", ParameterTotals, _rollup_verdict),
]
