"""Fault detectors on the daily rollup as it streams: gaps, spikes and stuck sensors, flagged per sensor-day.

They read only the rollup rows the readings asset computes anyway (count, mean, minimum and maximum
per sensor and day), chunk after chunk, and carry each sensor's last two days from one chunk to the
next; they never go back to the raw readings. The flags are stored next to the faults
(environmental.sensor_fault_flag) and scored against them in dbt (fault_detection_scores).

* **spike**: a day whose maximum (or minimum) stands far from both neighbouring days while those
  agree with each other. One reading off the pattern moves a day's extreme by its whole size but its
  mean only by a share, and a step (a recalibration, the start of an event) moves the neighbours
  apart, so it is not taken for a spike.
* **gap**: a day with fewer readings than the cadence gives its parameter, or a hole of one to three days
  in a sensor's days (a container is emptied for at least a week between batches, so a shorter hole
  is the sensor's silence).
* **stuck**: a day whose readings are all the same value, or a once-a-day value repeated exactly on
  the next day. Clean readings carry continuous noise and never repeat a value exactly (the readings
  model bends values into their range instead of clipping them), so an exact repeat is the fault's
  signature.

Deviations are measured in units of each parameter's scale (sim/faults.py SCALE), on the logarithm
for the nitrogen compounds.
"""
from __future__ import annotations

import numpy as np

from ..sim.faults import LOG_SCALE, SCALE

SPIKE_AT = 3.0  # a day's extreme this many scales from its neighbours' mean ...
NEIGHBOURS_WITHIN = 1.5  # ... while the neighbours lie within this many scales of each other
MAX_HOLE_DAYS = 3  # a hole in a sensor's days this long or shorter is a gap, not an empty container
FIELDS = ("date", "sensor", "container", "parameter", "count", "mean", "lo", "hi")


def _scaled(parameter: np.ndarray, value: np.ndarray) -> np.ndarray:
    v = value.astype(np.float64)
    log = LOG_SCALE[parameter]
    if log.any():  # the logarithm only where it applies: most rows are linear parameters
        v[log] = np.log(np.maximum(v[log], 1e-9))
    return v / SCALE[parameter]


