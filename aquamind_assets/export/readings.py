"""The environment asset's rows: sensor readings in chunks of whole container-days, and the
environmental events, rendered from the plan and the readings model (sim/readings.py)."""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..config.years import FIRST_YEAR
from ..sim.calendar import EPOCH_OFFSET, FIRST_STORED_DAY, N_DAYS, YEAR
from ..sim.climate import EVENT_TYPES
from ..sim.faults import YearFaults, plan_faults
from ..sim.infrastructure_events import sensor_on_day
from ..sim.readings import (HI, LO, P, SEA, ReadingLayout, reading_values, readings_per_day,
                            year_container_days)
from ..warehouse.schema import Table
from ..warehouse.tables import ENV_EVENT, ENV_READING, ENV_READING_DAILY, SENSOR_FAULT, SENSOR_FAULT_FLAG
from .detectors import FaultDetectors
from .faults import render_faults

US_PER_DAY, US_PER_MIN = 86_400_000_000, 60_000_000
CHUNK_ROWS, FIRST_CHUNK_ROWS = 1_000_000, 100_000  # the asset's chunks: a small first one starts the COPY sooner
# magnitude range per event type as drawn by climate._events: severity is the position inside it
EVENT_RANGES = {"storm": (15.0, 35.0), "algae_bloom": (15.0, 35.0), "temperature_anomaly": (2.0, 4.0),
                "oxygen_depletion": (30.0, 50.0)}


P_TEMPERATURE = P["temperature"]
SEA_TEMPERATURE_MAX = 18.0  # docs/domain.md §7.5: a fault moves a sea reading no higher


def _chunk(plan, lay: ReadingLayout, year: int, idx: np.ndarray, c: np.ndarray,
           faults: YearFaults) -> dict[str, np.ndarray]:
    d = plan.daily
    cd = {"c": c, "day": d["day"][idx].astype(np.int64), "temp": d["temp"][idx].astype(np.float32),
          "pop": d["pop"][idx].astype(np.float64), "weight": d["weight"][idx].astype(np.float64)}
    per = lay.per_day[c]
    n = int(per.sum())
    ci = np.repeat(np.arange(len(c)), per)
    t = np.arange(n) + np.repeat(lay.t_start[c] - (np.cumsum(per) - per), per)
    param, minute, sensor = lay.t_param[t], lay.t_minute[t], lay.t_sensor[t]
    value = reading_values(lay, plan, cd, ci, param, minute, sensor)
    cols = {
        "year": np.full(n, year, np.int16),
        "reading_time": (cd["day"][ci] + EPOCH_OFFSET) * US_PER_DAY + minute * US_PER_MIN,
        "sensor_id": sensor_on_day(plan.infra, sensor, cd["day"][ci]).astype(np.int32),
        "container_id": (c[ci] + 1).astype(np.int32),
        "assignment_id": d["assignment"][idx][ci].astype(np.int32),
        "parameter_id": param.astype(np.int32),
        "value": value,
    }
    sea_temp = (param == P_TEMPERATURE) & (lay.kind[c[ci]] == SEA)
    keep = faults.apply(sensor, cd["day"][ci] * 1440 + minute, param, value, LO[param],
                        np.where(sea_temp, np.float32(SEA_TEMPERATURE_MAX), HI[param]), cols["sensor_id"])
    return cols if keep.all() else {k: v[keep] for k, v in cols.items()}


def render_readings(plan, year: int, chunk_rows: int = 2_000_000, cadence_multiplier: int = 1,
                    first_chunk_rows: int | None = None, cadence: str = "default",
                    faults: YearFaults | None = None) -> Iterator[dict[str, np.ndarray]]:
    """environmental.environmental_reading for one year, in chunks of at most chunk_rows rows
    (the first of at most first_chunk_rows: a small one gets the COPY going sooner).

    Rows are ordered by (day, container, sensor, time); a chunk holds whole container-days.
    """
    lay = ReadingLayout(plan, cadence_multiplier, cadence)
    faults = YearFaults(plan_faults(plan, lay), year) if faults is None else faults
    if chunk_rows < lay.per_day.max():
        raise ValueError(f"chunk_rows {chunk_rows} < {lay.per_day.max()} readings of one container-day")
    idx, c = year_container_days(plan, year)
    cum = np.cumsum(lay.per_day[c])
    start = 0
    while start < len(idx):
        done = int(cum[start - 1]) if start else 0
        size = chunk_rows if start or first_chunk_rows is None else max(first_chunk_rows, int(lay.per_day.max()))
        stop = int(np.searchsorted(cum, done + size, side="right"))
        yield _chunk(plan, lay, year, idx[start:stop], c[start:stop], faults)
        start = stop


