"""The sea phase of one batch, day by day over its pens: growth, deaths, lice, treatments, harvest.

Sequential because each day's decisions (treat a pen, start harvesting, postpone a pen still in
withholding) depend on the state so far; vectorised over the batch's pens.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import biology as bio
from .calendar import DOY, MONTH, N_DAYS, YEAR
from .reference import DURATION, TREATMENT_ID, WITHHOLDING

MAX_SEA_DAYS = 720
LICE_LEVEL = {0: 0.55, 1: 0.95}  # adult females per fish at the seasonal peak, mid-cycle
COUNT_EVERY = {0: 14, 1: 7}
FO_METHODS = ("FRESHWATER_BATH", "THERMAL", "MECHANICAL")
SC_METHODS = (("THERMAL", 0.3), ("MECHANICAL", 0.2), ("FRESHWATER_BATH", 0.15), ("H2O2", 0.15),
              ("AZAMETHIPHOS", 0.1), ("DELTAMETHRIN", 0.05), ("EMAMECTIN", 0.05))
TREAT_LOSS = {"THERMAL": (0.002, 0.006), "MECHANICAL": (0.0015, 0.005)}
# REFERENCE 5: sea losses lowest in May-June (new smolts settled, cool water), highest Aug-Oct (warm
# water, lice, gill disease). Multipliers of the base rate at mid-month, mean 1, interpolated daily.
BASE_SEASON = np.array([1.05, 1.0, 0.95, 0.9, 0.62, 0.52, 0.55, 0.8, 0.95, 1.05, 1.1, 1.05])
BASE_SEASON = BASE_SEASON / BASE_SEASON.mean()


def base_season(doy: np.ndarray) -> np.ndarray:
    """Daily multiplier of the base sea mortality, periodic over the year."""
    mid = np.arange(12) * 365.25 / 12 + 15.2
    return np.interp(doy, np.r_[mid - 365.25, mid, mid + 365.25], np.tile(BASE_SEASON, 3))


SEASON = base_season(DOY)  # per simulated day, computed once for every batch


@dataclass
class Outbreak:
    disease: str
    start: int
    end: int
    mortality: float  # extra daily mortality fraction
    growth: float  # growth factor while active
    treatment: str | None = None


@dataclass
class SeaRun:
    start: int
    ends: np.ndarray  # per pen: exclusive end day (harvest day + 1) or -1 when still open
    weight: np.ndarray  # [pens, days]
    pop: np.ndarray
    deaths_base: np.ndarray
    deaths_event: np.ndarray
    event_cause: np.ndarray  # [pens, days] cause index of event deaths (reference.MORTALITY_CAUSES)
    growth_factor: np.ndarray  # [pens, days] share of full growth (drives the ration)
    harvest: list = field(default_factory=list)  # (pen, day, count, weight_g, early)
    treatments: list = field(default_factory=list)  # (pen, day, code, lice_before, outcome)
    lice: list = field(default_factory=list)  # (pen, day, adult females per fish observed, true level)


def _threshold(day: int) -> float:
    return 0.5 if 2 <= MONTH[day] <= 6 else 1.0


def run_sea(rng: np.random.Generator, geo: int, start: int, n0: np.ndarray, w0: float, tgc: float,
            target_g: float, temp: np.ndarray, env_mort: np.ndarray, feed_factor: np.ndarray,
            monthly_mortality_pct: float, outbreaks: list[Outbreak]) -> SeaRun:
    n_pens = len(n0)
    length = min(MAX_SEA_DAYS, N_DAYS - start)
    shape = (n_pens, length)
    weight, gf = np.zeros(shape), np.zeros(shape)
    pop, d_base, d_event = np.zeros(shape, np.int64), np.zeros(shape, np.int64), np.zeros(shape, np.int64)
    cause = np.full(shape, 4, np.int8)  # UNKNOWN until an event says otherwise
    run = SeaRun(start, np.full(n_pens, -1), weight, pop, d_base, d_event, cause, gf)
    cbrt = np.full(n_pens, np.cbrt(w0))
    alive = n0.astype(np.int64).copy()
    active = np.ones(n_pens, bool)
    withhold_until = np.zeros(n_pens, np.int64)
    dip_until = np.zeros(n_pens, np.int64)
    last_treat = np.full(n_pens, -10**6)
    suppression = np.ones(n_pens)
    lice_noise = np.zeros(n_pens)
    pending: dict[int, int] = {}  # pen -> index into run.treatments awaiting its next count
    harvest_day: np.ndarray | None = None
    base_daily = monthly_mortality_pct / 100.0 / 30.4
    for i in range(length):
        d = start + i
        if not active.any():
            break
        t = float(temp[d])
        factor = np.full(n_pens, float(feed_factor[d]))
        factor[dip_until > d] *= 0.5
        extra = float(env_mort[d])
        ev_cause = 3 if extra > 0 else 4
        for ob in outbreaks:
            if ob.start <= d < ob.end:
                factor *= ob.growth
                extra += ob.mortality
                ev_cause = 0
        weight[:, i] = cbrt**3
        pop[:, i] = alive
        gf[:, i] = factor
        rate = base_daily * SEASON[d] * rng.lognormal(-0.08, 0.4, n_pens)
        db = rng.poisson(alive * rate)
        de = rng.poisson(alive * extra) if extra > 0 else np.zeros(n_pens, np.int64)
        cause[:, i] = ev_cause
        # lice: seasonal pressure (peak Aug-Oct, low Jan-Mar), rising with time at sea
        lice_noise = 0.9 * lice_noise + rng.normal(0, 0.12, n_pens)
        level = (LICE_LEVEL[geo] * (0.12 + 0.88 * 0.5 * (1 + np.cos(2 * np.pi * (DOY[d] - 265) / 365.25)))
                 * min(1.6, 0.4 + i / 300) * np.exp(lice_noise) * suppression)
        suppression += (1 - suppression) * 0.03
        if i % COUNT_EVERY[geo] == 3:
            for p in np.flatnonzero(active):
                observed = rng.poisson(level[p] * 20) / 20.0
                run.lice.append((p, d, observed, float(level[p])))
                if p in pending:
                    k = pending.pop(p)
                    before = run.treatments[k][3]
                    outcome = "successful" if observed < 0.5 * before else "partial" if observed < 0.9 * before else "unsuccessful"
                    run.treatments[k] = run.treatments[k][:4] + (outcome,)
                if observed > _threshold(d) and d - last_treat[p] >= 14 and d + 1 < N_DAYS and harvest_day is None:
                    near_harvest = cbrt[p] ** 3 > 0.85 * target_g
                    if geo == 0 or near_harvest:
                        code = FO_METHODS[rng.integers(3)] if not (geo == 0 and YEAR[d] < 2016 and rng.random() < 0.3) else "H2O2"
                        if near_harvest and WITHHOLDING[TREATMENT_ID[code]] > 0:
                            code = "THERMAL"
                    else:
                        names, probs = zip(*SC_METHODS)
                        code = names[rng.choice(len(names), p=probs)]
                    tid = TREATMENT_ID[code]
                    last_treat[p] = d + 1
                    withhold_until[p] = max(withhold_until[p], d + 1 + DURATION[tid] + WITHHOLDING[tid])
                    dip_until[p] = d + 4
                    suppression[p] *= rng.uniform(0.08, 0.35) if rng.random() < 0.8 else rng.uniform(0.5, 0.9)
                    lo, hi = TREAT_LOSS.get(code, (0.0005, 0.002))
                    de[p] += rng.binomial(max(alive[p] - db[p] - de[p], 0), rng.uniform(lo, hi))
                    pending[p] = len(run.treatments)
                    run.treatments.append((p, d + 1, code, observed, "pending"))
                    cause[p, i] = 1
        for ob in outbreaks:  # disease treatments (AGD freshwater bath, antibiotics) a week after onset
            if ob.treatment and d == ob.start + 7 and harvest_day is None:
                tid = TREATMENT_ID[ob.treatment]
                for p in np.flatnonzero(active):
                    withhold_until[p] = max(withhold_until[p], d + DURATION[tid] + WITHHOLDING[tid])
                    run.treatments.append((p, d, ob.treatment, -1.0, "successful"))
        deaths = np.minimum(db + de, alive)
        de = np.minimum(de, deaths)
        d_base[:, i], d_event[:, i] = deaths - de, de
        # harvest: start at target weight (or early on ISA, or when the cycle runs too long)
        isa = any(ob.disease == "ISA" and d == ob.start + 10 for ob in outbreaks)
        mean_w = np.average(cbrt**3, weights=np.maximum(alive, 1))
        if harvest_day is None and (mean_w >= target_g or isa or i >= MAX_SEA_DAYS - 30):
            span = int(rng.integers(3, 8))
            harvest_day = d + 1 + (np.arange(n_pens) * span) // max(n_pens, 1)
            early = isa
        if harvest_day is not None:
            today = active & (np.maximum(harvest_day, withhold_until) == d)
            for p in np.flatnonzero(today):
                d_base[p, i] = d_event[p, i] = 0
                run.harvest.append((p, d, int(alive[p]), float(cbrt[p] ** 3), early))
                run.ends[p] = d + 1
                active[p] = False
            deaths[today] = 0
        alive = alive - deaths
        inc = tgc / 1000.0 * max(t, 0) * bio.temperature_response(np.array(t)) * factor
        cbrt = cbrt + inc * rng.lognormal(0, 0.05, n_pens)
    return run
