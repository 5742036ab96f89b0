"""The sea phase of one batch, day by day over its pens: growth, deaths, lice, treatments, harvest.

Sequential because each day's decisions (treat a pen, start harvesting, postpone a pen still in
withholding) depend on the state so far; vectorised over the batch's pens.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import biology as bio
from .calendar import DOY, MONTH, N_DAYS, YEAR
from .incidents import Incidents
from .reference import DURATION, TREATMENT_ID, WITHHOLDING

MAX_SEA_DAYS = 720
LICE_LEVEL = {0: 0.55, 1: 0.95}  # adult females per fish at the seasonal peak, mid-cycle
COUNT_EVERY = {0: 14, 1: 7}
FO_METHODS = ("FRESHWATER_BATH", "THERMAL", "MECHANICAL")
SC_METHODS = (("THERMAL", 0.3), ("MECHANICAL", 0.2), ("FRESHWATER_BATH", 0.15), ("H2O2", 0.15),
              ("AZAMETHIPHOS", 0.1), ("DELTAMETHRIN", 0.05), ("EMAMECTIN", 0.05))
TREAT_LOSS = {"THERMAL": (0.002, 0.006), "MECHANICAL": (0.0015, 0.005)}
# a handling treatment now and then goes wrong (stressed or large fish, warm water): a few % of the pen
MISHAP_SHARE, MISHAP_LOSS = 0.03, (0.03, 0.08)
# docs/domain.md §5: sea losses lowest in May-June (new smolts settled, cool water), highest Aug-Oct (warm
# water, lice, gill disease). Multipliers of the base rate at mid-month, mean 1, interpolated daily.
BASE_SEASON = np.array([1.05, 1.0, 1.0, 1.05, 0.62, 0.56, 0.62, 0.8, 0.88, 1.0, 1.08, 1.05])
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
    pens: np.ndarray | float = 1.0  # how hard it hits each pen (incidents.pen_severity), mean ~1


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


H2O2_FO_UNTIL = 2016  # Faroese farms still used hydrogen peroxide baths often before this year


def _threshold(day: int, threshold: tuple[float, float]) -> float:
    """Adult females per fish above which a pen is treated: (Feb-June, July-Jan), the scenario's."""
    return threshold[0] if 2 <= MONTH[day] <= 6 else threshold[1]


@dataclass
class _Pens:
    """The state of a batch's pens as the days go by."""

    cbrt: np.ndarray  # cube root of mean weight (grows linearly with TGC)
    alive: np.ndarray
    active: np.ndarray  # not yet harvested
    withhold_until: np.ndarray  # first day a pen may be harvested after a medicinal treatment
    dip_until: np.ndarray  # appetite dip after a treatment
    last_treat: np.ndarray
    suppression: np.ndarray  # lice knocked down by the last treatment, recovering
    lice_noise: np.ndarray
    pending: dict[int, int] = field(default_factory=dict)  # pen -> index into run.treatments awaiting a count
    harvest_day: np.ndarray | None = None  # planned per pen once harvest starts
    early: bool = False

    @classmethod
    def stocked(cls, n0: np.ndarray, w0: float | np.ndarray) -> _Pens:
        n = len(n0)
        cbrt = np.broadcast_to(np.cbrt(np.asarray(w0, float)), n).copy()
        return cls(cbrt, n0.astype(np.int64).copy(), np.ones(n, bool), np.zeros(n, np.int64),
                   np.zeros(n, np.int64), np.full(n, -10**6), np.ones(n), np.zeros(n))