class FaultDetectors:
    """Feed it the rollup of each chunk in order; it returns the flags decided so far.

    A chunk's rollup is ordered by date and holds one row per sensor-day, and later chunks never go
    back in date, so each row's previous day of the same sensor is found without sorting: day by
    day, through the last row seen of each sensor (a table indexed by sensor id)."""

    def __init__(self, per_day: np.ndarray) -> None:
        self.per_day = np.asarray(per_day, np.int64)  # a full day's readings, by parameter id (the cadence)
        self.state = {k: np.zeros(0, np.float64 if k in ("mean", "lo", "hi") else np.int64) for k in FIELDS}
        self.state_prev = np.zeros(0, np.int64)  # within the state: each row's previous row, -1 if none
        self.state_done = np.zeros(0, bool)  # whether a state row was already judged as a spike centre
        self.last = np.full(1, -1, np.int64)  # by sensor id: its last row in the rows being judged

    def feed(self, rollup: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        p = rollup["parameter_id"].astype(np.int64)
        new = {"date": rollup["reading_date"].astype(np.int64), "sensor": rollup["sensor_id"].astype(np.int64),
               "container": rollup["container_id"].astype(np.int64), "parameter": p,
               "count": rollup["reading_count"].astype(np.int64), "mean": _scaled(p, rollup["mean_value"]),
               "lo": _scaled(p, rollup["min_value"]), "hi": _scaled(p, rollup["max_value"])}
        n_old = len(self.state_done)
        rows = {k: np.concatenate([self.state[k], new[k]]) for k in FIELDS}
        done = np.r_[self.state_done, np.zeros(len(new["date"]), bool)]
        prev = self._link(rows, n_old)
        nxt = np.full(len(prev), -1, np.int64)
        has = np.flatnonzero(prev >= 0)
        nxt[prev[has]] = has
        d = rows["date"]
        before = (prev >= 0) & (d - d[prev] == 1)
        after = (nxt >= 0) & (d[nxt] - d == 1)
        fresh = np.arange(len(d)) >= n_old
        flags = [self._spikes(rows, prev, nxt, before & after & ~done), self._stuck(rows, prev, before, fresh),
                 self._gaps(rows, prev, fresh)]
        self._keep_last_two(rows, prev, nxt, done | (before & after))
        return {k: np.concatenate([f[k] for f in flags]) for k in flags[0]}

    def _link(self, rows, n_old: int) -> np.ndarray:
        """Each row's previous row of the same sensor (-1 if none): the state's own links, then the
        chunk's rows date after date (a sensor appears once a day)."""
        s, d = rows["sensor"], rows["date"]
        if s.max(initial=0) >= len(self.last):
            self.last = np.full(2 * int(s.max()) + 1, -1, np.int64)
        last = self.last
        prev = np.r_[self.state_prev, np.full(len(s) - n_old, -1, np.int64)]
        tail = np.flatnonzero(np.r_[s[1:n_old] != s[:n_old - 1], True]) if n_old else np.zeros(0, np.int64)
        last[s[tail]] = tail
        cut = n_old + np.flatnonzero(d[n_old + 1:] != d[n_old:-1]) + 1
        for a, b in zip(np.r_[n_old, cut], np.r_[cut, len(s)]):
            ss = s[a:b]
            prev[a:b] = last[ss]
            last[ss] = np.arange(a, b)
        last[s] = -1  # left clean for the next chunk
        return prev

    @staticmethod
    def _spikes(rows, prev, nxt, centre: np.ndarray) -> dict[str, np.ndarray]:
        i = np.flatnonzero(centre)
        m = rows["mean"]
        ref = (m[prev[i]] + m[nxt[i]]) / 2
        score = np.maximum(rows["hi"][i] - ref, ref - rows["lo"][i])
        hit = (score > SPIKE_AT) & (np.abs(m[nxt[i]] - m[prev[i]]) < NEIGHBOURS_WITHIN)
        return _flags(rows, *_in_order(rows, i[hit], score[hit]), "spike")

    @staticmethod
    def _stuck(rows, prev, before: np.ndarray, fresh: np.ndarray) -> dict[str, np.ndarray]:
        lo = rows["lo"]
        flat = lo == rows["hi"]
        same_day = flat & (rows["count"] >= 2)
        q = np.maximum(prev, 0)
        repeated = before & flat & flat[q] & (lo == lo[q])
        i, = _in_order(rows, np.flatnonzero((same_day | repeated) & fresh))
        return _flags(rows, i, np.maximum(rows["count"][i], 1 + repeated[i]).astype(np.float64), "stuck")

    def _gaps(self, rows, prev, fresh: np.ndarray) -> dict[str, np.ndarray]:
        d, n = rows["date"], rows["count"]
        full = self.per_day[rows["parameter"]]
        i, = _in_order(rows, np.flatnonzero(fresh & (n < full)))
        j = np.flatnonzero(fresh & (prev >= 0))
        step = d[j] - d[prev[j]]
        hole = (step >= 2) & (step <= MAX_HOLE_DAYS + 1)  # flagged on the day after the last one seen
        j, step = _in_order(rows, prev[j[hole]], step[hole])
        flags = _flags(rows, np.r_[i, j], np.r_[full[i] - n[i], step - 1].astype(np.float64), "gap")
        flags["flag_date"] = flags["flag_date"] + np.r_[np.zeros(len(i)), np.ones(len(j))].astype(np.int32)
        return flags

    def _keep_last_two(self, rows, prev, nxt, done: np.ndarray) -> None:
        """Each sensor's last two rows, in (sensor, date) order, become the state."""
        last = np.flatnonzero(nxt < 0)
        second = prev[last]
        keep = np.r_[last, second[second >= 0]]
        keep = keep[np.lexsort((rows["date"][keep], rows["sensor"][keep]))]
        is_last = nxt[keep] < 0
        pos = np.full(len(nxt), -1, np.int64)
        pos[keep] = np.arange(len(keep))
        self.state = {k: v[keep] for k, v in rows.items()}
        self.state_prev = np.where(is_last & (prev[keep] >= 0), pos[np.maximum(prev[keep], 0)], -1)
        self.state_done = done[keep] & ~is_last  # the last day of a sensor waits for its next day


def _in_order(rows, i: np.ndarray, *also: np.ndarray) -> tuple[np.ndarray, ...]:
    """Rows `i` (and arrays aligned with them) in (sensor, date) order: the order flags are stored in."""
    order = np.lexsort((rows["date"][i], rows["sensor"][i]))
    return (i[order], *(a[order] for a in also))


def _flags(rows, i: np.ndarray, score: np.ndarray, kind: str) -> dict[str, np.ndarray]:
    return {"sensor_id": rows["sensor"][i].astype(np.int32), "container_id": rows["container"][i].astype(np.int32),
            "parameter_id": rows["parameter"][i].astype(np.int32), "kind": np.full(len(i), kind, dtype=object),
            "flag_date": rows["date"][i].astype(np.int32), "score": score.astype(np.float32)}
