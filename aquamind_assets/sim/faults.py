"""Sensor faults: where each sensor misbehaves, how, and by how much; the ground truth of a labelled
anomaly-detection benchmark.

Five kinds, each at a rate per sensor-year set by the scenario's `sensor_faults`:
gap (the sensor sends nothing for hours to days), spike (one reading off the pattern), stuck (the
sensor repeats one value for days), drift (an offset that grows slowly until the sensor is serviced)
and calibration (a sudden offset held until a recalibration). The whole decade is drawn at once from
the plan's seeded streams, so a year rendered alone sees exactly the faults it sees in a full run.

A fault is placed inside one assignment of the sensor's container and inside one calendar year: a
sensor only reports while its container is occupied, so every recorded fault touches stored
readings, and the year that owns it (the year of its start) holds every reading it changed. Faults
of one sensor never overlap, so each reading carries at most one label. Offsets are drawn in units
of a per-parameter scale; the nitrogen compounds vary over orders of magnitude, so their faults act
on the logarithm of the value (a factor).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config.scenario import SensorFaults
from ..config.years import FIRST_YEAR, LAST_YEAR
from .bounds import soft_clip
from .calendar import N_DAYS, YEAR, year_days
from .reference import PARAM_ID, PARAMETERS
from .rng import stream

KINDS = ("gap", "spike", "stuck", "drift", "calibration")
GAP, SPIKE, STUCK, DRIFT, CALIBRATION = range(len(KINDS))
MINUTES = 1440
# how long each kind lasts, in minutes (drawn log-uniformly): a spike is one reading; a stuck sensor
# covers at least one whole day, so a once-a-day parameter repeats its value at least once
DURATION = {GAP: (120, 3 * MINUTES), SPIKE: (1, 1), STUCK: (2 * MINUTES, 6 * MINUTES),
            DRIFT: (10 * MINUTES, 40 * MINUTES), CALIBRATION: (10 * MINUTES, 60 * MINUTES)}
# offsets in units of the parameter's scale (spike: the jump; drift: reached at the end; calibration: held)
OFFSET = {SPIKE: (4.0, 8.0), DRIFT: (2.0, 4.0), CALIBRATION: (1.0, 2.5)}
# a typical day-to-day change of a clean daily value: the scale of faults and of their detection
SCALE = np.zeros(len(PARAMETERS) + 1)
for _code, _s in (("temperature", 0.5), ("dissolved_oxygen", 0.5), ("oxygen_saturation", 4.0), ("ph", 0.1),
                  ("salinity", 1.0), ("co2", 1.0), ("no2", 0.3), ("no3", 0.3), ("nh4", 0.3)):
    SCALE[PARAM_ID[_code]] = _s
LOG_SCALE = np.isin(np.arange(len(SCALE)), [PARAM_ID[p] for p in ("no2", "no3", "nh4")])


@dataclass(frozen=True)
class Faults:
    """Every fault of the decade, sorted by (sensor, start); times in minutes from the first simulated day."""

    sensor: np.ndarray  # sensor id
    start: np.ndarray
    end: np.ndarray  # exclusive
    kind: np.ndarray
    offset: np.ndarray  # spike, drift, calibration: in the parameter's unit (log for LOG_SCALE); else 0

    @property
    def key(self) -> np.ndarray:
        return (self.sensor.astype(np.int64) << 40) | self.start

    def of_year(self, year: int) -> np.ndarray:
        """Indices of the faults owned by `year` (the year of their start)."""
        return np.flatnonzero(YEAR[self.start // MINUTES] == year)


def _assignment_holding(plan, container: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Whether one assignment of each container covers every day from first to last."""
    a = plan.assignment
    end = np.where(a["end"] < 0, N_DAYS, a["end"]).astype(np.int64)
    key = a["container"].astype(np.int64) * N_DAYS + a["start"]
    order = np.argsort(key, kind="stable")
    pos = np.searchsorted(key[order], container * N_DAYS + first, side="right") - 1
    j = order[np.maximum(pos, 0)]
    return (pos >= 0) & (a["container"][j] == container) & (a["start"][j] <= first) & (last < end[j])


