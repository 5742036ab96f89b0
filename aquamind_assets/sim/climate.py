"""Daily water climate per sea site and freshwater station, and the environmental event calendar.

Temperature drives growth, so it is decided here once; the readings later draw their daily cycle
and sensor noise around these daily means. Events (storms, algae blooms, temperature anomalies,
oxygen depletion) shift the means and feed into mortality and feeding.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .calendar import DOY, MONTH, N_DAYS, YEAR
from .rng import stream

# geography: (annual mean C, amplitude C, peak day of year, salinity mean, salinity sd)
SEA = {0: (8.2, 2.2, 240, 34.1, 0.2), 1: (10.2, 3.6, 225, 30.8, 1.1)}
# docs/domain.md §7: Faroese open water 33-35 ppt, Scottish lochs 25-34 (low after rain and storms). Daily
# means stay 0.5 ppt inside, so sensor drift and noise on top of them (|0.1 z + 0.04 w| < 0.5 but
# for ~1 reading in 10^5) stay in the range: 13 of 872,738 FO readings left it with a 0.25 margin.
SALINITY_RANGE = {0: (33.5, 34.5), 1: (25.5, 33.5)}
FRESH = (9.0, 5.0, 205)  # flow-through: follows the air/river season
RAS_C = 12.0
EVENT_TYPES = ("storm", "algae_bloom", "temperature_anomaly", "oxygen_depletion")
# per site and year: expected count, months allowed, duration range (days)
EVENT_RULES = {
    "storm": (3.0, (1, 2, 3, 10, 11, 12), (1, 3)),
    "algae_bloom": (0.35, (6, 7, 8, 9), (7, 21)),
    "temperature_anomaly": (0.5, tuple(range(1, 13)), (3, 10)),
    "oxygen_depletion": (0.3, (7, 8, 9), (1, 5)),
}


@dataclass
class Climate:
    sea_temp: np.ndarray  # [area, day] C, events included
    sea_salinity: np.ndarray  # [area, day] ppt
    sea_o2_sat: np.ndarray  # [area, day] % saturation (daily mean)
    fresh_temp: np.ndarray  # [station, day] flow-through temperature
    ras_temp: np.ndarray  # [station, day] RAS hall temperature
    env_mortality: np.ndarray  # [area, day] extra daily mortality fraction from events
    feed_factor: np.ndarray  # [area, day] share of the ration fed (storms, blooms)
    events: dict[str, np.ndarray]  # the event table: type, area, start, end, magnitude


def ar1(rng: np.random.Generator, shape: tuple[int, int], phi: float, sd: float) -> np.ndarray:
    """Persistent noise along days: x_t = phi x_{t-1} + e_t, stationary sd `sd`."""
    e = rng.normal(0.0, sd * np.sqrt(1 - phi**2), shape)
    out = np.empty(shape)
    out[:, 0] = rng.normal(0.0, sd, shape[0])
    for t in range(1, shape[1]):  # vectorised over units; a few thousand steps
        out[:, t] = phi * out[:, t - 1] + e[:, t]
    return out


def seasonal(mean: np.ndarray, amp: np.ndarray, peak: np.ndarray) -> np.ndarray:
    return mean[:, None] + amp[:, None] * np.cos(2 * np.pi * (DOY[None, :] - peak[:, None]) / 365.25)


def oxygen_solubility(temp: np.ndarray, salinity: np.ndarray) -> np.ndarray:
    """Saturation concentration of O2 in mg/L: falls as water warms and with salinity."""
    cs = 14.62 - 0.3898 * temp + 0.006969 * temp**2 - 0.00005897 * temp**3
    return cs * (1.0 - 0.0053 * salinity)


def _events(seed: int, area_geo: np.ndarray) -> dict[str, np.ndarray]:
    rows = []
    years = np.unique(YEAR)
    for a in range(len(area_geo)):
        rng = stream(seed, "events", a)
        for k, etype in enumerate(EVENT_TYPES):
            rate, months, (dmin, dmax) = EVENT_RULES[etype]
            allowed = np.flatnonzero(np.isin(MONTH, months))
            n = rng.poisson(rate * len(years))
            starts = np.sort(rng.choice(allowed, size=n, replace=False)) if n else np.zeros(0, int)
            for s in starts:
                dur = int(rng.integers(dmin, dmax + 1))
                if etype == "temperature_anomaly":
                    mag = float(rng.uniform(2.0, 4.0)) * (1 if MONTH[s] in (5, 6, 7, 8, 9) else -1)
                elif etype == "algae_bloom":
                    mag = float(rng.uniform(15.0, 35.0))  # % saturation lost at the peak
                elif etype == "oxygen_depletion":
                    mag = float(rng.uniform(30.0, 50.0))
                else:
                    mag = float(rng.uniform(15.0, 35.0))  # wind m/s
                rows.append((k, a, int(s), min(int(s) + dur, N_DAYS), mag))
    rows.sort(key=lambda r: (r[2], r[1], r[0]))
    arr = np.array(rows, dtype=float).reshape(-1, 5)
    return {"type": arr[:, 0].astype(int), "area": arr[:, 1].astype(int), "start": arr[:, 2].astype(int),
            "end": arr[:, 3].astype(int), "magnitude": arr[:, 4]}


def build_climate(seed: int, area_geo: np.ndarray, area_lat: np.ndarray, station_geo: np.ndarray) -> Climate:
    rng = stream(seed, "climate")
    na, ns = len(area_geo), len(station_geo)
    p = np.array([SEA[g] for g in area_geo]).reshape(na, 5)
    site_offset = rng.normal(0.0, 0.2, na)
    year_anom = rng.normal(0.0, 0.22, (2, len(np.unique(YEAR))))[area_geo][:, YEAR - YEAR[0]]
    temp = seasonal(p[:, 0] + site_offset, p[:, 1], p[:, 2]) + year_anom + ar1(rng, (na, N_DAYS), 0.93, 0.35)
    sal = p[:, 3][:, None] + ar1(rng, (na, N_DAYS), 0.8, 1.0) * p[:, 4][:, None]
    o2 = 92.0 - 1.2 * (temp - p[:, 0][:, None]) + ar1(rng, (na, N_DAYS), 0.85, 2.0)
    mort = np.zeros((na, N_DAYS))
    feed = np.ones((na, N_DAYS))
    ev = _events(seed, area_geo)
    for t, a, s, e, mag in zip(ev["type"], ev["area"], ev["start"], ev["end"], ev["magnitude"]):
        shape = np.sin(np.linspace(0.15, np.pi - 0.15, e - s))  # ramps in and out
        if EVENT_TYPES[t] == "storm":
            feed[a, s:e] = 0.0
            mort[a, s:e] += 0.0004 * mag / 25
            sal[a, s:e] -= 2.5 * p[a, 4] * shape
        elif EVENT_TYPES[t] == "algae_bloom":
            o2[a, s:e] -= mag * shape
            mort[a, s:e] += 0.0015 * shape
            feed[a, s:e] = np.minimum(feed[a, s:e], 0.5)
        elif EVENT_TYPES[t] == "temperature_anomaly":
            temp[a, s:e] += mag * shape
            mort[a, s:e] += 0.0002 * shape * (mag > 0)
        else:
            o2[a, s:e] -= mag * shape
            mort[a, s:e] += 0.002 * shape
            feed[a, s:e] = np.minimum(feed[a, s:e], 0.3)
    g = np.array([FRESH] * ns)
    fresh = seasonal(g[:, 0] + rng.normal(0, 0.4, ns), g[:, 1], g[:, 2]) + ar1(rng, (ns, N_DAYS), 0.9, 0.5)
    ras = RAS_C + rng.normal(0, 0.5, ns)[:, None] + ar1(rng, (ns, N_DAYS), 0.7, 0.15)
    sal_lo, sal_hi = np.array([SALINITY_RANGE[g] for g in area_geo]).reshape(na, 2).T
    # docs/domain.md §7: never above 18 C at sea, readings included (their daily cycle adds up to ~0.5 C)
    return Climate(sea_temp=np.clip(temp, 2.0, 17.2).astype(np.float32),
                   sea_salinity=np.clip(sal, sal_lo[:, None], sal_hi[:, None]).astype(np.float32),
                   sea_o2_sat=np.clip(o2, 35.0, 115.0).astype(np.float32),
                   fresh_temp=np.clip(fresh, 3.5, 16.0).astype(np.float32),
                   ras_temp=ras.astype(np.float32), env_mortality=mort.astype(np.float32),
                   feed_factor=feed.astype(np.float32), events=ev)
