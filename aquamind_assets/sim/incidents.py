"""Rare severe losses in single sea pens (docs/domain.md §5.6): most pen-months are quiet, a few lose
5-20 % of their fish to one incident.

A storm tears or deforms a pen's net, an algae bloom or an oxygen depletion suffocates the fish of
the pens it drifts through, a seal breaks in. Storms and blooms are the site's own climate events
(the event table), so a loss follows an event recorded there; predators are drawn per pen-month.
Disease (uneven between pens, see `pen_severity`) and treatment mishaps (sea.py) add the other tails.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .calendar import N_DAYS
from .climate import EVENT_TYPES
from .reference import CAUSE_ID

ENVIRONMENTAL, PREDATION = CAUSE_ID["ENVIRONMENTAL"] - 1, CAUSE_ID["PREDATION"] - 1
# event type: (share of the site's pens hit, lowest, highest share of a hit pen's fish lost)
EVENT_HARM = {"storm": (0.05, 0.03, 0.08), "algae_bloom": (0.15, 0.02, 0.09), "oxygen_depletion": (0.15, 0.02, 0.08)}
STORM_HARM_MIN_WIND = 28.0  # m/s: weaker storms stop the feeding but leave the nets whole
PREDATION_PER_PEN_MONTH = {0: 0.002, 1: 0.005}  # Scottish sites see more seal attacks
PREDATION_LOSS = (0.02, 0.07)


@dataclass
class Incidents:
    """Extra daily mortality per pen and day of the sea phase, with the cause of those deaths."""

    rate: np.ndarray  # [pens, days] extra daily mortality fraction
    cause: np.ndarray  # [pens, days] reference.MORTALITY_CAUSES index where rate > 0

    def on(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        return self.rate[:, i], self.cause[:, i]


def _spread(share: float, days: int) -> float:
    """Daily rate that takes `share` of the fish over `days` days."""
    return -np.log1p(-share) / max(days, 1)


def draw_incidents(rng: np.random.Generator, geo: int, n_pens: int, start: int, length: int,
                   events: dict[str, np.ndarray], area_index: int) -> Incidents:
    """The pens' incidents over `length` days from the sea transfer on `start`."""
    rate, cause = np.zeros((n_pens, length)), np.full((n_pens, length), ENVIRONMENTAL, np.int8)
    site = (events["area"] == area_index) & (events["end"] > start) & (events["start"] < start + length)
    for t, s, e, mag in zip(events["type"][site], events["start"][site], events["end"][site], events["magnitude"][site]):
        harm = EVENT_HARM.get(EVENT_TYPES[t])
        if harm is None or (EVENT_TYPES[t] == "storm" and mag < STORM_HARM_MIN_WIND):
            continue
        hit = rng.random(n_pens) < harm[0]
        shares = rng.uniform(harm[1], harm[2], n_pens)
        lo, hi = max(s - start, 0), min(e - start, length)
        for p in np.flatnonzero(hit):
            rate[p, lo:hi] += _spread(shares[p], e - s)
    months = max(1, length // 30)
    attacked = rng.random((n_pens, months)) < PREDATION_PER_PEN_MONTH[geo]
    for p, m in zip(*np.nonzero(attacked)):
        days = int(rng.integers(1, 6))
        lo = m * 30 + int(rng.integers(0, 25))
        hi = min(lo + days, length, N_DAYS - start)
        rate[p, lo:hi] += _spread(rng.uniform(*PREDATION_LOSS), days)
        cause[p, lo:hi] = PREDATION
    return Incidents(rate, cause)


def pen_severity(rng: np.random.Generator, n_pens: int) -> np.ndarray:
    """How hard a disease outbreak hits each pen, mean ~1: a few pens suffer most of the losses."""
    return rng.lognormal(-0.245, 0.7, n_pens)
