"""A freshwater stage's losses (REFERENCE 5.1-5.2): the median unit-month is quiet, a few unit-weeks
carry the episodes, and the stage as a whole keeps the scenario's survival."""
from __future__ import annotations

import numpy as np

from aquamind_assets.sim import biology as bio
from aquamind_assets.sim.calendar import DOY, day_of
from aquamind_assets.sim.freshwater import run_stage
from aquamind_assets.sim.schedule import stage_mortality_rate

START = day_of("2019-03-01")


def _parr(seed: int, units: int = 300):
    rate = stage_mortality_rate(0.93, 90)
    temps = np.full((units, 400), 11.0)
    run = run_stage(np.random.default_rng(seed), bio.PARR, START, np.full(units, 20_000), 5.0, temps, 2.0, 45.0, rate)
    return run, rate


def test_most_unit_months_are_quiet_and_a_few_carry_the_losses():
    run, _ = _parr(1)
    deaths = run.deaths_base + run.deaths_event
    months = [deaths[:, m:m + 30].sum(axis=1) / run.pop[:, m] for m in range(0, deaths.shape[1] - 29, 30)]
    share = np.concatenate(months)
    assert np.median(share) < 0.0035
    assert np.mean(share) > 3 * np.median(share)  # right-skewed: the mean is the episodes'
    assert share.max() > 0.05


def test_the_stage_keeps_the_scenarios_survival():
    run, rate = _parr(2)
    days = run.end - run.start
    season = 1.0 + 0.3 * np.cos(2 * np.pi * (DOY[START:START + days] - 200) / 365.25)
    steady = np.exp(-rate * season.sum())
    survival = run.exit_pop.sum() / (20_000 * len(run.exit_pop))
    assert abs(survival - steady) < 0.01, (survival, steady)
