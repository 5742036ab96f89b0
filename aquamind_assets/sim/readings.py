"""Sensor readings simulated from the plan: which sensor reads when, and what it reads.

Daily means come from the plan (the temperature that drove growth) and the climate (salinity, oxygen
saturation with its algae-bloom and depletion drops), so readings agree with growth and mortality.
A reading adds a daily cycle, a slow per-sensor drift (weekly random knots, interpolated: noise that
persists for days) and white noise. Every random number is a hash of (scenario, sensor/container,
day, minute): values never depend on chunk size, call order or what else ran. The rows of the
readings table are rendered from this model by export/readings.py.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..config.years import FIRST_YEAR, LAST_YEAR, YEAR_SPAN
from .calendar import FIRST_STORED_DAY, year_days
from .bounds import soft_clip
from .climate import oxygen_solubility
from .faults import gap_readings, plan_faults
from .reference import PARAM_ID, PARAMETERS
from .rng import stream

RPD = np.zeros(len(PARAMETERS) + 1, np.int64)
RPD[[p[0] for p in PARAMETERS]] = [p[10] for p in PARAMETERS]
# Readings a day per parameter id, by the scale's `readings_cadence`: the default keeps the stored
# sizes of the presets; `reference` is docs/domain.md §7.1's 6-16 a day for every parameter (every
# 2 h for temperature and oxygen, every 4 h for the rest), ~4-6x the rows, so tiny and small only.
CADENCES = {"default": RPD, "reference": np.where(np.isin(np.arange(len(RPD)), [1, 2, 3]), 12, 6) * (RPD > 0)}
CADENCE_SCALES = {"default": ("tiny", "small", "full", "full2x"), "reference": ("tiny", "small")}
LO, HI = (np.zeros(len(PARAMETERS) + 1, np.float32) for _ in range(2))
LO[RPD > 0], HI[RPD > 0] = [p[4] for p in PARAMETERS], [p[5] for p in PARAMETERS]  # the stored limits
SEA, FLOW, RAS = 0, 1, 2
P = PARAM_ID
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_U16, _SQRT3 = np.uint64(0xFFFF), np.float32(np.sqrt(3.0))


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a counter-based generator, so any row's noise is computable alone."""
    x = np.asarray(x, dtype=np.uint64)
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def _normal(salt: np.uint64, key: np.ndarray) -> np.ndarray:
    """~N(0, 1) from one hash (Irwin-Hall of four 16-bit uniforms): cheap and bounded (|z| < 3.5)."""
    h = _mix(np.asarray(key, dtype=np.uint64) ^ salt)
    s = (h & _U16) + ((h >> np.uint64(16)) & _U16) + ((h >> np.uint64(32)) & _U16) + (h >> np.uint64(48))
    s = s.astype(np.float32)  # an integer below 2^18: exact in float32, whatever the order of the sum
    return (s * np.float32(1 / 65536) - np.float32(2.0)) * _SQRT3


def _uniform(salt: np.uint64, key: np.ndarray) -> np.ndarray:
    return (_mix(np.asarray(key, dtype=np.uint64) ^ salt) >> np.uint64(11)).astype(np.float64) / 2.0**53


def _drift(salt: np.uint64, container: np.ndarray, code: int, day: np.ndarray) -> np.ndarray:
    """Persistent noise: unit normals at weekly knots per (container, code), linearly interpolated."""
    week, f = day // 7, ((day % 7) / 7.0).astype(np.float32)
    base = (container.astype(np.uint64) << np.uint64(40)) | (np.uint64(code) << np.uint64(32))
    a = _normal(salt, base | week.astype(np.uint64))
    b = _normal(salt, base | (week + 1).astype(np.uint64))
    return ((1 - f) * a + f * b) / np.sqrt((1 - f) ** 2 + f**2)


def _salts(plan) -> list[np.uint64]:
    rng = stream(int(plan.scenario_hash, 16) % 2**63, "readings")
    return [np.uint64(s) for s in rng.integers(0, 2**63, 4)]


def readings_per_day(multiplier: int = 1, cadence: str = "default") -> np.ndarray:
    """Readings a day of each parameter (indexed by parameter id) under a cadence and multiplier."""
    if not 1 <= int(multiplier) <= 12:
        raise ValueError(f"cadence_multiplier {multiplier} must lie in 1-12")
    if cadence not in CADENCES:
        raise ValueError(f"readings_cadence {cadence!r} is not one of {sorted(CADENCES)}")
    return CADENCES[cadence] * int(multiplier)