def draw_faults(plan, lay, rates: dict[str, float]) -> Faults:
    """The decade's faults at `rates` (expected faults per sensor-year, by kind)."""
    s = plan.infra.tables["sensor"]
    sid, cont, par = (np.asarray(s[k], np.int64) for k in ("id", "container_id", "parameter_id"))
    seed = int(plan.stats.get("seed", 0))
    years = np.arange(FIRST_YEAR, LAST_YEAR + 1)
    first_day = np.array([year_days(y)[0] for y in years])
    n_days = np.array([year_days(y)[1] - year_days(y)[0] for y in years])
    parts = []
    for kind, name in enumerate(KINDS):
        rng = stream(seed, "sensor-faults", kind)
        count = rng.poisson(float(rates.get(name, 0.0)), size=(len(sid), len(years)))
        i, y = np.nonzero(count)
        i, y = np.repeat(i, count[i, y]), np.repeat(y, count[i, y])
        day = first_day[y] + (rng.random(len(i)) * n_days[y]).astype(np.int64)
        reading = (rng.random(len(i)) * lay.s_per_day[i]).astype(np.int64)  # a fault starts at a reading
        start = day * MINUTES + lay.s_offset[i] + reading * lay.s_spacing[i]
        lo, hi = DURATION[kind]
        end = start + np.round(np.exp(rng.uniform(np.log(lo), np.log(hi), len(i)))).astype(np.int64)
        sign = np.where(rng.random(len(i)) < 0.5, -1.0, 1.0)
        size = rng.uniform(*OFFSET.get(kind, (0.0, 0.0)), len(i))
        last = (end - 1) // MINUTES
        keep = ((last < first_day[y] + n_days[y]) & _assignment_holding(plan, cont[i], day, last))
        parts.append((sid[i][keep], start[keep], end[keep], np.full(keep.sum(), kind, np.int8),
                      (sign * size * SCALE[par[i]])[keep]))
    sensor, start, end, kind, offset = (np.concatenate(c) for c in zip(*parts))
    order = np.lexsort((kind, start, sensor))
    sensor, start, end, kind, offset = sensor[order], start[order], end[order], kind[order], offset[order]
    # drop a fault that begins before an earlier one of the same sensor has ended (sensor-major keys:
    # the running maximum of the previous ends never reaches across sensors)
    ends = (sensor << 40) | end
    prev = np.r_[np.int64(-1), np.maximum.accumulate(ends)[:-1]]
    keep = ((sensor << 40) | start) >= prev
    return Faults(sensor[keep].astype(np.int64), start[keep], end[keep], kind[keep], offset[keep])


FIELDS = ("sensor", "start", "end", "kind", "offset")


def attach_faults(plan, lay) -> None:
    """Draw the decade's faults into the plan as it is simulated, for the layout its readings use:
    every year's render then reads them from the stored plan instead of drawing them again."""
    f = draw_faults(plan, lay, plan.stats.get("sensor_faults", SensorFaults().model_dump()))
    plan.sensor_faults = {"cadence_key": lay.cadence_key, **{k: getattr(f, k) for k in FIELDS}}


def plan_faults(plan, lay) -> Faults:
    """The plan's faults at its scenario's rates: those stored with the plan for its own layout,
    else drawn once per plan object and layout (a layout other than the plan's own, or a plan
    simulated in this process)."""
    stored = getattr(plan, "sensor_faults", None)
    if stored and tuple(stored["cadence_key"]) == lay.cadence_key:
        return Faults(*(np.asarray(stored[k]) for k in FIELDS))
    cache = plan.__dict__.setdefault("_faults", {})
    key = (lay.cadence_key,)
    if key not in cache:
        cache[key] = draw_faults(plan, lay, plan.stats.get("sensor_faults", SensorFaults().model_dump()))
    return cache[key]


