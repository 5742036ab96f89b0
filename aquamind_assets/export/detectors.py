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
    return np.where(LOG_SCALE[parameter], np.log(np.maximum(v, 1e-9)), v) / SCALE[parameter]


class FaultDetectors:
    """Feed it the rollup of each chunk in order; it returns the flags decided so far."""

    def __init__(self, per_day: np.ndarray) -> None:
        self.per_day = np.asarray(per_day, np.int64)  # a full day's readings, by parameter id (the cadence)
        self.state = {k: np.zeros(0) for k in FIELDS}  # each sensor's last two days, previous chunks
        self.state_done = np.zeros(0, bool)  # whether a state row was already judged as a spike centre

    def feed(self, rollup: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        p = rollup["parameter_id"].astype(np.int64)
        new = {"date": rollup["reading_date"].astype(np.int64), "sensor": rollup["sensor_id"].astype(np.int64),
               "container": rollup["container_id"].astype(np.int64), "parameter": p,
               "count": rollup["reading_count"].astype(np.int64), "mean": _scaled(p, rollup["mean_value"]),
               "lo": _scaled(p, rollup["min_value"]), "hi": _scaled(p, rollup["max_value"])}
        rows = {k: np.concatenate([self.state[k].astype(new[k].dtype), new[k]]) for k in FIELDS}
        n_old = len(self.state_done)
        done = np.r_[self.state_done, np.zeros(len(new["date"]), bool)]
        order = np.lexsort((rows["date"], rows["sensor"]))
        rows, done = {k: v[order] for k, v in rows.items()}, done[order]
        fresh = order >= n_old
        s, d = rows["sensor"], rows["date"]
        after = np.r_[(s[1:] == s[:-1]) & (d[1:] - d[:-1] == 1), False]  # the next row is the next day
        before = np.r_[False, after[:-1]]
        flags = [self._spikes(rows, before & after & ~done), self._stuck(rows, before, fresh),
                 self._gaps(rows, fresh)]
        self._keep_last_two(rows, done | (before & after))
        return {k: np.concatenate([f[k] for f in flags]) for k in flags[0]}

    @staticmethod
    def _spikes(rows, centre: np.ndarray) -> dict[str, np.ndarray]:
        i = np.flatnonzero(centre)
        m = rows["mean"]
        ref = (m[i - 1] + m[i + 1]) / 2
        score = np.maximum(rows["hi"][i] - ref, ref - rows["lo"][i])
        hit = (score > SPIKE_AT) & (np.abs(m[i + 1] - m[i - 1]) < NEIGHBOURS_WITHIN)
        return _flags(rows, i[hit], "spike", score[hit])

    @staticmethod
    def _stuck(rows, before: np.ndarray, fresh: np.ndarray) -> dict[str, np.ndarray]:
        flat = rows["lo"] == rows["hi"]
        same_day = flat & (rows["count"] >= 2)
        repeated = np.r_[False, flat[1:] & flat[:-1] & (rows["lo"][1:] == rows["lo"][:-1])] & before
        i = np.flatnonzero((same_day | repeated) & fresh)
        return _flags(rows, i, "stuck", np.maximum(rows["count"][i], 1 + repeated[i]).astype(np.float64))

    def _gaps(self, rows, fresh: np.ndarray) -> dict[str, np.ndarray]:
        s, d, n = rows["sensor"], rows["date"], rows["count"]
        full = self.per_day[rows["parameter"]]
        short = fresh & (n < full)
        step = np.r_[np.where(s[1:] == s[:-1], d[1:] - d[:-1], 0), 0]
        hole = np.r_[fresh[1:], False] & (step >= 2) & (step <= MAX_HOLE_DAYS + 1)  # judged with the day after
        i, j = np.flatnonzero(short), np.flatnonzero(hole)
        flags = _flags(rows, np.r_[i, j], "gap", np.r_[full[i] - n[i], step[j] - 1].astype(np.float64))
        flags["flag_date"] = flags["flag_date"] + np.r_[np.zeros(len(i)), np.ones(len(j))].astype(np.int32)
        return flags

    def _keep_last_two(self, rows, done: np.ndarray) -> None:
        s = rows["sensor"]
        last = np.r_[s[1:] != s[:-1], True]
        second = np.r_[last[1:] & (s[1:] == s[:-1]), False]
        keep = last | second
        self.state = {k: v[keep] for k, v in rows.items()}
        self.state_done = done[keep] & ~last[keep]  # the last day of a sensor waits for its next day


def _flags(rows, i: np.ndarray, kind: str, score: np.ndarray) -> dict[str, np.ndarray]:
    return {"sensor_id": rows["sensor"][i].astype(np.int32), "container_id": rows["container"][i].astype(np.int32),
            "parameter_id": rows["parameter"][i].astype(np.int32), "kind": np.full(len(i), kind, dtype=object),
            "flag_date": rows["date"][i].astype(np.int32), "score": score.astype(np.float32)}