def refuse_oversized_cadence(scenario) -> None:
    """A cadence is refused, in one line and before anything is simulated, at a scale it is not for;
    the line gives the size it would have (every sensor's readings a year, each unit occupied)."""
    from ..config.scenario import ScenarioError
    from .infrastructure import build_infrastructure

    spec = scenario.scale_spec
    if scenario.scale in CADENCE_SCALES[spec.readings_cadence]:
        return
    per_day = readings_per_day(spec.cadence_multiplier, spec.readings_cadence)
    sensors = np.asarray(build_infrastructure(scenario).tables["sensor"]["parameter_id"], np.int64)
    per_year = float(per_day[sensors].sum()) * 365.25
    raise ScenarioError(
        f"readings_cadence {spec.readings_cadence!r} at scale {scenario.scale} would store up to "
        f"{per_year / 1e6:,.0f} M readings a year (~{per_year * 10 * 75 / 2**30:,.0f} GiB for ten years): "
        f"it runs at scale {' or '.join(CADENCE_SCALES[spec.readings_cadence])}")


class ReadingLayout:
    """Per-container reading template (sensor, parameter, minute) and per-container constants."""

    def __init__(self, plan, cadence: int = 1, readings_cadence: str = "default") -> None:
        infra, s = plan.infra, plan.infra.tables["sensor"]
        self.salt_c, self.salt_d, self.salt_w, salt_o = _salts(plan)
        n_c = len(infra.container_stage)
        sid, cont, par = (np.asarray(s[k], np.int64) for k in ("id", "container_id", "parameter_id"))
        n = readings_per_day(cadence, readings_cadence)[par]
        spacing = 1440 // n
        offset = (_uniform(salt_o, sid) * np.minimum(60, spacing)).astype(np.int64)  # fixed per sensor
        self.s_per_day, self.s_offset, self.s_spacing = n, offset, spacing  # by sensor position (id - 1)
        self.cadence_key = (int(cadence), readings_cadence)
        rep = np.repeat(np.arange(len(sid)), n)
        k = np.arange(len(rep)) - np.repeat(np.cumsum(n) - n, n)
        self.t_sensor, self.t_param, self.t_container = sid[rep], par[rep], cont[rep]
        self.t_minute = offset[rep] + k * spacing[rep]
        minutes = np.arange(int(self.t_minute.max(initial=0)) + 1)  # the daily cycle by minute of the day
        self.cycle = np.cos(2 * np.pi * (minutes / 1440.0 - 15 / 24)).astype(np.float32)  # max 15:00, min 03:00
        self.per_day = np.bincount(cont[rep] - 1, minlength=n_c).astype(np.int64)
        self.t_start = np.searchsorted(self.t_container, np.arange(1, n_c + 1))
        hall_ras = np.asarray(infra.tables["hall"]["is_ras"], bool)
        ras = np.where(infra.container_hall > 0, hall_ras[np.maximum(infra.container_hall, 1) - 1], False)
        self.kind = np.where(infra.container_stage == 5, SEA, np.where(ras, RAS, FLOW))
        self.area = np.asarray(infra.container_area)
        self.volume = np.asarray(infra.container_volume, np.float64)
        u = [_uniform(self.salt_c, np.arange(n_c) * 16 + j) for j in range(4)]
        self.amp_t = np.select([self.kind == SEA, self.kind == RAS], [0.2 + 0.2 * u[0], 0.04 + 0.04 * u[0]],
                               0.25 + 0.15 * u[0]).astype(np.float32)  # C, peak mid-afternoon
        self.amp_o = np.where(self.kind == SEA, 2.0 + 2.0 * u[1], 1.0 + 1.0 * u[1]).astype(np.float32)
        self.sat_fw = np.where(self.kind == RAS, 93.0, 95.0) + 2.0 * (u[2] - 0.5)  # % in tanks
        self.ph = np.select([self.kind == SEA, self.kind == RAS], [7.95 + 0.1 * u[3], 7.05 + 0.2 * u[3]],
                            7.15 + 0.3 * u[3])