def _conditions(d: int, i: int, pens: _Pens, feed_factor, env_mort, outbreaks,
                incidents: Incidents | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(growth factor, extra daily mortality, cause of event deaths) per pen on day d (day i at sea)."""
    n = len(pens.alive)
    factor = np.full(n, float(feed_factor[d]))
    factor[pens.dip_until > d] *= 0.5
    extra = np.full(n, float(env_mort[d]))
    ev_cause = np.full(n, 3 if env_mort[d] > 0 else 4, np.int8)
    for ob in outbreaks:
        if ob.start <= d < ob.end:
            factor *= ob.growth
            extra += ob.mortality * ob.pens
            ev_cause[:] = 0
    if incidents is not None:
        rate, cause = incidents.on(i)
        extra += rate
        ev_cause = np.where(rate > 0, cause, ev_cause).astype(np.int8)
    return factor, extra, ev_cause


def _lice_level(geo: int, i: int, d: int, pens: _Pens, rng) -> np.ndarray:
    """Adult females per fish: seasonal pressure (peak Aug-Oct, low Jan-Mar), rising with time at sea."""
    pens.lice_noise = 0.9 * pens.lice_noise + rng.normal(0, 0.12, len(pens.alive))
    level = (LICE_LEVEL[geo] * (0.12 + 0.88 * 0.5 * (1 + np.cos(2 * np.pi * (DOY[d] - 265) / 365.25)))
             * min(1.6, 0.4 + i / 300) * np.exp(pens.lice_noise) * pens.suppression)
    pens.suppression += (1 - pens.suppression) * 0.03
    return level


def _lice_method(geo: int, d: int, near_harvest: bool, rng) -> str:
    """Faroes: non-medicinal methods (H2O2 in the early years); Scotland: the national mix, but
    nothing with a withholding period close to harvest."""
    if geo == 0 or near_harvest:
        early_h2o2 = geo == 0 and YEAR[d] < H2O2_FO_UNTIL and rng.random() < 0.3
        code = FO_METHODS[rng.integers(3)] if not early_h2o2 else "H2O2"
        return "THERMAL" if near_harvest and WITHHOLDING[TREATMENT_ID[code]] > 0 else code
    names, probs = zip(*SC_METHODS)
    return names[rng.choice(len(names), p=probs)]


def _treat_lice(run: SeaRun, pens: _Pens, p: int, d: int, i: int, observed: float, code: str,
                deaths: tuple[np.ndarray, np.ndarray], rng) -> None:
    """Treat pen p the day after the count: withholding, appetite dip, knock-down, handling losses."""
    db, de = deaths
    tid = TREATMENT_ID[code]
    pens.last_treat[p] = d + 1
    pens.withhold_until[p] = max(pens.withhold_until[p], d + 1 + DURATION[tid] + WITHHOLDING[tid])
    pens.dip_until[p] = d + 4
    pens.suppression[p] *= rng.uniform(0.08, 0.35) if rng.random() < 0.8 else rng.uniform(0.5, 0.9)
    lo, hi = TREAT_LOSS.get(code, (0.0005, 0.002))
    if code in TREAT_LOSS and rng.random() < MISHAP_SHARE:
        lo, hi = MISHAP_LOSS
    de[p] += rng.binomial(max(pens.alive[p] - db[p] - de[p], 0), rng.uniform(lo, hi))
    pens.pending[p] = len(run.treatments)
    run.treatments.append((p, d + 1, code, observed, "pending"))
    run.event_cause[p, i] = 1


def _count_lice(run: SeaRun, pens: _Pens, geo: int, d: int, i: int, level: np.ndarray, target_g: float,
                deaths: tuple[np.ndarray, np.ndarray], threshold: tuple[float, float], rng) -> None:
    """Count every active pen; a count grades the last treatment and may call for the next one."""
    for p in np.flatnonzero(pens.active):
        observed = rng.poisson(level[p] * 20) / 20.0
        run.lice.append((p, d, observed, float(level[p])))
        if p in pens.pending:
            k = pens.pending.pop(p)
            before = run.treatments[k][3]
            outcome = "successful" if observed < 0.5 * before else "partial" if observed < 0.9 * before else "unsuccessful"
            run.treatments[k] = run.treatments[k][:4] + (outcome,)
        if (observed > _threshold(d, threshold) and d - pens.last_treat[p] >= 14 and d + 1 < N_DAYS
                and pens.harvest_day is None):
            code = _lice_method(geo, d, pens.cbrt[p] ** 3 > 0.85 * target_g, rng)
            _treat_lice(run, pens, p, d, i, observed, code, deaths, rng)


def _treat_diseases(run: SeaRun, pens: _Pens, d: int, outbreaks: list[Outbreak]) -> None:
    """Disease treatments (AGD freshwater bath, antibiotics) of every pen a week after onset."""
    for ob in outbreaks:
        if ob.treatment and d == ob.start + 7 and pens.harvest_day is None:
            tid = TREATMENT_ID[ob.treatment]
            for p in np.flatnonzero(pens.active):
                pens.withhold_until[p] = max(pens.withhold_until[p], d + DURATION[tid] + WITHHOLDING[tid])
                run.treatments.append((p, d, ob.treatment, -1.0, "successful"))


def _mean_weight(pens: _Pens) -> float:
    """Mean weight of the fish in the pens (computed only while the harvest is still to be started)."""
    return float(np.average(pens.cbrt**3, weights=np.maximum(pens.alive, 1)))


def _harvest(run: SeaRun, pens: _Pens, d: int, i: int, target_g: float, outbreaks: list[Outbreak],
             deaths: np.ndarray, rng) -> None:
    """Start at target weight (early on ISA, or when the cycle runs too long), pen after pen over a few
    days, each pen once out of withholding; a harvested pen's deaths that day are not booked."""
    n_pens = len(pens.alive)
    isa = pens.harvest_day is None and any(ob.disease == "ISA" and d == ob.start + 10 for ob in outbreaks)
    if pens.harvest_day is None and (isa or i >= MAX_SEA_DAYS - 30 or _mean_weight(pens) >= target_g):
        span = int(rng.integers(3, 8))
        pens.harvest_day = d + 1 + (np.arange(n_pens) * span) // max(n_pens, 1)
        pens.early = isa
    if pens.harvest_day is None:
        return
    today = pens.active & (np.maximum(pens.harvest_day, pens.withhold_until) == d)
    for p in np.flatnonzero(today):
        run.deaths_base[p, i] = run.deaths_event[p, i] = 0
        run.harvest.append((p, d, int(pens.alive[p]), float(pens.cbrt[p] ** 3), pens.early))
        run.ends[p] = d + 1
        pens.active[p] = False
    deaths[today] = 0


def _sea_run(start: int, n_pens: int, length: int) -> SeaRun:
    shape = (n_pens, length)
    return SeaRun(start, np.full(n_pens, -1), np.zeros(shape), np.zeros(shape, np.int64), np.zeros(shape, np.int64),
                  np.zeros(shape, np.int64), np.full(shape, 4, np.int8),  # UNKNOWN until an event says otherwise
                  np.zeros(shape))


def run_sea(rng: np.random.Generator, geo: int, start: int, n0: np.ndarray, w0: float | np.ndarray, tgc: float,
            target_g: float, temp: np.ndarray, env_mort: np.ndarray, feed_factor: np.ndarray,
            monthly_mortality_pct: float, outbreaks: list[Outbreak],
            lice_threshold: tuple[float, float] = (0.5, 1.0), incidents: Incidents | None = None) -> SeaRun:
    n_pens = len(n0)
    length = min(MAX_SEA_DAYS, N_DAYS - start)
    run = _sea_run(start, n_pens, length)
    pens = _Pens.stocked(n0, w0)
    base_daily = monthly_mortality_pct / 100.0 / 30.4
    for i in range(length):
        d = start + i
        if not pens.active.any():
            break
        t = float(temp[d])
        factor, extra, ev_cause = _conditions(d, i, pens, feed_factor, env_mort, outbreaks, incidents)
        run.weight[:, i] = pens.cbrt**3
        run.pop[:, i] = pens.alive
        run.growth_factor[:, i] = factor
        rate = base_daily * SEASON[d] * rng.lognormal(-0.08, 0.4, n_pens)
        db = rng.poisson(pens.alive * rate)
        de = rng.poisson(pens.alive * extra) if extra.any() else np.zeros(n_pens, np.int64)
        run.event_cause[:, i] = ev_cause
        level = _lice_level(geo, i, d, pens, rng)
        if i % COUNT_EVERY[geo] == 3:
            _count_lice(run, pens, geo, d, i, level, target_g, (db, de), lice_threshold, rng)
        _treat_diseases(run, pens, d, outbreaks)
        deaths = np.minimum(db + de, pens.alive)
        de = np.minimum(de, deaths)
        run.deaths_base[:, i], run.deaths_event[:, i] = deaths - de, de
        _harvest(run, pens, d, i, target_g, outbreaks, deaths, rng)
        pens.alive = pens.alive - deaths
        inc = tgc / 1000.0 * max(t, 0) * bio.temperature_response(np.array(t)) * factor
        pens.cbrt = pens.cbrt + inc * rng.lognormal(0, 0.05, n_pens)
    return run
