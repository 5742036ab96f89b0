"""Rare severe pen losses (REFERENCE 5.6): an incident follows its cause (the site's storm or bloom,
a predator), is booked under that cause, and leaves most pen-months low."""
from __future__ import annotations

import numpy as np
import pytest

from aquamind_assets.config.scenario import load_scenario
from aquamind_assets.sim import biology as bio
from aquamind_assets.sim.calendar import MONTH, N_DAYS, YEAR, day_of
from aquamind_assets.sim.climate import EVENT_TYPES
from aquamind_assets.sim.incidents import draw_incidents
from aquamind_assets.sim.plan import build_plan
from aquamind_assets.sim.reference import CAUSE_ID
from aquamind_assets.sim.sea import MAX_SEA_DAYS, run_sea

START = day_of("2018-05-01")
BLOOM = (START + 60, START + 74)


def _events(site_types: list[tuple[str, int, int, int, float]]) -> dict[str, np.ndarray]:
    rows = np.array([(EVENT_TYPES.index(t), a, s, e, m) for t, a, s, e, m in site_types], float).reshape(-1, 5)
    return {"type": rows[:, 0].astype(int), "area": rows[:, 1].astype(int), "start": rows[:, 2].astype(int),
            "end": rows[:, 3].astype(int), "magnitude": rows[:, 4]}


def test_a_bloom_harms_some_pens_of_its_own_site_only_while_it_lasts():
    events = _events([("algae_bloom", 0, *BLOOM, 30.0), ("algae_bloom", 1, START + 100, START + 110, 30.0)])
    inc = draw_incidents(np.random.default_rng(1), 0, 400, START, 200, events, area_index=0)
    during = inc.rate[:, BLOOM[0] - START:BLOOM[1] - START]
    hit = during.sum(axis=1) > 0
    assert 0.05 < hit.mean() < 0.5  # some pens, not the whole site
    lost = 1 - np.exp(-during[hit].sum(axis=1))
    assert lost.min() >= 0.015 and lost.max() <= 0.2
    assert (inc.cause[:, BLOOM[0] - START:BLOOM[1] - START][hit] == CAUSE_ID["ENVIRONMENTAL"] - 1).mean() > 0.95
    assert not inc.rate[:, 100:110][inc.cause[:, 100:110] != CAUSE_ID["PREDATION"] - 1].any()  # the other site's


def test_a_weak_storm_leaves_the_nets_whole():
    events = _events([("storm", 0, START + 20, START + 22, 16.0)])
    inc = draw_incidents(np.random.default_rng(2), 0, 400, START, 60, events, area_index=0)
    assert not inc.rate[:, 20:22][inc.cause[:, 20:22] == CAUSE_ID["ENVIRONMENTAL"] - 1].any()


def test_a_pen_hit_by_a_bloom_loses_its_fish_under_the_environmental_cause():
    events = _events([("algae_bloom", 0, *BLOOM, 30.0)])
    inc = draw_incidents(np.random.default_rng(3), 0, 12, START, MAX_SEA_DAYS, events, area_index=0)
    hit = inc.rate[:, BLOOM[0] - START:BLOOM[1] - START].sum(axis=1) > 0
    assert hit.any() and not hit.all()
    temp, zeros, ones = np.full(N_DAYS, 9.0), np.zeros(N_DAYS), np.ones(N_DAYS)
    run = run_sea(np.random.default_rng(4), 0, START, np.full(12, 100_000), 300.0, 3.0, 5500.0, temp, zeros, ones,
                  0.4, [], incidents=inc)
    window = slice(BLOOM[0] - START, BLOOM[1] - START + 1)
    loss = run.deaths_event[:, window].sum(axis=1) / run.pop[:, BLOOM[0] - START]
    assert loss[hit].min() >= 0.01 and loss[~hit].max() < 0.002
    env = run.event_cause[:, window] == CAUSE_ID["ENVIRONMENTAL"] - 1
    assert run.deaths_event[hit][:, window][env[hit]].sum() > 0.9 * run.deaths_event[hit][:, window].sum()


@pytest.fixture(scope="module")
def plan():
    return build_plan(load_scenario(scale="small"))


def test_pen_months_are_right_skewed_with_rare_severe_losses_of_a_known_cause(plan):
    a, d = plan.assignment, plan.daily
    stage = np.repeat(a["stage"], a["length"])
    sea = (stage == bio.ADULT) & (YEAR[d["day"]] >= 2015)
    deaths = d["base"][sea].astype(np.int64) + d["event"][sea]
    key = a["container"][d["assignment"][sea] - 1].astype(np.int64) * 10**4 + YEAR[d["day"][sea]] * 12 + MONTH[d["day"][sea]]
    keys, inv = np.unique(key, return_inverse=True)
    pop = np.zeros(len(keys))
    np.maximum.at(pop, inv, d["pop"][sea])
    share = np.bincount(inv, deaths) / np.maximum(pop, 1)
    assert np.median(share) < 0.015
    severe = share >= 0.05
    assert 0 < severe.mean() < 0.05 and share.max() <= 0.2
    # the severe months' event deaths carry a cause other than unknown
    ev = np.bincount(inv, d["event"][sea] * (d["ecause"][sea] != CAUSE_ID["UNKNOWN"] - 1))
    assert (ev[severe] > 0.5 * np.bincount(inv, deaths)[severe]).mean() > 0.8