def year_container_days(plan, year: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices into plan.daily for the year's assignment-days, ordered by (day, container)."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"year {year} lies outside the stored years {YEAR_SPAN}")
    d0, d1 = year_days(year)
    day = plan.daily["day"]
    idx = np.flatnonzero((day >= max(d0, FIRST_STORED_DAY)) & (day < d1))
    cont = plan.assignment["container"][plan.daily["assignment"][idx] - 1].astype(np.int64)
    order = np.lexsort((cont, day[idx]))
    return idx[order], cont[order] - 1


def estimate_readings(plan, years: Iterable[int], cadence_multiplier: int = 1, cadence: str = "default") -> int:
    """Exact row count of those years' readings, without rendering them (to size disk before a run):
    every occupied container-day's readings but those a gap never sent."""
    lay = ReadingLayout(plan, cadence_multiplier, cadence)
    faults = plan_faults(plan, lay)
    return int(sum(lay.per_day[year_container_days(plan, y)[1]].sum() - gap_readings(faults, lay, y) for y in years))


def reading_values(lay: ReadingLayout, plan, cd: dict, ci: np.ndarray, param: np.ndarray, minute: np.ndarray,
                   sensor: np.ndarray) -> np.ndarray:
    """Reading values for the rows (ci = container-day index of each row)."""
    c, day, kind = cd["c"], cd["day"], lay.kind[cd["c"]]
    sea, ras = kind == SEA, kind == RAS
    area = np.maximum(lay.area[c] - 1, 0)
    clim = plan.climate
    sal = np.where(sea, clim.sea_salinity[area, day], 0.0)
    sat = np.where(sea, clim.sea_o2_sat[area, day],
                   np.clip(lay.sat_fw[c] + 1.5 * _drift(lay.salt_d, c, 0, day), 91.0, 98.5))
    load = np.clip(cd["pop"] * cd["weight"] / 1000.0 / lay.volume[c] / 50.0, 0.0, 1.0)  # share of 50 kg/m3
    white = _normal(lay.salt_w, (sensor.astype(np.uint64) << np.uint64(32))
                    | (day[ci] * 1440 + minute).astype(np.uint64))
    cyc = lay.cycle[minute]
    out = np.empty(len(ci), np.float32)
    for p in np.flatnonzero(np.bincount(param)):  # the parameters present (cheaper than np.unique)
        r = np.flatnonzero(param == p)
        i, w = ci[r], white[r]
        z = _drift(lay.salt_d, c, int(p), day)[i]
        if p in (P["temperature"], P["dissolved_oxygen"], P["oxygen_saturation"]):  # the daily cycle
            ri = c[i]
            temp_t = cd["temp"][i] + lay.amp_t[ri] * cyc[r]
            sat_t = sat[i] + lay.amp_o[ri] * cyc[r]
        if p == P["temperature"]:
            v = temp_t + 0.08 * z + 0.04 * w
        elif p == P["dissolved_oxygen"]:
            v = oxygen_solubility(temp_t, sal[i]) * sat_t / 100.0 + 0.1 * z + 0.05 * w
        elif p == P["oxygen_saturation"]:
            v = sat_t + np.where(sea[i], 1.0, 0.5) * z + 0.4 * w
        elif p == P["salinity"]:
            v = soft_clip(sal[i] + 0.1 * z + 0.04 * w, 20.0, 36.0, 0.5)
        elif p == P["ph"]:
            v = lay.ph[c[i]] - 0.25 * load[i] * ras[i] + 0.06 * z + 0.02 * w
            v = np.where(sea[i], soft_clip(v, 7.8, 8.2, 0.05), soft_clip(v, 6.5, 8.0, 0.1))
        elif p == P["co2"]:
            mean = np.select([sea[i], ras[i]], [1.0 + 0.25 * z, 6.0 + 10.0 * load[i] + 1.5 * z],
                             2.0 + 3.0 * load[i] + 0.5 * z)
            lo, hi = np.select([sea[i], ras[i]], [0.3, 5.0], 1.0), np.select([sea[i], ras[i]], [3.0, 20.0], 8.0)
            v = soft_clip(mean + 0.15 * w, lo, hi, np.select([sea[i], ras[i]], [0.2, 1.0], 0.5))
        else:  # nitrogen compounds, freshwater only: RAS accumulates them with the fish load
            base = {P["no2"]: (0.006, 0.012, 0.04, 0.2), P["no3"]: (1.0, 3.0, 20.0, 45.0),
                    P["nh4"]: (0.004, 0.015, 0.05, 0.35)}[int(p)]
            mean = np.where(ras[i], base[2] + base[3] * load[i], base[0] + base[1] * load[i])
            v = mean * np.exp(0.3 * z) * (1.0 + 0.04 * w)
        out[r] = np.clip(v, LO[p], HI[p])
    return out