def gap_readings(faults: Faults, lay, year: int) -> int:
    """How many readings the year's gaps remove: a sensor reads on a lattice of one reading every
    `spacing` minutes from its offset, and a gap lies inside one occupied stretch of its container."""
    i = faults.of_year(year)
    i = i[faults.kind[i] == GAP]
    pos = faults.sensor[i] - 1
    o, sp = lay.s_offset[pos], lay.s_spacing[pos]
    return int((-((o - faults.end[i]) // sp) + ((o - faults.start[i]) // sp)).sum())


class YearFaults:
    """One year's faults as its readings stream: what a stuck sensor repeats (its first reading in
    the window) and each spike's offset as applied are learnt from the rows, in row order, so they
    do not depend on the chunk size."""

    def __init__(self, faults: Faults, year: int) -> None:
        i = faults.of_year(year)
        self.index = i  # into the decade's faults: the fault id is index + 1
        self.sensor, self.start, self.end = faults.sensor[i], faults.start[i], faults.end[i]
        self.kind, self.offset, self.key = faults.kind[i], faults.offset[i], faults.key[i]
        self.value = np.full(len(i), np.nan)  # stuck: the value repeated; spike: the offset applied
        self.stored_sensor = self.sensor.copy()  # the sensor id its readings are stored under
        self.seen = np.zeros(len(i), bool)

    def locate(self, sensor: np.ndarray, minute: np.ndarray) -> np.ndarray:
        """The fault (position in this year) covering each reading, -1 where none does."""
        j = np.searchsorted(self.key, (sensor.astype(np.int64) << 40) | minute, side="right") - 1
        jj = np.maximum(j, 0)
        hit = (j >= 0) & (self.sensor[jj] == sensor) & (minute < self.end[jj]) if len(self.key) else j < -1
        return np.where(hit, jj, -1)

    def apply(self, sensor: np.ndarray, minute: np.ndarray, param: np.ndarray, value: np.ndarray,
              lo: np.ndarray, hi: np.ndarray, stored: np.ndarray | None = None) -> np.ndarray:
        """Changes `value` in place (rows in row order; lo/hi: each row's physical range; stored: the
        sensor id each row is stored under, when a replaced sensor stores under a new id); returns
        the rows kept (a gap's readings are never sent)."""
        f = self.locate(sensor, minute)
        rows = np.flatnonzero(f >= 0)
        j, kind = f[rows], self.kind[f[rows]]
        first, at = np.unique(j, return_index=True)
        unseen = ~self.seen[first]
        if stored is not None:
            self.stored_sensor[first[unseen]] = stored[rows[at[unseen]]]
        self.seen[first] = True
        stuck = kind == STUCK
        s, js = rows[stuck], j[stuck]
        first, at = np.unique(js, return_index=True)
        new = np.isnan(self.value[first])
        self.value[first[new]] = value[s[at[new]]]
        value[s] = self.value[js]
        shift = (kind == SPIKE) | (kind == DRIFT) | (kind == CALIBRATION)
        r, js, k = rows[shift], j[shift], kind[shift]
        ramp = np.where(k == DRIFT, (minute[r] - self.start[js]) / (self.end[js] - self.start[js]), 1.0)
        v, off, log = value[r].astype(np.float64), self.offset[js] * ramp, LOG_SCALE[param[r]]
        moved = np.where(log, v * np.exp(off), v + off)
        back = np.where(log, v * np.exp(-off), v - off)  # a spike that would leave the range jumps the other way
        moved = np.where((k == SPIKE) & ((moved > hi[r]) | (moved < lo[r])), back, moved)
        width = np.maximum(SCALE[param[r]] * np.where(log, v, 1.0), 1e-6)
        value[r] = soft_clip(moved, lo[r], hi[r], np.minimum(width, (hi[r] - lo[r]) / 4))
        spike = k == SPIKE
        self.value[js[spike]] = value[r[spike]] - v[spike]
        keep = np.ones(len(value), bool)
        keep[rows[kind == GAP]] = False
        return keep