def daily_rollup(chunk: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """environmental.environmental_reading_daily of a readings chunk: one row per sensor and day.

    A chunk holds whole container-days ordered by (day, container, sensor, time), so each
    sensor-day is one run of consecutive rows and lies in a single chunk: the rollup of the year
    is the concatenation of its chunks' rollups. Means are summed in float64 in row order and
    stored, like the readings, as float4.
    """
    date = (chunk["reading_time"] // US_PER_DAY).astype(np.int32)
    sensor, value = chunk["sensor_id"], chunk["value"]
    starts = np.flatnonzero(np.r_[True, (sensor[1:] != sensor[:-1]) | (date[1:] != date[:-1])])
    count = np.diff(np.r_[starts, len(sensor)])
    return {
        "year": chunk["year"][starts], "reading_date": date[starts], "sensor_id": sensor[starts],
        "container_id": chunk["container_id"][starts], "parameter_id": chunk["parameter_id"][starts],
        "reading_count": count.astype(np.int16),
        "mean_value": (np.add.reduceat(value.astype(np.float64), starts) / count).astype(np.float32),
        "min_value": np.minimum.reduceat(value, starts), "max_value": np.maximum.reduceat(value, starts),
    }


def _severity(types: np.ndarray, magnitude: np.ndarray) -> np.ndarray:
    lo, hi = (np.array([EVENT_RANGES[EVENT_TYPES[t]][j] for t in types]) for j in (0, 1))
    rel = np.clip((np.abs(magnitude) - lo) / (hi - lo), 0.0, 1.0)
    return np.array(["low", "medium", "high"], dtype=object)[np.minimum((rel * 3).astype(int), 2)]


def render_environmental_events(plan, year: int) -> dict[str, np.ndarray]:
    """environmental.environmental_event rows owned by `year` (events running into the first stored
    year belong to it)."""
    ev = plan.climate.events
    start, end = np.asarray(ev["start"], np.int64), np.asarray(ev["end"], np.int64)
    owner = np.where(start >= FIRST_STORED_DAY, YEAR[np.minimum(start, N_DAYS - 1)], FIRST_YEAR)
    keep = np.flatnonzero((owner == year) & (end > FIRST_STORED_DAY))
    last = end[keep] - 1
    open_ = end[keep] >= N_DAYS  # still running when the stored window closes: last day unknown
    end_date = (last + EPOCH_OFFSET).astype(np.int32)
    if open_.any():
        end_date = np.array([None if o else int(e) for o, e in zip(open_, end_date)], dtype=object)
    types = np.asarray(ev["type"])[keep]
    mag = np.asarray(ev["magnitude"])[keep]
    return {
        "id": (keep + 1).astype(np.int32),
        "year": np.full(len(keep), year, np.int16),
        "event_type": np.array([EVENT_TYPES[t] for t in types], dtype=object),
        "area_id": (np.asarray(ev["area"])[keep] + 1).astype(np.int32),
        "start_date": (start[keep] + EPOCH_OFFSET).astype(np.int32),
        "end_date": end_date,
        "severity": _severity(types, mag),
        "magnitude": mag.astype(np.float32),
    }


def render_environment(plan, year: int) -> Iterator[tuple[Table, dict[str, np.ndarray]]]:
    """(table, columns) for the environment asset: the events, then the readings in chunks, each
    followed by its daily rollup and the detectors' flags decided on it (the load's CopyStream
    switches tables without a stall), and last the year's faults (what the stuck sensors repeated
    and the spikes' offsets are learnt as the readings stream)."""
    yield ENV_EVENT, render_environmental_events(plan, year)
    cadence = (int(plan.stats.get("cadence_multiplier", 1)), plan.stats.get("readings_cadence", "default"))
    faults = YearFaults(plan_faults(plan, ReadingLayout(plan, *cadence)), year)
    detectors = FaultDetectors(readings_per_day(*cadence))
    for chunk in render_readings(plan, year, chunk_rows=CHUNK_ROWS, first_chunk_rows=FIRST_CHUNK_ROWS,
                                 cadence_multiplier=cadence[0], cadence=cadence[1], faults=faults):
        yield ENV_READING, chunk
        daily = daily_rollup(chunk)
        yield ENV_READING_DAILY, daily
        flags = detectors.feed(daily)
        if len(flags["flag_date"]):
            yield SENSOR_FAULT_FLAG, {**flags, "year": np.full(len(flags["flag_date"]), year, np.int16)}
    yield SENSOR_FAULT, render_faults(plan, faults, year)
